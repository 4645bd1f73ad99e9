package checks

import (
	"context"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// ContainerTarget is one container's VPA recommendation beside its requests,
// read from the VPA object's status as SC-002 reads it.
type ContainerTarget struct {
	Container string
	Target    corev1.ResourceList // empty: no recommendation yet
	Lower     corev1.ResourceList
	Upper     corev1.ResourceList
	Requests  corev1.ResourceList
}

// ServiceVPA is what the VPA says about one service's workload. Missing says
// why there is nothing to read (no workload, no VPA); it is "" otherwise.
type ServiceVPA struct {
	Service    string
	Workload   string // "Deployment whoami"
	VPA        string
	Containers []ContainerTarget
	Missing    string
}

// VPATargets reads the VPA recommendation of each service's workload in the
// PoC namespace (d.Decisions.Namespace()) with SC-002's matching: the
// Deployment or StatefulSet that belongs to the service, then the VPA whose
// targetRef names it. Right-sizing (internal/rightsize) reads it here so the
// two never disagree about which VPA sizes a service.
func VPATargets(ctx context.Context, d *Deps, services []string) ([]ServiceVPA, error) {
	dd := *d
	dd.Decisions.PoCServices = services
	dd.snap = nil // a fresh snapshot: the caller's may hold another run's lists
	wls, _, errR := pocWorkloads(ctx, &dd)
	if errR != nil {
		return nil, fmt.Errorf("%s", errR.Evidence)
	}
	s := dd.Snapshot()
	vpas, err := s.List(ctx, gvrVPA, s.Namespace())
	if err != nil {
		return nil, vpaListError(s.Namespace(), err)
	}
	out := make([]ServiceVPA, 0, len(services))
	for _, svc := range services {
		sv := ServiceVPA{Service: svc}
		w := wls[svc]
		if w == nil {
			sv.Missing = fmt.Sprintf("no Deployment or StatefulSet for %s in namespace %s", svc, s.Namespace())
			out = append(out, sv)
			continue
		}
		sv.Workload = w.Kind + " " + w.Name
		vpa := vpaFor(w, vpas)
		if vpa == nil {
			sv.Missing = fmt.Sprintf("no VerticalPodAutoscaler targets %s %s", w.Kind, w.Name)
			out = append(out, sv)
			continue
		}
		sv.VPA = vpa.GetName()
		recs := vpaRecommendations(vpa)
		for _, c := range w.Template.Spec.Containers {
			ct := ContainerTarget{Container: c.Name, Requests: c.Resources.Requests}
			if rec, ok := recs[c.Name]; ok {
				ct.Target, ct.Lower, ct.Upper = rec.target, rec.lower, rec.upper
			}
			sv.Containers = append(sv.Containers, ct)
		}
		out = append(out, sv)
	}
	return out, nil
}

// VPAServices names the workloads the PoC namespace's VPAs target: the
// services right-sizing can say something about without being told which.
func VPAServices(ctx context.Context, d *Deps) ([]string, error) {
	s := NewSnapshot(d.Kube, d.Dynamic, d.Decisions.Namespace())
	vpas, err := s.List(ctx, gvrVPA, s.Namespace())
	if err != nil {
		return nil, vpaListError(s.Namespace(), err)
	}
	var out []string
	for _, v := range vpas {
		if name, _, _ := unstructured.NestedString(v.Object, "spec", "targetRef", "name"); name != "" {
			out = append(out, name)
		}
	}
	return out, nil
}

// vpaListError says what listing the VPAs found and, when the type is not
// served, the next step.
func vpaListError(ns string, err error) error {
	if apierrors.IsNotFound(err) {
		return fmt.Errorf("listing VerticalPodAutoscalers in %s: the type is not served by this cluster (%v); install VPA with migrate-tui apply --stage vpa", ns, err)
	}
	return fmt.Errorf("listing VerticalPodAutoscalers in %s: %w", ns, err)
}
