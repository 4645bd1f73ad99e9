package checks

import (
	"context"
	"fmt"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

func sc009() Check {
	return Check{
		ID:         "SC-009",
		Title:      "A PoC service uses Vault secrets",
		Proves:     "The secret store reaches Vault, every ExternalSecret is synced (or the Vault agent runs) and a Ready PoC pod consumes the secret.",
		Hint:       "See specs/003-nomad-to-kubernetes SC-009: kubectl describe clustersecretstore / externalsecret shows Vault's answer; the vault stage (migrate-tui apply --stage vault) sets up Kubernetes auth.",
		Eventually: true,
		Run:        runSC009,
	}
}

// condition returns status, reason and message of condition typ.
func condition(u unstructured.Unstructured, typ string) (status, reason, message string) {
	conds, _, _ := unstructured.NestedSlice(u.Object, "status", "conditions")
	for _, c := range conds {
		m, _ := c.(map[string]any)
		if t, _ := m["type"].(string); t == typ {
			status, _ = m["status"].(string)
			reason, _ = m["reason"].(string)
			message, _ = m["message"].(string)
			return
		}
	}
	return "", "", ""
}

func runSC009(ctx context.Context, d *Deps) Result {
	s := d.Snapshot()
	pods, err := s.PoCPods(ctx)
	if err != nil {
		return apiFail("Pods", err)
	}
	// On simulated nodes no controller runs (ESO's HelmChart, Vault's
	// injector webhook): what only a controller would write is unobservable
	// there. A controller's own "no" is a failure everywhere.
	sim := d.simulated(ctx)
	if d.Decisions.VaultMethod == "agent-injector" {
		return sc009Injector(pods, s.Namespace(), sim)
	}
	stores, err := s.List(ctx, gvrClusterSecretStore, "")
	if err != nil {
		if sim && !IsUnreachable(err) {
			return unobservable("cannot be observed here: the nodes are simulated (KWOK), External Secrets' HelmChart never ran and its types are not served ("+err.Error()+")", sc009RealHint)
		}
		return apiFail("ClusterSecretStores (external-secrets.io/v1)", err)
	}
	ess, err := s.List(ctx, gvrExternalSecret, s.Namespace())
	if err != nil {
		return apiFail("ExternalSecrets (external-secrets.io/v1) in "+s.Namespace(), err)
	}
	var problems, checked, unreconciled []string
	if len(stores) == 0 {
		problems = append(problems, "no ClusterSecretStore exists")
	}
	for _, st := range stores {
		status, reason, msg := condition(st, "Ready")
		if status == "True" {
			checked = append(checked, fmt.Sprintf("ClusterSecretStore %s Ready", st.GetName()))
		} else if status == "" {
			unreconciled = append(unreconciled, fmt.Sprintf("ClusterSecretStore %s has no Ready condition: no External Secrets controller has looked at it", st.GetName()))
		} else {
			problems = append(problems, fmt.Sprintf("ClusterSecretStore %s not Ready (%s %s)", st.GetName(), orDash(reason), msg))
		}
	}
	if len(ess) == 0 {
		problems = append(problems, "no ExternalSecret in namespace "+s.Namespace())
	}
	consumed := 0
	for _, es := range ess {
		status, reason, msg := condition(es, "Ready")
		target, _, _ := unstructured.NestedString(es.Object, "spec", "target", "name")
		if target == "" {
			target = es.GetName()
		}
		if status == "" {
			unreconciled = append(unreconciled, fmt.Sprintf("ExternalSecret %s has no Ready condition: no External Secrets controller has synced it", es.GetName()))
			continue
		}
		if status != "True" || reason != "SecretSynced" {
			problems = append(problems, fmt.Sprintf("ExternalSecret %s not synced (Ready=%s %s %s)", es.GetName(), orDash(status), orDash(reason), msg))
			continue
		}
		users := podsUsingSecret(pods, target)
		if len(users) == 0 {
			problems = append(problems, fmt.Sprintf("ExternalSecret %s synced into Secret %s, but no Ready PoC pod uses it", es.GetName(), target))
			continue
		}
		consumed++
		checked = append(checked, fmt.Sprintf("ExternalSecret %s synced into Secret %s, used by %s", es.GetName(), target, strings.Join(users, ", ")))
	}
	if len(problems) == 0 && len(unreconciled) > 0 && sim {
		return unobservable("cannot be observed here: the nodes are simulated (KWOK), so External Secrets does not run and cannot talk to Vault.\n"+join(unreconciled, strings.Join(checked, "\n")), sc009RealHint)
	}
	problems = append(problems, unreconciled...)
	if len(problems) > 0 {
		return fail(join(problems, strings.Join(checked, "\n")),
			"kubectl -n "+s.Namespace()+" describe externalsecret shows Vault's answer: \"permission denied\" means the Kubernetes auth role or token reviewer (migrate-tui apply --stage vault); a secret unused means the pod spec does not reference it.")
	}
	return pass(strings.Join(checked, "\n"))
}

// sc009RealHint is the next step where SC-009 cannot be observed.
const sc009RealHint = "On the real cluster: migrate-tui apply --stage vault, then migrate-tui check --only SC-009."

func sc009Injector(pods []corev1.Pod, ns string, sim bool) Result {
	var checked, problems []string
	for _, p := range pods {
		if p.Annotations["vault.hashicorp.com/agent-inject"] != "true" {
			continue
		}
		ok := false
		for _, cs := range append(append([]corev1.ContainerStatus{}, p.Status.ContainerStatuses...), p.Status.InitContainerStatuses...) {
			if cs.Name == "vault-agent" && cs.Ready {
				ok = true
			}
		}
		if ok {
			checked = append(checked, p.Name+": vault-agent running")
		} else {
			problems = append(problems, p.Name+": annotated for injection but no Ready vault-agent container")
		}
	}
	if len(checked)+len(problems) == 0 {
		return fail("no PoC pod in "+ns+" is annotated vault.hashicorp.com/agent-inject=true", "The services stage annotates pods for the Vault injector (migrate-tui apply --stage services).")
	}
	if len(problems) > 0 && sim {
		return unobservable("cannot be observed here: the nodes are simulated (KWOK), so Vault's injector webhook adds no vault-agent.\n"+join(problems, strings.Join(checked, "\n")), sc009RealHint)
	}
	if len(problems) > 0 {
		return fail(join(problems, strings.Join(checked, "\n")), "kubectl logs <pod> -c vault-agent-init says why Vault refused; check the Kubernetes auth role (migrate-tui apply --stage vault).")
	}
	return pass(strings.Join(checked, "\n"))
}

// podsUsingSecret lists Ready pods that reference secret by env, envFrom or volume.
func podsUsingSecret(pods []corev1.Pod, secret string) []string {
	var out []string
	for _, p := range pods {
		if !podReady(p) || p.DeletionTimestamp != nil {
			continue
		}
		if podUsesSecret(p.Spec, secret) {
			out = append(out, p.Name)
		}
	}
	return out
}

func podUsesSecret(spec corev1.PodSpec, secret string) bool {
	for _, v := range spec.Volumes {
		if v.Secret != nil && v.Secret.SecretName == secret {
			return true
		}
		if v.Projected != nil {
			for _, src := range v.Projected.Sources {
				if src.Secret != nil && src.Secret.Name == secret {
					return true
				}
			}
		}
	}
	for _, c := range append(append([]corev1.Container{}, spec.InitContainers...), spec.Containers...) {
		for _, e := range c.EnvFrom {
			if e.SecretRef != nil && e.SecretRef.Name == secret {
				return true
			}
		}
		for _, e := range c.Env {
			if e.ValueFrom != nil && e.ValueFrom.SecretKeyRef != nil && e.ValueFrom.SecretKeyRef.Name == secret {
				return true
			}
		}
	}
	return false
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
