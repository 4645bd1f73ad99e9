package checks

import (
	"context"
	"fmt"
	"strings"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

func sc008() Check {
	return Check{
		ID:     "SC-008",
		Title:  "mTLS between PoC services",
		Proves: "The chosen mesh encrypts and authenticates traffic between at least two PoC services, and a call its policy forbids is refused.",
		Hint:   "See specs/003-nomad-to-kubernetes SC-008: the mesh stage (migrate-tui apply --stage mesh) installs the mesh and the echo policy (only whoami may call echo).",
		Run:    runSC008,
	}
}

// The mesh partners: only the caller may reach the callee.
const (
	meshCaller = "whoami"
	meshCallee = "echo"
)

func runSC008(ctx context.Context, d *Deps) Result {
	mesh := d.Decisions.ServiceMesh
	if mesh == "none" || mesh == "" {
		return fail("service_mesh = none: nothing gives mTLS between services", "Choose a mesh (cilium, linkerd or istio-ambient) with migrate-tui decide, then migrate-tui apply --stage mesh.")
	}
	if !d.Decisions.Has(meshCaller) || !d.Decisions.Has(meshCallee) {
		return skip(fmt.Sprintf("SC-008 needs both %s and %s among the PoC services", meshCaller, meshCallee), "Add whoami and echo to poc_services with migrate-tui decide.")
	}
	if d.Kube == nil {
		return apiFail("the mesh's configuration", errNoDynamic)
	}
	s := d.Snapshot()
	// absent is what the mesh's own install (a HelmChart, a DaemonSet)
	// would have made; problems are wrong configuration. On simulated nodes
	// the install cannot run, so absent alone is unobservable, not a failure.
	var checked, problems, absent []string
	switch mesh {
	case "cilium":
		cm, err := d.Kube.CoreV1().ConfigMaps("kube-system").Get(ctx, "cilium-config", metav1.GetOptions{})
		switch {
		case apierrors.IsNotFound(err):
			absent = append(absent, "ConfigMap kube-system/cilium-config not found: Cilium is not installed")
		case err != nil:
			return apiFail("ConfigMap kube-system/cilium-config", err)
		default:
			if cm.Data["enable-wireguard"] == "true" || cm.Data["enable-ipsec"] == "true" {
				checked = append(checked, "Cilium transparent encryption on (cilium-config enable-wireguard/enable-ipsec)")
			} else {
				problems = append(problems, "cilium-config has neither enable-wireguard nor enable-ipsec set to true: traffic between nodes is not encrypted")
			}
		}
		pols, err := s.List(ctx, gvrCiliumPolicy, s.Namespace())
		if err != nil {
			if IsUnreachable(err) {
				return apiFail("CiliumNetworkPolicies", err)
			}
			absent = append(absent, "CiliumNetworkPolicy type not served: Cilium's CRDs are missing")
		} else if p := policySelecting(pols, meshCallee, "endpointSelector"); p != "" {
			checked = append(checked, fmt.Sprintf("CiliumNetworkPolicy %s selects %s", p, meshCallee))
		} else {
			problems = append(problems, fmt.Sprintf("no CiliumNetworkPolicy in %s selects %s, so nothing forbids other callers", s.Namespace(), meshCallee))
		}
	case "linkerd":
		pods, err := s.PoCPods(ctx)
		if err != nil {
			return apiFail("Pods", err)
		}
		for _, svc := range []string{meshCaller, meshCallee} {
			if podsWithContainer(pods, svc, "linkerd-proxy") == 0 {
				absent = append(absent, fmt.Sprintf("%s: no pod with a linkerd-proxy container (injection off for namespace %s?)", svc, s.Namespace()))
			} else {
				checked = append(checked, svc+" pods have linkerd-proxy injected")
			}
		}
		pols, err := s.List(ctx, gvrLinkerdAuthz, s.Namespace())
		if err == nil && len(pols) > 0 {
			checked = append(checked, fmt.Sprintf("%d Linkerd AuthorizationPolicy object(s)", len(pols)))
		} else if IsUnreachable(err) {
			return apiFail("Linkerd AuthorizationPolicies", err)
		} else if err != nil {
			absent = append(absent, "Linkerd AuthorizationPolicy type not served: Linkerd's CRDs are missing")
		} else {
			problems = append(problems, "no Linkerd AuthorizationPolicy in "+s.Namespace()+" restricts who may call "+meshCallee)
		}
	case "istio-ambient":
		pas, err := s.List(ctx, gvrPeerAuthentication, "")
		if IsUnreachable(err) {
			return apiFail("PeerAuthentications", err)
		}
		if err != nil {
			absent = append(absent, "PeerAuthentication type not served: Istio's CRDs are missing")
		}
		strict := false
		for _, pa := range pas {
			if m, _, _ := unstructured.NestedString(pa.Object, "spec", "mtls", "mode"); m == "STRICT" && (pa.GetNamespace() == s.Namespace() || pa.GetNamespace() == "istio-system") {
				strict = true
				checked = append(checked, fmt.Sprintf("PeerAuthentication %s/%s is STRICT", pa.GetNamespace(), pa.GetName()))
			}
		}
		if !strict && err == nil {
			problems = append(problems, "no STRICT PeerAuthentication in "+s.Namespace()+" or istio-system")
		}
		aps, err := s.List(ctx, gvrAuthzPolicy, s.Namespace())
		if IsUnreachable(err) {
			return apiFail("AuthorizationPolicies", err)
		}
		if p := policySelecting(aps, meshCallee, "selector"); p != "" {
			checked = append(checked, fmt.Sprintf("AuthorizationPolicy %s selects %s", p, meshCallee))
		} else {
			problems = append(problems, "no Istio AuthorizationPolicy in "+s.Namespace()+" selects "+meshCallee)
		}
	default:
		return fail(fmt.Sprintf("service_mesh = %q is not one migrate-tui knows", mesh), "Choose cilium, linkerd or istio-ambient with migrate-tui decide.")
	}
	if len(problems) > 0 {
		return fail(join(append(problems, absent...), strings.Join(checked, "; ")), "")
	}
	sim := d.simulated(ctx)
	if len(absent) > 0 && sim {
		return unobservable("cannot be observed here: the nodes are simulated (KWOK) and run no mesh data plane, so the mesh's install never ran.\n"+join(absent, strings.Join(checked, "; ")),
			"On the real cluster: migrate-tui apply --stage mesh, then "+meshEvidenceHint(mesh))
	}
	if len(absent) > 0 {
		return fail(join(absent, strings.Join(checked, "; ")), "")
	}
	if d.Exec == nil && sim {
		return unobservable(fmt.Sprintf("cannot be observed here: the nodes are simulated (KWOK), so no pod can be exec'd and neither mTLS on the wire nor a refused call can be seen. Checked: %s", strings.Join(checked, "; ")),
			"On the real cluster: "+meshEvidenceHint(mesh))
	}
	if d.Exec == nil {
		return warn(fmt.Sprintf("cannot be observed here: no data plane can be reached (pods cannot be exec'd), so neither mTLS on the wire nor a refused call was seen. Checked: %s", strings.Join(checked, "; ")),
			"On the real cluster: "+meshEvidenceHint(mesh))
	}
	allowed, denied, err := probeForbiddenCall(ctx, d)
	if err != nil {
		return warn(fmt.Sprintf("the call probe could not run: %v. Checked: %s", err, strings.Join(checked, "; ")), meshEvidenceHint(mesh))
	}
	if !denied {
		return fail(fmt.Sprintf("a call to %s from a pod that is not %s was answered: the policy does not refuse it. Checked: %s", meshCallee, meshCaller, strings.Join(checked, "; ")),
			"The policy for "+meshCallee+" must allow only "+meshCaller+"; re-apply migrate-tui apply --stage mesh.")
	}
	if !allowed {
		return fail(fmt.Sprintf("%s could not call %s either: the policy refuses everything. Checked: %s", meshCaller, meshCallee, strings.Join(checked, "; ")), "")
	}
	checked = append(checked, fmt.Sprintf("%s -> %s answered; another pod -> %s refused", meshCaller, meshCallee, meshCallee))
	return pass(strings.Join(checked, "; "))
}

func meshEvidenceHint(mesh string) string {
	switch mesh {
	case "cilium":
		return "cilium encrypt status on a node, and hubble observe --to-label app=echo --verdict DROPPED while calling echo from another pod."
	case "linkerd":
		return "linkerd viz edges deploy -n poc shows SECURED edges; a call from an unauthorised pod gets 403."
	default:
		return "istioctl x describe pod shows STRICT mTLS; a call from an unauthorised pod gets RBAC: access denied."
	}
}

// probeForbiddenCall calls echo from whoami (allowed) and from another PoC
// pod (forbidden) through Exec.
func probeForbiddenCall(ctx context.Context, d *Deps) (allowed, denied bool, err error) {
	s := d.Snapshot()
	pods, err := s.PoCPods(ctx)
	if err != nil {
		return false, false, err
	}
	var from, other *corev1.Pod
	for i := range pods {
		p := &pods[i]
		if !podReady(*p) {
			continue
		}
		switch {
		case belongsTo(meshCaller, "", p.Labels) && from == nil:
			from = p
		case !belongsTo(meshCallee, "", p.Labels) && !belongsTo(meshCaller, "", p.Labels) && other == nil:
			other = p
		}
	}
	if from == nil || other == nil {
		return false, false, fmt.Errorf("need a Ready %s pod and a Ready pod of another service to call %s from", meshCaller, meshCallee)
	}
	url := fmt.Sprintf("http://%s.%s.svc/", meshCallee, s.Namespace())
	call := []string{"wget", "-q", "-T", "5", "-O", "/dev/null", url}
	_, errAllowed := d.Exec.Exec(ctx, from.Namespace, from.Name, from.Spec.Containers[0].Name, call)
	_, errDenied := d.Exec.Exec(ctx, other.Namespace, other.Name, other.Spec.Containers[0].Name, call)
	return errAllowed == nil, errDenied != nil, nil
}

func podsWithContainer(pods []corev1.Pod, svc, container string) int {
	n := 0
	for _, p := range pods {
		if !belongsTo(svc, "", p.Labels) {
			continue
		}
		for _, c := range append(append([]corev1.Container{}, p.Spec.Containers...), p.Spec.InitContainers...) {
			if c.Name == container {
				n++
				break
			}
		}
	}
	return n
}

// policySelecting returns the name of a policy whose selector's matchLabels
// name svc.
func policySelecting(pols []unstructured.Unstructured, svc, field string) string {
	for _, p := range pols {
		ml, _, _ := unstructured.NestedStringMap(p.Object, "spec", field, "matchLabels")
		for k, v := range ml {
			if v == svc && (strings.HasSuffix(k, "app") || strings.HasSuffix(k, "app.kubernetes.io/name")) {
				return p.GetName()
			}
		}
	}
	return ""
}
