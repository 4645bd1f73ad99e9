package checks

import (
	"context"
	"fmt"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// VPAWarmup is how long a VPA may go without a recommendation before SC-002
// fails (the spec: recommendations within 24 hours).
const VPAWarmup = 24 * time.Hour

func sc002() Check {
	return Check{
		ID:     "SC-002",
		Title:  "VPA recommends resources",
		Proves: "A VerticalPodAutoscaler covers every PoC workload and recommends target, lower and upper bounds for every container, set beside today's requests and the Nomad job's resources.",
		Hint:   "See specs/003-nomad-to-kubernetes SC-002: the recommender needs metrics-server and a few minutes of samples; kubectl -n kube-system logs deploy/vpa-recommender.",
		Run:    runSC002,
	}
}

type containerRec struct {
	target, lower, upper corev1.ResourceList
}

func runSC002(ctx context.Context, d *Deps) Result {
	s := d.Snapshot()
	if len(d.Decisions.Services()) == 0 {
		return skip("no PoC services chosen and no scaffolded service enabled", "Choose PoC services with migrate-tui decide, or scaffold one with migrate-tui scaffold JOB.")
	}
	wls, missing, errR := pocWorkloads(ctx, d)
	if errR != nil {
		return *errR
	}
	vpas, err := s.List(ctx, gvrVPA, s.Namespace())
	if err != nil {
		return apiFail("VerticalPodAutoscalers in "+s.Namespace(), err)
	}
	now := d.now()
	var failures, warmups, lines []string
	for _, svc := range missing {
		failures = append(failures, fmt.Sprintf("%s: no workload, so nothing for a VPA to size", svc))
	}
	for _, svc := range d.Decisions.Services() {
		w := wls[svc]
		if w == nil {
			continue
		}
		if w.Batch != "" {
			// The VPA recommender sizes long-running controllers only.
			lines = append(lines, fmt.Sprintf("%s: %s %s runs to completion; no VPA sizes it", svc, w.Kind, w.Name))
			continue
		}
		vpa := vpaFor(w, vpas)
		if vpa == nil {
			failures = append(failures, fmt.Sprintf("%s: no VerticalPodAutoscaler targets %s %s", svc, w.Kind, w.Name))
			continue
		}
		recs := vpaRecommendations(vpa)
		age := now.Sub(vpa.GetCreationTimestamp().Time)
		var nomad []TaskResources
		var nomadNote string
		if d.Nomad != nil {
			nomad, err = d.Nomad.TaskResources(ctx, svc)
			if err != nil {
				nomadNote = fmt.Sprintf("Nomad job %s: %v", svc, err)
			}
		} else {
			nomadNote = "Nomad: not configured"
		}
		for _, c := range w.Template.Spec.Containers {
			rec, ok := recs[c.Name]
			req := fmt.Sprintf("requests cpu %s mem %s", q(c.Resources.Requests, corev1.ResourceCPU), q(c.Resources.Requests, corev1.ResourceMemory))
			nj := nomadNote
			if t := matchTask(nomad, c.Name); t != nil {
				nj = fmt.Sprintf("Nomad %s/%s cpu %d MHz mem %d MB", t.Group, t.Task, t.CPUMHz, t.MemoryMB)
				if t.MemoryMaxMB > 0 {
					nj += fmt.Sprintf(" (max %d MB)", t.MemoryMaxMB)
				}
			} else if nj == "" {
				nj = fmt.Sprintf("Nomad job %s has no task %s", svc, c.Name)
			}
			if !ok {
				msg := fmt.Sprintf("%s/%s: VPA %s has no recommendation yet (VPA age %s)", svc, c.Name, vpa.GetName(), age.Round(time.Second))
				if age >= VPAWarmup {
					failures = append(failures, msg)
				} else {
					warmups = append(warmups, msg)
				}
				lines = append(lines, fmt.Sprintf("%s/%s: no recommendation; %s; %s", svc, c.Name, req, nj))
				continue
			}
			lines = append(lines, fmt.Sprintf("%s/%s: target cpu %s mem %s (lower %s/%s, upper %s/%s); %s; %s",
				svc, c.Name,
				q(rec.target, corev1.ResourceCPU), q(rec.target, corev1.ResourceMemory),
				q(rec.lower, corev1.ResourceCPU), q(rec.lower, corev1.ResourceMemory),
				q(rec.upper, corev1.ResourceCPU), q(rec.upper, corev1.ResourceMemory),
				req, nj))
		}
	}
	body := strings.Join(lines, "\n")
	switch {
	case len(failures) > 0 && len(missing) == len(failures):
		return fail(join(failures, body), "Deploy the PoC services first (migrate-tui apply --stage services); each gets its VPA from the vpa stage.")
	case len(failures) > 0:
		return fail(join(failures, body), fmt.Sprintf("A VPA with no recommendation after %s means the recommender sees no metrics: check metrics-server (kubectl top pods -n %s) and the recommender's logs; a missing VPA comes back with migrate-tui apply --stage vpa. See specs/003-nomad-to-kubernetes SC-002.", VPAWarmup, s.Namespace()))
	case len(warmups) > 0:
		return warn(join(warmups, body), "The recommender is still warming up (it needs a few samples per container); run the check again later. It fails after 24 h without a recommendation.")
	}
	return pass(body)
}

func join(head []string, body string) string {
	h := strings.Join(head, "\n")
	if body == "" {
		return h
	}
	return h + "\n" + body
}

func q(l corev1.ResourceList, name corev1.ResourceName) string {
	if v, ok := l[name]; ok {
		return v.String()
	}
	return "-"
}

func matchTask(ts []TaskResources, container string) *TaskResources {
	for i := range ts {
		if ts[i].Task == container {
			return &ts[i]
		}
	}
	if len(ts) == 1 {
		return &ts[0]
	}
	return nil
}

func vpaFor(w *workload, vpas []unstructured.Unstructured) *unstructured.Unstructured {
	for i := range vpas {
		kind, _, _ := unstructured.NestedString(vpas[i].Object, "spec", "targetRef", "kind")
		name, _, _ := unstructured.NestedString(vpas[i].Object, "spec", "targetRef", "name")
		if kind == w.Kind && name == w.Name {
			return &vpas[i]
		}
	}
	return nil
}

func vpaRecommendations(vpa *unstructured.Unstructured) map[string]containerRec {
	out := map[string]containerRec{}
	crs, _, _ := unstructured.NestedSlice(vpa.Object, "status", "recommendation", "containerRecommendations")
	for _, x := range crs {
		m, ok := x.(map[string]any)
		if !ok {
			continue
		}
		name, _ := m["containerName"].(string)
		rec := containerRec{target: rl(m["target"]), lower: rl(m["lowerBound"]), upper: rl(m["upperBound"])}
		if name != "" && len(rec.target) > 0 {
			out[name] = rec
		}
	}
	return out
}

func rl(v any) corev1.ResourceList {
	m, ok := v.(map[string]any)
	if !ok {
		return nil
	}
	out := corev1.ResourceList{}
	for k, x := range m {
		s, ok := x.(string)
		if !ok {
			continue
		}
		if qty, err := resource.ParseQuantity(s); err == nil {
			out[corev1.ResourceName(k)] = qty
		}
	}
	return out
}
