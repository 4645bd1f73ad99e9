package testworld

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	corev1 "k8s.io/api/core/v1"
	storagev1 "k8s.io/api/storage/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// The local-path provisioner as K3s deploys it (its manifests/local-storage.yaml):
// in kube-system, configured by the ConfigMap local-path-config, helper pods
// under the service account local-path-provisioner-service-account, and the
// default StorageClass local-path.
const (
	LocalPathStorageClass = "local-path"
	localPathProvisioner  = "rancher.io/local-path"
	localPathNamespace    = "kube-system"
	localPathConfigMap    = "local-path-config"
	localPathSA           = "local-path-provisioner-service-account"
	localPathHelperImage  = "rancher/mirrored-library-busybox:1.36.1"
	// localPathHelperContainer names the helper pod's container; the KWOK
	// stage below completes pods by it.
	localPathHelperContainer = "helper-pod"
)

// K3s's nodePathMap: every node keeps volumes under its storage directory.
// cmdTimeoutSeconds (default 120) is how long the provisioner waits for a
// helper pod to succeed; KWOK on a busy two-core machine was seen to take
// close to two minutes to start one, so allow ten.
const localPathConfigJSON = `{
  "nodePathMap": [
    {"node": "DEFAULT_PATH_FOR_NON_LISTED_NODES", "paths": ["/var/lib/rancher/k3s/storage"]}
  ],
  "cmdTimeoutSeconds": 600
}
`

// K3s's helper pod, plus KWOK annotations so it runs without KWOK's
// default start delay (the provisioner polls it once a second).
const localPathHelperPod = `apiVersion: v1
kind: Pod
metadata:
  name: helper-pod
  annotations:
    pod-ready.stage.kwok.x-k8s.io/delay: "0"
    pod-ready.stage.kwok.x-k8s.io/jitter-delay: "0"
spec:
  containers:
  - name: ` + localPathHelperContainer + `
    image: ` + localPathHelperImage + `
    imagePullPolicy: IfNotPresent
`

// K3s's setup and teardown scripts (what the helper pods would run on a real
// node; under KWOK nothing runs them, the stage below completes the pods).
const (
	localPathSetup = `#!/bin/sh
set -eu
mkdir -m 0777 -p "${VOL_DIR}"
chmod 700 "${VOL_DIR}/.."
`
	localPathTeardown = `#!/bin/sh
set -eu
rm -rf "${VOL_DIR}"
`
)

// kwokLocalPathHelperStage completes the provisioner's helper pods. KWOK's
// own pod-complete stage only completes pods owned by a Job; the helper pods
// are bare pods (restartPolicy Never, in kube-system, one container named
// helper-pod) that the provisioner waits to see Succeeded. This extra Stage
// is ours, not KWOK's: it matches exactly those pods once Running and Ready
// and gives them pod-complete's Succeeded status.
const kwokLocalPathHelperStage = `apiVersion: kwok.x-k8s.io/v1alpha1
kind: Stage
metadata:
  name: pod-complete-local-path-helper
spec:
  resourceRef:
    apiGroup: v1
    kind: Pod
  selector:
    matchExpressions:
    - key: '.metadata.deletionTimestamp'
      operator: 'DoesNotExist'
    - key: '.metadata.namespace'
      operator: 'In'
      values:
      - '` + localPathNamespace + `'
    - key: '.spec.restartPolicy'
      operator: 'In'
      values:
      - 'Never'
    - key: '.spec.containers.[].name'
      operator: 'In'
      values:
      - '` + localPathHelperContainer + `'
    - key: '.status.phase'
      operator: 'In'
      values:
      - 'Running'
    - key: '.status.conditions.[] | select( .type == "Ready" ) | .status'
      operator: 'In'
      values:
      - 'True'
  weight: 1
  delay:
    durationMilliseconds: 200
  next:
    delete: false
    statusTemplate: |
      {{ $now := Now }}
      containerStatuses:
      {{ range $index, $item := .spec.containers }}
      - image: {{ $item.image | Quote }}
        name: {{ $item.name | Quote }}
        ready: false
        restartCount: 0
        started: false
        state:
          terminated:
            exitCode: 0
            finishedAt: {{ $now | Quote }}
            reason: Completed
            startedAt: {{ $now | Quote }}
      {{ end }}
      phase: Succeeded
`

// startLocalPath creates what K3s's local-storage manifest creates (the
// service account, the ConfigMap, the default StorageClass local-path) and
// runs the real local-path-provisioner natively against the world.
func (w *World) startLocalPath(ctx context.Context, bins map[string]string) error {
	cfgPath := filepath.Join(w.Dir, "local-path-config.json")
	if err := os.WriteFile(cfgPath, []byte(localPathConfigJSON), 0o644); err != nil {
		return err
	}
	sa := &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: localPathSA, Namespace: localPathNamespace}}
	if _, err := w.Client.CoreV1().ServiceAccounts(localPathNamespace).Create(ctx, sa, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
		return fmt.Errorf("local-path: create service account %s/%s: %w", localPathNamespace, localPathSA, err)
	}
	cm := &corev1.ConfigMap{
		ObjectMeta: metav1.ObjectMeta{Name: localPathConfigMap, Namespace: localPathNamespace},
		Data: map[string]string{
			"config.json":    localPathConfigJSON,
			"helperPod.yaml": localPathHelperPod,
			"setup":          localPathSetup,
			"teardown":       localPathTeardown,
		},
	}
	if _, err := w.Client.CoreV1().ConfigMaps(localPathNamespace).Create(ctx, cm, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
		return fmt.Errorf("local-path: create ConfigMap %s/%s: %w", localPathNamespace, localPathConfigMap, err)
	}
	wait := storagev1.VolumeBindingWaitForFirstConsumer
	reclaim := corev1.PersistentVolumeReclaimDelete
	sc := &storagev1.StorageClass{
		ObjectMeta: metav1.ObjectMeta{
			Name:        LocalPathStorageClass,
			Annotations: map[string]string{"storageclass.kubernetes.io/is-default-class": "true"},
		},
		Provisioner:       localPathProvisioner,
		VolumeBindingMode: &wait,
		ReclaimPolicy:     &reclaim,
	}
	if _, err := w.Client.StorageV1().StorageClasses().Create(ctx, sc, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
		return fmt.Errorf("local-path: create StorageClass %s: %w", LocalPathStorageClass, err)
	}
	// The helper pod template comes from the ConfigMap, as in K3s.
	return w.run("local-path-provisioner", bins["local-path-provisioner"],
		"start",
		"--kubeconfig="+w.Kubeconfig,
		"--namespace="+localPathNamespace,
		"--config="+cfgPath,
		"--configmap-name="+localPathConfigMap,
		"--service-account-name="+localPathSA,
		"--helper-image="+localPathHelperImage,
		"--provisioner-name="+localPathProvisioner,
	)
}
