package stageui_test

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/x/ansi"
	"github.com/charmbracelet/x/exp/golden"
	"github.com/charmbracelet/x/exp/teatest"

	"migrate-tui/internal/stages"
	"migrate-tui/internal/stages/stageui"
	"migrate-tui/internal/status"
	"migrate-tui/internal/tfrunner"
	"migrate-tui/internal/tlssecret"
)

// fakeDriver replays a fixed apply; the real runner is proven in tfrunner
// and stages against OpenTofu. This test is about the screen.
type fakeDriver struct {
	verify  [][]stages.CheckResult // results per Verify call
	calls   atomic.Int32
	skipped atomic.Value
}

func (f *fakeDriver) plan() *tfrunner.Plan {
	return &tfrunner.Plan{Stage: "mesh", LogPath: "/repo/.migrate-tui/logs/mesh.log", Summary: tfrunner.Summary{
		Add: 2, Destroy: 1, Steps: 3,
		ByModule: map[string]*tfrunner.ModuleSummary{"module.service_mesh": {Add: 2, Destroy: 1}},
		Destroys: []string{"module.service_mesh.kubectl_manifest.policy[\"old\"]"},
	}}
}

func (f *fakeDriver) Plan(context.Context, stages.Stage) (*tfrunner.Plan, error) {
	return f.plan(), nil
}

func (f *fakeDriver) Apply(_ context.Context, p *tfrunner.Plan, ch chan<- tfrunner.Event) error {
	defer close(ch)
	a, b, c := "module.service_mesh.kubectl_manifest.cilium", "module.service_mesh.kubectl_manifest.policy[\"whoami\"]", "module.service_mesh.kubectl_manifest.policy[\"old\"]"
	evs := []tfrunner.Event{
		{Kind: tfrunner.EventApplyStart, Total: 3},
		{Kind: tfrunner.EventResourceStart, Address: c, Action: "delete", Total: 3, Elapsed: time.Second},
		{Kind: tfrunner.EventResourceDone, Address: c, Action: "delete", Done: 1, Total: 3, Elapsed: 2 * time.Second, ResourceElapsed: time.Second},
		{Kind: tfrunner.EventResourceStart, Address: a, Action: "create", Done: 1, Total: 3, Elapsed: 2 * time.Second},
		{Kind: tfrunner.EventDiagnostic, Done: 1, Total: 3, Elapsed: 3 * time.Second, Diagnostic: &tfrunner.Diagnostic{Severity: "warning", Summary: "Deprecated attribute"}},
		{Kind: tfrunner.EventResourceDone, Address: a, Action: "create", Done: 2, Total: 3, Elapsed: 9 * time.Second, ResourceElapsed: 7 * time.Second},
		{Kind: tfrunner.EventResourceStart, Address: b, Action: "create", Done: 2, Total: 3, Elapsed: 9 * time.Second},
		{Kind: tfrunner.EventResourceDone, Address: b, Action: "create", Done: 3, Total: 3, Elapsed: 10 * time.Second, ResourceElapsed: time.Second},
		{Kind: tfrunner.EventApplyDone, Done: 3, Total: 3, Elapsed: 10 * time.Second},
	}
	for _, e := range evs {
		ch <- e
	}
	return nil
}

func (f *fakeDriver) Verify(context.Context, stages.Stage, *tfrunner.Plan) ([]stages.CheckResult, error) {
	rs := f.verify[min(int(f.calls.Add(1))-1, len(f.verify)-1)]
	var failed []stages.CheckResult
	for _, r := range rs {
		if r.Failed() {
			failed = append(failed, r)
		}
	}
	if len(failed) > 0 {
		return rs, &stages.VerifyError{Stage: "mesh", Failed: failed}
	}
	return rs, nil
}

func (f *fakeDriver) Skip(_ stages.Stage, reason string) error { f.skipped.Store(reason); return nil }
func (f *fakeDriver) PlanRollback(context.Context, stages.Stage) (*tfrunner.Plan, error) {
	return f.plan(), nil
}
func (f *fakeDriver) ApplyRollback(ctx context.Context, p *tfrunner.Plan, ch chan<- tfrunner.Event) error {
	return f.Apply(ctx, p, ch)
}

// transcript records every distinct view the screen shows, in order, so the
// golden file covers plan, confirm, progress and verify without depending on
// render timing; it quits when the screen is done.
type transcript struct {
	m      stageui.Model
	frames []string
	done   *stageui.DoneMsg
}

func (r transcript) Init() tea.Cmd { return r.m.Init() }

func (r transcript) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	if d, ok := msg.(stageui.DoneMsg); ok {
		r.done = &d
		return r, tea.Quit
	}
	var cmd tea.Cmd
	r.m, cmd = r.m.Update(msg)
	v := ansi.Strip(r.m.View())
	if len(r.frames) == 0 || r.frames[len(r.frames)-1] != v {
		r.frames = append(r.frames, v)
	}
	return r, cmd
}

func (r transcript) View() string { return r.m.View() }

func waitText(t *testing.T, tm *teatest.TestModel, want ...string) {
	t.Helper()
	teatest.WaitFor(t, tm.Output(), func(b []byte) bool {
		s := ansi.Strip(string(b))
		for _, w := range want {
			if !strings.Contains(s, w) {
				return false
			}
		}
		return true
	}, teatest.WithDuration(patience), teatest.WithCheckInterval(10*time.Millisecond))
}

func mesh() stages.Stage { s, _ := stages.ByName("mesh"); return s }

func TestStageFlowPlanConfirmProgressVerify(t *testing.T) {
	d := &fakeDriver{verify: [][]stages.CheckResult{{
		{ID: "a", Title: "HelmChart kube-system/cilium", Status: status.Unobservable, Evidence: "no Helm controller has run it: not observable here"},
		{ID: "b", Title: "CiliumNetworkPolicy poc/whoami", Status: status.Pass, Evidence: "Current"},
	}}}
	tm := teatest.NewTestModel(t, transcript{m: stageui.New(mesh(), d)}, teatest.WithInitialTermSize(80, 24))
	waitText(t, tm, "Plan: 2 to add, 0 to change, 1 to destroy", "Destroys:", "Apply this plan?")
	tm.Type("y")
	waitText(t, tm, "applied and verified")
	tm.Send(tea.KeyMsg{Type: tea.KeyEnter})
	tm.WaitFinished(t, teatest.WithFinalTimeout(patience))
	r := tm.FinalModel(t).(transcript)
	if r.done == nil || r.done.Outcome != stages.Applied {
		t.Fatalf("done = %+v, want applied", r.done)
	}
	var b bytes.Buffer
	for i, f := range r.frames {
		b.WriteString(strings.Repeat("=", 20) + " frame " + string(rune('a'+i%26)) + "\n" + f + "\n")
	}
	golden.RequireEqual(t, b.Bytes())
}

func TestStageVerifyFailureOffersRetrySkipRollback(t *testing.T) {
	bad := stages.CheckResult{ID: "x", Title: "Deployment kube-system/cilium-operator", Status: status.Fail, Evidence: "InProgress: 0 of 1 replicas ready", Hint: "wait and retry"}
	d := &fakeDriver{verify: [][]stages.CheckResult{{bad}, {bad}}}
	tm := teatest.NewTestModel(t, transcript{m: stageui.New(mesh(), d)}, teatest.WithInitialTermSize(80, 24))
	waitText(t, tm, "Apply this plan?")
	tm.Type("y")
	waitText(t, tm, "✗ Deployment kube-system/cilium-operator", "hint: wait and retry", "[r] retry", "[s] skip (recorded)", "[b] roll back the stage")
	tm.Type("r")
	teatest.WaitFor(t, tm.Output(), func([]byte) bool { return d.calls.Load() == 2 }, teatest.WithDuration(patience))
	tm.Type("s")
	tm.WaitFinished(t, teatest.WithFinalTimeout(patience))
	r := tm.FinalModel(t).(transcript)
	if r.done == nil || r.done.Outcome != stages.Skipped || !strings.Contains(d.skipped.Load().(string), "cilium-operator") {
		t.Fatalf("done = %+v, skip reason %v", r.done, d.skipped.Load())
	}
}

func TestDeclineLeavesNothingApplied(t *testing.T) {
	d := &fakeDriver{verify: [][]stages.CheckResult{{}}}
	tm := teatest.NewTestModel(t, transcript{m: stageui.New(mesh(), d)}, teatest.WithInitialTermSize(80, 24))
	waitText(t, tm, "Apply this plan?")
	tm.Type("n")
	tm.WaitFinished(t, teatest.WithFinalTimeout(patience))
	r := tm.FinalModel(t).(transcript)
	if r.done == nil || r.done.Outcome != "" || d.calls.Load() != 0 {
		t.Fatalf("done = %+v, verify calls %d", r.done, d.calls.Load())
	}
}

// lockedDriver's first plan finds a stale lock.
type lockedDriver struct {
	fakeDriver
	plans    atomic.Int32
	unlocked atomic.Bool
}

func (l *lockedDriver) Plan(ctx context.Context, s stages.Stage) (*tfrunner.Plan, error) {
	if l.plans.Add(1) == 1 {
		return nil, &tfrunner.LockError{Info: tfrunner.LockInfo{ID: "lock-123", Who: "root@hestia", Operation: "OperationTypeApply"},
			Holder: tfrunner.Holder{Gone: true, Why: "The lock was taken on this host and no tofu or terraform process runs in /repo any more."}}
	}
	return l.fakeDriver.Plan(ctx, s)
}

func (l *lockedDriver) ForceUnlock(_ context.Context, le *tfrunner.LockError, confirmed bool) error {
	if !confirmed || le.Info.ID != "lock-123" {
		return errors.New("refused")
	}
	l.unlocked.Store(true)
	return nil
}

func TestStaleLockOffersForceUnlockAfterConfirmation(t *testing.T) {
	d := &lockedDriver{}
	tm := teatest.NewTestModel(t, transcript{m: stageui.New(mesh(), d)}, teatest.WithInitialTermSize(80, 24))
	waitText(t, tm, "The Terraform state is locked.", "[u] force-unlock")
	tm.Type("u")
	waitText(t, tm, "Force-unlock lock lock-123?")
	tm.Type("y")
	waitText(t, tm, "Apply this plan?")
	if !d.unlocked.Load() {
		t.Fatal("the lock was not released")
	}
	tm.Type("n")
	tm.WaitFinished(t, teatest.WithFinalTimeout(patience))
}

// preCheckDriver refuses the plan the way stages.Runner does when the
// ingress stage's TLS Secret is missing.
type preCheckDriver struct{ fakeDriver }

func (d *preCheckDriver) Plan(context.Context, stages.Stage) (*tfrunner.Plan, error) {
	return nil, &stages.PreCheckError{Stage: "ingress", Err: &tlssecret.MissingError{Namespace: "traefik", Name: "wildcard-tls", Problem: "does not exist"}}
}

func TestIngressWithoutTLSSecretShowsTheHint(t *testing.T) {
	ingress, _ := stages.ByName("ingress")
	m := stageui.New(ingress, &preCheckDriver{})
	m, _ = m.Update(m.Init()())
	v := ansi.Strip(m.View())
	if m.Phase() != stageui.Failed {
		t.Fatalf("phase %v, want Failed", m.Phase())
	}
	for _, want := range []string{"Not planned:", "traefik/wildcard-tls", "does not exist", "migrate-tui tls-secret --acme-json PATH"} {
		if !strings.Contains(v, want) {
			t.Fatalf("view does not say %q:\n%s", want, v)
		}
	}
	if strings.Contains(v, "rollback") || strings.Contains(v, "roll back") {
		t.Fatalf("nothing was applied, yet the view offers a rollback:\n%s", v)
	}
}

// patience bounds a wait for the model's next frame: long enough that a
// busy two-core machine never trips it, so only a hang fails the test.
const patience = 2 * time.Minute
