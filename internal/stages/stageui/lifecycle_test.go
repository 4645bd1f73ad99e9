package stageui_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/x/ansi"
	"github.com/charmbracelet/x/exp/teatest"

	"migrate-tui/internal/stages"
	"migrate-tui/internal/stages/stageui"
	"migrate-tui/internal/state"
	"migrate-tui/internal/steps"
	"migrate-tui/internal/tfrunner"
	"migrate-tui/internal/tfrunner/tftest"
	"migrate-tui/internal/tui"
)

// The lifecycle tests run the wizard's router (tui.App) with the stage
// screen on a real stages.Runner over the pinned OpenTofu and the tftest
// fixture, whose "gate" holds a mesh resource's creation until a file
// exists: the apply is provably in flight while the operator moves around.
// The Nomad guard is a function reporting no regressions (Nomad is not what
// these tests are about; internal/stages proves the guard on nomadsim).

// lifecycleWait is a deadline for real Terraform, never a timing assertion.
const lifecycleWait = 3 * time.Minute

type wizard struct {
	dir, gate string
	tf        *tfrunner.Runner
	runs      *stageui.Runs
	app       *tui.App
	tm        *teatest.TestModel
	plan      *steps.Plan
	at        string // the step under the list cursor
}

func startWizard(t *testing.T) *wizard {
	t.Helper()
	w := &wizard{dir: tftest.CopyConfig(t, tftest.FixtureConfig()), gate: filepath.Join(t.TempDir(), "release"), runs: stageui.NewRuns()}
	tfvars := filepath.Join(w.dir, "terraform.tfvars")
	if err := os.WriteFile(tfvars, fmt.Appendf(nil, "gate = %q\n", w.gate), 0o644); err != nil {
		t.Fatal(err)
	}
	w.tf = tftest.NewRunner(t, w.dir)
	if err := w.tf.Init(context.Background()); err != nil {
		t.Fatal(err)
	}
	none := stages.GuardFunc(func(context.Context) ([]stages.Regression, error) { return nil, nil })
	runner := &stages.Runner{TF: w.tf, Vars: stages.TfvarsFile{Path: tfvars}, Guard: none, Record: stages.StateRecorder{RepoDir: w.dir}}
	stage := func(c *tui.Common, step steps.Step) tea.Model {
		s, ok := stages.ByName(step.Ref)
		if !ok {
			return tui.Placeholder(c, step)
		}
		id := step.ID
		return stageui.Screen{Model: stageui.NewIn(c.Context(), w.runs, s, runner),
			OnDone: func(stageui.DoneMsg) tea.Msg { return tui.StepDoneMsg{StepID: id} }}
	}
	w.app = tui.New(tui.Options{RepoDir: w.dir, Screens: map[steps.Kind]tui.ScreenFactory{steps.KindStage: stage}}, nil)
	w.plan = steps.Default()
	w.at = w.plan.FirstUnfinished(nil)
	w.tm = teatest.NewTestModel(t, w.app, teatest.WithInitialTermSize(140, 40))
	// Whatever happens, the program's applies end before the temp dirs go.
	t.Cleanup(func() { w.app.Close(); w.runs.Wait() })
	return w
}

// open moves the list cursor to step id and opens it.
func (w *wizard) open(id string) {
	from, to := w.plan.Index(w.at), w.plan.Index(id)
	for ; from < to; from++ {
		w.tm.Send(tea.KeyMsg{Type: tea.KeyDown})
	}
	for ; from > to; from-- {
		w.tm.Send(tea.KeyMsg{Type: tea.KeyUp})
	}
	w.tm.Send(tea.KeyMsg{Type: tea.KeyEnter})
	w.at = id
}

func (w *wizard) waitText(t *testing.T, want ...string) {
	t.Helper()
	teatest.WaitFor(t, w.tm.Output(), func(b []byte) bool {
		s := ansi.Strip(string(b))
		for _, x := range want {
			if !strings.Contains(s, x) {
				return false
			}
		}
		return true
	}, teatest.WithDuration(lifecycleWait), teatest.WithCheckInterval(20*time.Millisecond))
}

// applyToTheGate opens the mesh stage, confirms, and returns once a mesh
// resource is being created: Terraform holds the state lock and waits.
func (w *wizard) applyToTheGate(t *testing.T) *stageui.Run {
	t.Helper()
	w.open("stage.mesh")
	w.waitText(t, "Apply this plan?")
	w.tm.Type("y")
	w.waitText(t, "module.service_mesh.terraform_data.r[")
	r := w.runs.Active("mesh")
	if r == nil {
		t.Fatal("no mesh apply in flight after confirming")
	}
	if !lockHeld(w.dir) {
		t.Fatal("the apply waits at the gate but holds no state lock; the test would prove nothing")
	}
	return r
}

// leave presses esc during the apply: the first only asks, the second leaves.
func (w *wizard) leave(t *testing.T) {
	t.Helper()
	w.tm.Send(tea.KeyMsg{Type: tea.KeyEsc})
	w.waitText(t, "Leave this screen?", "[esc] leave; the apply goes on")
	w.tm.Send(tea.KeyMsg{Type: tea.KeyEsc})
	w.waitText(t, "enter open")
}

func lockHeld(dir string) bool {
	_, err := os.Stat(filepath.Join(dir, ".terraform.tfstate.lock.info"))
	return err == nil
}

func waitRun(t *testing.T, r *stageui.Run) {
	t.Helper()
	select {
	case <-r.Done():
	case <-time.After(lifecycleWait):
		t.Fatal("the apply did not return; with no screen reading its events it is blocked")
	}
}

// Leave the stage mid-apply and open another step (the stage's screen is
// closed); the apply goes on with nobody watching, finishes and releases the
// lock; coming back shows its outcome and verifies the stage.
func TestLeaveMidApplyComeBackFinished(t *testing.T) {
	w := startWizard(t)
	r := w.applyToTheGate(t)
	w.leave(t)
	w.open("evaluate.go-no-go") // drops (closes) the stage's screen
	w.waitText(t, "Go / no-go")

	if err := os.WriteFile(w.gate, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	waitRun(t, r) // no screen drains the events: the run's goroutine does
	if err := r.Err(); err != nil {
		t.Fatalf("apply finished with %v, want success", err)
	}
	if lockHeld(w.dir) {
		t.Fatal(".terraform.tfstate.lock.info is left after the apply")
	}

	w.tm.Send(tea.KeyMsg{Type: tea.KeyEsc})
	w.open("stage.mesh")
	w.waitText(t, "Stage mesh applied and verified.")
	if w.runs.Active("mesh") != nil {
		t.Error("the run is still held after its outcome was shown; the next visit would not plan")
	}
	st, err := state.Load(w.dir)
	if err != nil || st == nil {
		t.Fatalf("state: %v", err)
	}
	if rec := st.Record("stage.mesh"); rec.Status != steps.Done {
		t.Fatalf("stage.mesh record = %+v, want done", rec)
	}
	w.tm.Send(tea.KeyMsg{Type: tea.KeyCtrlC})
	w.tm.WaitFinished(t, teatest.WithFinalTimeout(lifecycleWait))
}

// Leave the stage mid-apply and quit the wizard: the program's context is
// cancelled, Terraform gets SIGINT (not SIGKILL) and is waited for; the
// apply reports an interruption, no lock is left and the next plan runs.
func TestQuitMidApplyInterruptsTerraformAndWaits(t *testing.T) {
	w := startWizard(t)
	r := w.applyToTheGate(t)
	w.leave(t)
	w.tm.Type("q")
	w.tm.WaitFinished(t, teatest.WithFinalTimeout(lifecycleWait))

	select {
	case <-r.Done():
		t.Fatal("the apply ended when the program did, before the wizard closed; it should outlive its screen")
	default:
	}
	w.app.Close() // what the wizard does before exiting: cancel, then wait
	waited := make(chan struct{})
	go func() { w.runs.Wait(); close(waited) }()
	select {
	case <-waited:
	case <-time.After(lifecycleWait):
		t.Fatal("closing the wizard did not stop the apply: Terraform was never interrupted")
	}
	if !errors.Is(r.Err(), tfrunner.ErrInterrupted) {
		t.Fatalf("apply error = %v, want an interruption (SIGINT and the grace period)", r.Err())
	}
	if lockHeld(w.dir) {
		t.Fatal(".terraform.tfstate.lock.info is left after quitting mid-apply")
	}
	st, err := state.Load(w.dir)
	if err != nil || st == nil {
		t.Fatalf("state: %v", err)
	}
	var res stages.Result
	if err := json.Unmarshal(st.Stages["mesh"], &res); err != nil || res.Outcome != stages.Interrupted {
		t.Errorf("recorded mesh outcome = %q (%v), want %q", res.Outcome, err, stages.Interrupted)
	}
	if _, err := w.tf.Plan(context.Background(), "mesh"); err != nil {
		t.Fatalf("plan after quitting mid-apply: %v", err)
	}
}
