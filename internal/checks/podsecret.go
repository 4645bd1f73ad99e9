package checks

import corev1 "k8s.io/api/core/v1"

// PodSpecUsesSecret reports whether a pod spec references secret by env,
// envFrom or volume (projected too): the cutover's secrets check asks it of
// a workload's pod template, SC-009 of running pods.
func PodSpecUsesSecret(spec corev1.PodSpec, secret string) bool { return podUsesSecret(spec, secret) }
