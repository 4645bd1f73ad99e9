package cutover

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"migrate-tui/internal/nomadwatch"
	"migrate-tui/internal/scaffold"
	"migrate-tui/internal/state"
)

// The checks of the machine's own transitions; the readiness gate
// (gate.go) and Machine.Checks add theirs.

// moduleCheck: "scaffolded" means the service has a Kubernetes module, a
// hand-written one (modules-k8s/<service>, the PoC's) or scaffold's block
// module.scaffolded_<service> in services.generated.tf.
func moduleCheck(repo, svc string) GateCheck {
	c := GateCheck{ID: "module", Checked: fmt.Sprintf("a Kubernetes module of %s exists (modules-k8s/%s or module.%s%s in %s)", svc, svc, scaffold.ModulePrefix, svc, scaffold.GeneratedRoot)}
	dir := filepath.Join(repo, "modules-k8s", svc)
	if fi, err := os.Stat(dir); err == nil && fi.IsDir() {
		c.Status, c.Found = Pass, "modules-k8s/"+svc+" (hand-written)"
		return c
	}
	names, err := scaffold.GeneratedServices(filepath.Join(repo, scaffold.GeneratedRoot))
	switch {
	case err != nil:
		c.Status, c.Found, c.Next = Block, err.Error(), "Fix or move aside "+scaffold.GeneratedRoot+", then migrate-tui scaffold the services again."
	case slices.Contains(names, svc):
		c.Status, c.Found = Pass, "module."+scaffold.ModulePrefix+svc+" in "+scaffold.GeneratedRoot
	default:
		c.Status = Block
		c.Found = fmt.Sprintf("no modules-k8s/%s, and %s has %s", svc, scaffold.GeneratedRoot, listOr(prefixed(names), "no scaffolded module"))
		c.Next = "Generate it from the Nomad job: migrate-tui scaffold <job> --service " + svc + " (then review the module)."
	}
	return c
}

func prefixed(names []string) []string {
	out := make([]string, len(names))
	for i, n := range names {
		out[i] = "module." + scaffold.ModulePrefix + n
	}
	return out
}

// objectsCheck: "deployed" means the services stage created the service's
// workload beside Nomad (a Deployment, StatefulSet, DaemonSet or CronJob
// named after it or labelled app.kubernetes.io/name=<service>). Whether it
// is healthy is the readiness gate's business.
func objectsCheck(ctx context.Context, in GateInput) GateCheck {
	svc := in.Target.Service
	c := GateCheck{ID: "kubernetes-objects", Checked: "the Kubernetes objects of " + svc + " exist beside Nomad (the services stage applied its module)"}
	if in.Deps == nil || in.Deps.Kube == nil {
		c.Status, c.Found, c.Next = Block, "no cluster configured", "Pass --kubeconfig (or set KUBECONFIG) for the K3s cluster."
		return c
	}
	ns := in.Deps.Decisions.Namespace()
	k := in.Deps.Kube
	mine := func(m metav1.ObjectMeta) bool {
		return m.Name == svc || m.Labels["app.kubernetes.io/name"] == svc
	}
	var found []string
	var errs []string
	if l, err := k.AppsV1().Deployments(ns).List(ctx, metav1.ListOptions{}); err != nil {
		errs = append(errs, err.Error())
	} else {
		for _, o := range l.Items {
			if mine(o.ObjectMeta) {
				found = append(found, "Deployment "+o.Name)
			}
		}
	}
	if l, err := k.AppsV1().StatefulSets(ns).List(ctx, metav1.ListOptions{}); err != nil {
		errs = append(errs, err.Error())
	} else {
		for _, o := range l.Items {
			if mine(o.ObjectMeta) {
				found = append(found, "StatefulSet "+o.Name)
			}
		}
	}
	if l, err := k.AppsV1().DaemonSets(ns).List(ctx, metav1.ListOptions{}); err != nil {
		errs = append(errs, err.Error())
	} else {
		for _, o := range l.Items {
			if mine(o.ObjectMeta) {
				found = append(found, "DaemonSet "+o.Name)
			}
		}
	}
	if l, err := k.BatchV1().CronJobs(ns).List(ctx, metav1.ListOptions{}); err != nil {
		errs = append(errs, err.Error())
	} else {
		for _, o := range l.Items {
			if mine(o.ObjectMeta) {
				found = append(found, "CronJob "+o.Name)
			}
		}
	}
	switch {
	case len(found) > 0:
		c.Status, c.Found = Pass, strings.Join(found, ", ")+" in namespace "+ns
	case len(errs) > 0:
		c.Status, c.Found, c.Next = Block, strings.Join(errs, "; "), "Check the kubeconfig's access to namespace "+ns+"."
	default:
		c.Status = Block
		c.Found = fmt.Sprintf("no Deployment, StatefulSet, DaemonSet or CronJob named %s (or labelled app.kubernetes.io/name=%s) in namespace %s", svc, svc, ns)
		c.Next = "Enable it and apply the services stage: migrate-tui apply --stage services."
	}
	return c
}

// guardCheck: every other Nomad job is as healthy as at preflight (the jobs
// cut over on purpose left out). It returns the regressions for the outcome.
func guardCheck(ctx context.Context, in GateInput, st *state.State) (GateCheck, []nomadwatch.Regression) {
	t := in.Target
	c := GateCheck{ID: "nomad-guard", Checked: "every other Nomad job is as healthy as in the preflight baseline"}
	base, err := st.FullBaseline()
	if err != nil {
		c.Status, c.Found, c.Next = Block, err.Error(), "Run migrate-tui preflight: the guard compares Nomad with its baseline."
		return c, nil
	}
	if in.Nomad == nil {
		c.Status, c.Found, c.Next = Block, "Nomad not configured", "Set NOMAD_ADDR and NOMAD_TOKEN."
		return c, nil
	}
	excl := []Target{t}
	for _, co := range st.Cutovers {
		if st.IntentionallyStopped(co.Namespace, co.NomadJob) {
			excl = append(excl, Target{Service: co.Service, NomadJob: co.NomadJob, Namespace: co.Namespace})
		}
	}
	regs, err := Guard(ctx, in.Nomad, base, excl...)
	switch {
	case err != nil:
		c.Status, c.Found, c.Next = Block, "comparing the other Nomad jobs with the baseline: "+err.Error(), "Check NOMAD_ADDR and NOMAD_TOKEN (nomad job status should answer)."
	case len(regs) > 0:
		var msgs []string
		for _, r := range regs {
			msgs = append(msgs, r.Message)
		}
		c.Status = Block
		c.Found = fmt.Sprintf("%d regression(s) in other Nomad jobs since the baseline: %s", len(regs), strings.Join(msgs, "; "))
		c.Next = fmt.Sprintf("The cutover of %s does not touch them by design, but look before finishing (nomad job status); migrate-tui cutover %s --rollback puts %s back.", t.Service, t.Service, t.Service)
	default:
		jobs, _ := base.Running()
		c.Status, c.Found = Pass, fmt.Sprintf("every other Nomad job of the baseline (%d running then) is as healthy as it was", jobs-len(excl))
	}
	return c, regs
}
