package checks

import (
	"context"
	"fmt"
	"sort"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"

	"migrate-tui/internal/unrunchart"
)

// workload is a service's Deployment or StatefulSet, or (a scaffolded
// Nomad batch or periodic job) its CronJob or Job.
type workload struct {
	Service  string
	Kind     string
	Batch    string // CronJob/Job: its state in a few words; empty otherwise
	Problem  string // CronJob/Job: why it is not healthy; empty when it is
	Name     string
	Desired  int32
	Ready    int32
	Updated  int32
	Selector labels.Selector
	Template corev1.PodTemplateSpec
	Created  time.Time
	// ClaimClasses are the StorageClasses a StatefulSet's
	// volumeClaimTemplates ask for.
	ClaimClasses []string
}

// belongsTo reports whether an object named name with labels l is service's.
func belongsTo(service, name string, l map[string]string) bool {
	return name == service || l["app.kubernetes.io/name"] == service || l["app"] == service
}

// pocWorkloads finds each service's workload (Decisions.Services: the PoC
// services and the enabled scaffolded ones); services without one are
// returned in missing. A listing error comes back as a failed Result.
func pocWorkloads(ctx context.Context, d *Deps) (map[string]*workload, []string, *Result) {
	s := d.Snapshot()
	deps, err := s.Deployments(ctx)
	if err != nil {
		r := apiFail("Deployments in "+s.Namespace(), err)
		return nil, nil, &r
	}
	sts, err := s.StatefulSets(ctx)
	if err != nil {
		r := apiFail("StatefulSets in "+s.Namespace(), err)
		return nil, nil, &r
	}
	out := map[string]*workload{}
	var missing []string
	for _, svc := range d.Decisions.Services() {
		for _, x := range deps {
			if belongsTo(svc, x.Name, x.Labels) {
				sel, _ := metav1.LabelSelectorAsSelector(x.Spec.Selector)
				want := int32(1)
				if x.Spec.Replicas != nil {
					want = *x.Spec.Replicas
				}
				out[svc] = &workload{Service: svc, Kind: "Deployment", Name: x.Name, Desired: want,
					Ready: x.Status.ReadyReplicas, Updated: x.Status.UpdatedReplicas, Selector: sel,
					Template: x.Spec.Template, Created: x.CreationTimestamp.Time}
				break
			}
		}
		if out[svc] == nil {
			for _, x := range sts {
				if belongsTo(svc, x.Name, x.Labels) {
					sel, _ := metav1.LabelSelectorAsSelector(x.Spec.Selector)
					want := int32(1)
					if x.Spec.Replicas != nil {
						want = *x.Spec.Replicas
					}
					var classes []string
					for _, c := range x.Spec.VolumeClaimTemplates {
						if c.Spec.StorageClassName != nil && *c.Spec.StorageClassName != "" {
							classes = append(classes, *c.Spec.StorageClassName)
						}
					}
					out[svc] = &workload{Service: svc, Kind: "StatefulSet", Name: x.Name, Desired: want,
						Ready: x.Status.ReadyReplicas, Updated: x.Status.UpdatedReplicas, Selector: sel,
						Template: x.Spec.Template, Created: x.CreationTimestamp.Time, ClaimClasses: classes}
					break
				}
			}
		}
		if out[svc] == nil {
			missing = append(missing, svc)
		}
	}
	if len(missing) == 0 {
		return out, nil, nil
	}
	// CronJobs and Jobs are listed only when some service has neither a
	// Deployment nor a StatefulSet, so a PoC-only run reads nothing more.
	var still []string
	for _, svc := range missing {
		w, errR := batchWorkload(ctx, s, svc)
		if errR != nil {
			return nil, nil, errR
		}
		if w == nil {
			still = append(still, svc)
			continue
		}
		out[svc] = w
	}
	return out, still, nil
}

// batchWorkload finds service's CronJob, else its Job (nil: neither).
func batchWorkload(ctx context.Context, s *Snapshot, svc string) (*workload, *Result) {
	cjs, err := s.CronJobs(ctx)
	if err != nil {
		r := apiFail("CronJobs in "+s.Namespace(), err)
		return nil, &r
	}
	for _, x := range cjs {
		if !belongsTo(svc, x.Name, x.Labels) {
			continue
		}
		tmpl := x.Spec.JobTemplate.Spec.Template
		w := &workload{Service: svc, Kind: "CronJob", Name: x.Name, Template: tmpl, Created: x.CreationTimestamp.Time,
			Selector: labels.SelectorFromSet(tmpl.Labels)}
		last := "never run yet"
		if x.Status.LastScheduleTime != nil {
			last = "last run " + x.Status.LastScheduleTime.UTC().Format(time.RFC3339)
		}
		w.Batch = fmt.Sprintf("schedule %q, %s, %d active", x.Spec.Schedule, last, len(x.Status.Active))
		if x.Spec.Suspend != nil && *x.Spec.Suspend {
			w.Problem = "suspended: it never runs"
		}
		return w, nil
	}
	jobs, err := s.Jobs(ctx)
	if err != nil {
		r := apiFail("Jobs in "+s.Namespace(), err)
		return nil, &r
	}
	for _, x := range jobs {
		if !belongsTo(svc, x.Name, x.Labels) {
			continue
		}
		w := &workload{Service: svc, Kind: "Job", Name: x.Name, Template: x.Spec.Template, Created: x.CreationTimestamp.Time}
		w.Selector, _ = metav1.LabelSelectorAsSelector(x.Spec.Selector)
		w.Batch = fmt.Sprintf("%d active, %d succeeded, %d failed", x.Status.Active, x.Status.Succeeded, x.Status.Failed)
		for _, c := range x.Status.Conditions {
			if c.Type == batchv1.JobFailed && c.Status == corev1.ConditionTrue {
				w.Problem = fmt.Sprintf("failed (%s: %s)", c.Reason, c.Message)
			}
		}
		return w, nil
	}
	return nil, nil
}

// podsOf returns w's live pods (not terminating), sorted by name.
func podsOf(w *workload, pods []corev1.Pod) []corev1.Pod {
	var out []corev1.Pod
	for _, p := range pods {
		if p.DeletionTimestamp != nil || w.Selector == nil || w.Selector.Empty() {
			continue
		}
		if w.Selector.Matches(labels.Set(p.Labels)) {
			out = append(out, p)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

func podReady(p corev1.Pod) bool {
	for _, c := range p.Status.Conditions {
		if c.Type == corev1.PodReady {
			return c.Status == corev1.ConditionTrue
		}
	}
	return false
}

// notReadyReason says briefly why a pod is not Ready.
func notReadyReason(p corev1.Pod) string {
	for _, cs := range p.Status.ContainerStatuses {
		if cs.State.Waiting != nil && cs.State.Waiting.Reason != "" {
			return cs.Name + " " + cs.State.Waiting.Reason
		}
		if cs.State.Terminated != nil {
			return cs.Name + " terminated " + cs.State.Terminated.Reason
		}
	}
	for _, c := range p.Status.Conditions {
		if c.Status != corev1.ConditionTrue && c.Reason != "" {
			out := string(c.Type) + "=" + string(c.Status) + " " + c.Reason
			if c.Message != "" {
				msg := []rune(c.Message)
				if len(msg) > 120 {
					msg = append(msg[:119], '…')
				}
				out += ": " + string(msg)
			}
			return out
		}
	}
	if p.Spec.NodeName == "" {
		return "not scheduled"
	}
	return "phase " + string(p.Status.Phase)
}

// waitsOnUnrunChart explains a workload whose claims wait for a StorageClass
// that only a HelmChart no Helm controller ran would create (Longhorn in the
// sandbox): not observable there; on a real K3s it is not excused.
func waitsOnUnrunChart(ctx context.Context, d *Deps, w *workload) (string, bool) {
	if w.Ready >= w.Desired || len(w.ClaimClasses) == 0 {
		return "", false
	}
	why, ok := unrunchart.Classes(ctx, d.Dynamic, w.ClaimClasses)
	if !ok {
		return "", false
	}
	return fmt.Sprintf("%s: %s %s has %d of %d replicas ready: %s", w.Service, w.Kind, w.Name, w.Ready, w.Desired, why), true
}
