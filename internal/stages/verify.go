package stages

import (
	"context"
	"fmt"
	"os"
	"strings"
	"time"

	tfjson "github.com/hashicorp/terraform-json"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/dynamic"
	"sigs.k8s.io/cli-utils/pkg/kstatus/status"

	// result, not status: kstatus above is "status".
	result "migrate-tui/internal/status"
	"migrate-tui/internal/tfrunner"
	"migrate-tui/internal/unrunchart"
)

// GuardFunc adapts a function to Guard.
type GuardFunc func(ctx context.Context) ([]Regression, error)

// Regressions calls f.
func (f GuardFunc) Regressions(ctx context.Context) ([]Regression, error) { return f(ctx) }

// StateReader reads the Terraform state (tfrunner.Runner.State).
type StateReader interface {
	State(ctx context.Context) (*tfjson.State, error)
}

// ObjectsVerifier checks every Kubernetes object the stage's modules manage
// (kubectl_manifest resources in the state) with kstatus: each must exist
// and be Current. Objects nothing in a cluster acts on in the sandbox
// (HelmChart without a Helm controller) are reported as not observed, never
// as a pass.
type ObjectsVerifier struct {
	State   StateReader
	Dynamic dynamic.Interface
	Mapper  meta.RESTMapper
	// Wait is how long objects still rolling out (kstatus InProgress) are
	// given to become Current before the stage counts as failed; zero looks once.
	Wait time.Duration
}

// VerifyWaitEnv overrides DefaultVerifyWait (a Go duration such as 30s).
const VerifyWaitEnv = "MIGRATE_TUI_VERIFY_WAIT"

// DefaultVerifyWait is how long a stage's objects get to roll out after an
// apply: pods are pulled and started on the nodes after Terraform returns.
const DefaultVerifyWait = 3 * time.Minute

// VerifyWait is DefaultVerifyWait or the duration in $MIGRATE_TUI_VERIFY_WAIT.
func VerifyWait() (time.Duration, error) {
	v := os.Getenv(VerifyWaitEnv)
	if v == "" {
		return DefaultVerifyWait, nil
	}
	d, err := time.ParseDuration(v)
	if err != nil || d < 0 {
		return 0, fmt.Errorf("%s=%q is not a duration such as 30s or 5m", VerifyWaitEnv, v)
	}
	return d, nil
}

// manifest is one kubectl_manifest from the state.
type manifest struct {
	Address                        string
	APIVersion, Kind, Name, NSName string
}

func stageManifests(st *tfjson.State, stage string) []manifest {
	if st == nil || st.Values == nil {
		return nil
	}
	var out []manifest
	var walk func(m *tfjson.StateModule)
	walk = func(m *tfjson.StateModule) {
		for _, r := range m.Resources {
			if r.Type != "kubectl_manifest" || !tfrunner.InScope(r.Address, tfrunner.StageScopes[stage]) {
				continue
			}
			s := func(k string) string { v, _ := r.AttributeValues[k].(string); return v }
			out = append(out, manifest{Address: r.Address, APIVersion: s("api_version"), Kind: s("kind"), Name: s("name"), NSName: s("namespace")})
		}
		for _, c := range m.ChildModules {
			walk(c)
		}
	}
	walk(st.Values.RootModule)
	return out
}

// Verify implements Verifier.
func (v ObjectsVerifier) Verify(ctx context.Context, s Stage) ([]CheckResult, error) {
	st, err := v.State.State(ctx)
	if err != nil {
		return nil, err
	}
	ms := stageManifests(st, s.Name)
	out := make([]CheckResult, len(ms))
	// look reads the objects at idx again and returns those still rolling
	// out: a poll re-reads only these, not every object the stage manages.
	look := func(idx []int) []int {
		var pending []int
		for _, i := range idx {
			cr, inProgress := v.one(ctx, ms[i])
			out[i] = cr
			if inProgress {
				pending = append(pending, i)
			}
		}
		return pending
	}
	all := make([]int, len(ms))
	for i := range all {
		all[i] = i
	}
	pending := look(all)
	if len(pending) > 0 && v.Wait > 0 {
		// Poll until nothing is still rolling out or the wait is over; each
		// object's last look is what is reported.
		_ = wait.PollUntilContextTimeout(ctx, 5*time.Second, v.Wait, false, func(ctx context.Context) (bool, error) {
			pending = look(pending)
			return len(pending) == 0, nil
		})
	}
	if len(out) == 0 {
		out = append(out, CheckResult{ID: s.Name + "/objects", Title: s.Title + ": objects", Status: result.Pass,
			Evidence: "the stage manages no Kubernetes objects with these decisions"})
	}
	return out, nil
}

func (v ObjectsVerifier) one(ctx context.Context, m manifest) (CheckResult, bool) {
	ref := m.Kind + " " + m.Name
	if m.NSName != "" {
		ref = m.Kind + " " + m.NSName + "/" + m.Name
	}
	cr := CheckResult{ID: m.Address, Title: ref, Status: result.Fail}
	gv, err := schema.ParseGroupVersion(m.APIVersion)
	if err != nil {
		cr.Evidence = fmt.Sprintf("apiVersion %q in the state: %v", m.APIVersion, err)
		return cr, false
	}
	mapping, err := v.Mapper.RESTMapping(gv.WithKind(m.Kind).GroupKind(), gv.Version)
	if err != nil {
		cr.Evidence = fmt.Sprintf("the API server does not serve %s %s: %v", m.APIVersion, m.Kind, err)
		cr.Hint = "the CRD that defines it is missing; check the stage that installs it"
		return cr, false
	}
	var ri dynamic.ResourceInterface = v.Dynamic.Resource(mapping.Resource)
	if m.NSName != "" && mapping.Scope.Name() == meta.RESTScopeNameNamespace {
		ri = v.Dynamic.Resource(mapping.Resource).Namespace(m.NSName)
	}
	u, err := ri.Get(ctx, m.Name, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		cr.Evidence = ref + " does not exist although Terraform created it"
		cr.Hint = "something deleted it; run the stage again"
		return cr, false
	}
	if err != nil {
		cr.Evidence = fmt.Sprintf("reading %s: %v", ref, err)
		return cr, false
	}
	if m.Kind == "HelmChart" && strings.HasPrefix(m.APIVersion, "helm.cattle.io/") {
		return v.helmChart(ctx, cr, u), false
	}
	res, err := status.Compute(u)
	if err != nil {
		cr.Evidence = fmt.Sprintf("computing the status of %s: %v", ref, err)
		return cr, false
	}
	cr.Status = passIf(res.Status == status.CurrentStatus)
	cr.Evidence = fmt.Sprintf("%s is %s", ref, res.Status)
	if res.Message != "" {
		cr.Evidence += ": " + res.Message
	}
	if res.Status == status.InProgressStatus {
		if why, ok := unrunchart.Object(ctx, v.Dynamic, u); ok {
			cr.Status = result.Unobservable
			cr.Evidence += "; " + why
			return cr, false
		}
	}
	if cr.Failed() {
		cr.Hint = "wait and retry the verification, or look at kubectl describe " + strings.ToLower(m.Kind) + " " + m.Name
	}
	return cr, res.Status == status.InProgressStatus
}

// passIf is Pass when ok, else Fail.
func passIf(ok bool) result.Status {
	if ok {
		return result.Pass
	}
	return result.Fail
}

// helmChart judges a HelmChart by the install Job K3s's Helm controller runs
// (helm-install-<name>); without the controller it is not observed.
func (v ObjectsVerifier) helmChart(ctx context.Context, cr CheckResult, u *unstructured.Unstructured) CheckResult {
	jobName, _, _ := unstructured.NestedString(u.Object, "status", "jobName")
	if jobName == "" {
		jobName = "helm-install-" + u.GetName()
	}
	job, err := v.Dynamic.Resource(unrunchart.GVRJob).
		Namespace(u.GetNamespace()).Get(ctx, jobName, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		cr.Status = result.Unobservable
		cr.Evidence = fmt.Sprintf("HelmChart %s exists but no Helm controller has run it (no Job %s): not observable here", u.GetName(), jobName)
		return cr
	}
	if err != nil {
		cr.Evidence = fmt.Sprintf("reading Job %s: %v", jobName, err)
		return cr
	}
	res, err := status.Compute(job)
	if err != nil {
		cr.Evidence = err.Error()
		return cr
	}
	cr.Status = passIf(res.Status == status.CurrentStatus)
	cr.Evidence = fmt.Sprintf("HelmChart %s: install Job %s is %s", u.GetName(), jobName, res.Status)
	if cr.Failed() {
		cr.Hint = "kubectl -n " + u.GetNamespace() + " logs job/" + jobName
	}
	return cr
}
