package cutover

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"

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
	names, err := scaffold.GeneratedServices(filepath.Join(repo, scaffold.GeneratedRoot))
	return moduleCheckWith(repo, svc, names, err)
}

// moduleCheckWith is moduleCheck with services.generated.tf already read
// (names, err), so a list of every Nomad job reads it once, not per job.
func moduleCheckWith(repo, svc string, names []string, err error) GateCheck {
	c := GateCheck{ID: "module", Checked: fmt.Sprintf("a Kubernetes module of %s exists (modules-k8s/%s or module.%s%s in %s)", svc, svc, scaffold.ModulePrefix, svc, scaffold.GeneratedRoot)}
	dir := filepath.Join(repo, "modules-k8s", svc)
	if fi, serr := os.Stat(dir); serr == nil && fi.IsDir() && !slices.Contains(names, svc) {
		c.Status, c.Found = Pass, "modules-k8s/"+svc+" (hand-written)"
		return c
	}
	switch {
	case err != nil:
		c.Status, c.Found, c.Next = Block, err.Error(), "Fix or move aside "+scaffold.GeneratedRoot+", then migrate-tui scaffold the services again."
	case slices.Contains(names, svc):
		c.Status, c.Found = Pass, "module."+scaffold.ModulePrefix+svc+" in "+scaffold.GeneratedRoot+" (scaffolded)"
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

// workloads are the kinds the services stage creates a service as.
var workloads = []struct {
	kind string
	gvr  schema.GroupVersionResource
}{
	{"Deployment", schema.GroupVersionResource{Group: "apps", Version: "v1", Resource: "deployments"}},
	{"StatefulSet", schema.GroupVersionResource{Group: "apps", Version: "v1", Resource: "statefulsets"}},
	{"DaemonSet", schema.GroupVersionResource{Group: "apps", Version: "v1", Resource: "daemonsets"}},
	{"CronJob", schema.GroupVersionResource{Group: "batch", Version: "v1", Resource: "cronjobs"}},
}

// objectsCheck: "deployed" means the services stage created the service's
// workload beside Nomad (a Deployment, StatefulSet, DaemonSet or CronJob
// named after it or labelled app.kubernetes.io/name=<service>). Whether it
// is healthy is the readiness gate's business.
func objectsCheck(ctx context.Context, in GateInput) GateCheck {
	svc := in.Target.Service
	c := GateCheck{ID: "kubernetes-objects", Checked: "the Kubernetes objects of " + svc + " exist beside Nomad (the services stage applied its module)"}
	if in.Deps == nil || in.Deps.Dynamic == nil {
		c.Status, c.Found, c.Next = Block, "no cluster configured", "Pass --kubeconfig (or set KUBECONFIG) for the K3s cluster."
		return c
	}
	ns := in.Deps.Decisions.Namespace()
	var found, errs []string
	for _, w := range workloads {
		l, err := in.Deps.Dynamic.Resource(w.gvr).Namespace(ns).List(ctx, metav1.ListOptions{})
		if err != nil {
			errs = append(errs, fmt.Sprintf("list %s in %s: %v", w.gvr.Resource, ns, err))
			continue
		}
		for _, o := range l.Items {
			if o.GetName() == svc || o.GetLabels()["app.kubernetes.io/name"] == svc {
				found = append(found, w.kind+" "+o.GetName())
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
