package evaluateui_test

import (
	"bytes"
	"context"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/x/exp/teatest"

	"migrate-tui/internal/checks"
	"migrate-tui/internal/evaluate"
	"migrate-tui/internal/evaluate/evaluateui"
	"migrate-tui/internal/rightsize"
	"migrate-tui/internal/status"
)

// evidence is what a gathering found, with the proposal made by the real
// rule from results (the world test in internal/evaluate proves Gather).
func evidence(results []checks.Result) evaluate.Evidence {
	return evaluate.Evidence{
		Checks: results, Summary: checks.Summarise(results), Proposal: checks.Propose(results),
		Moved:    []evaluate.Moved{{Service: "whoami", NomadJob: "whoami", Phase: "on-kubernetes", RoutingConfirmed: true}},
		Decision: evaluate.Record{Path: "/repo/specs/003-nomad-to-kubernetes/decision.md", State: "draft"},
		Rightsize: &rightsize.Report{CoreMHz: 2400, Services: []rightsize.Service{{
			Service: "overseerr", Where: "nomad", Status: status.Pass, Saving: rightsize.Amount{CPUMHz: 240, MemoryMB: 262},
			JobspecDiff: "--- a/modules/overseerr/jobspec.nomad.hcl\n+++ b/modules/overseerr/jobspec.nomad.hcl\n-    cpu        = 300\n+    cpu        = 60\n"}},
			Total: rightsize.Amount{CPUMHz: 240, MemoryMB: 262}},
	}
}

// waitFor waits until the output read during this wait holds every s (the
// renderer sends only changed lines, so a frame's lines are waited for together).
func waitFor(t *testing.T, tm *teatest.TestModel, ss ...string) {
	t.Helper()
	teatest.WaitFor(t, tm.Output(), func(b []byte) bool {
		for _, s := range ss {
			if !bytes.Contains(b, []byte(s)) {
				return false
			}
		}
		return true
	}, teatest.WithDuration(20*time.Second), teatest.WithCheckInterval(10*time.Millisecond))
}

func key(tm *teatest.TestModel, k string) {
	tm.Send(tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune(k)})
}

// The screen shows criteria as they arrive, then the proposal; gathering
// again after the failing criterion is fixed turns NO-GO into GO.
func TestScreenFollowsTheCriteria(t *testing.T) {
	failing := []checks.Result{
		{ID: "SC-001", Title: "PoC services run", Status: checks.Fail, Evidence: "echo: no Deployment"},
		{ID: "SC-004", Title: "HTTPS", Status: checks.Unobservable, Evidence: "KWOK backends"},
	}
	fixed := []checks.Result{
		{ID: "SC-001", Title: "PoC services run", Status: checks.Pass, Evidence: "echo 1/1"},
		{ID: "SC-004", Title: "HTTPS", Status: checks.Unobservable, Evidence: "KWOK backends"},
	}
	release := make(chan struct{})
	var runs atomic.Int32
	gather := func(ctx context.Context, obs checks.Observer) evaluate.Evidence {
		rs := failing
		if runs.Add(1) > 1 {
			rs = fixed
		} else {
			obs.Done(rs[0])
			<-release // the first result is on screen before the rest comes
		}
		return evidence(rs)
	}
	tm := teatest.NewTestModel(t, evaluateui.Standalone{Model: evaluateui.New(evaluateui.Options{Gather: gather})}, teatest.WithInitialTermSize(100, 60))
	waitFor(t, tm, "gathering the evidence… 1 of 10 criteria")
	close(release)
	// A failing criterion shows its evidence.
	waitFor(t, tm, "Proposed: NO-GO: SC-001 failed; SC-004 cannot be observed here", "echo: no Deployment")
	key(tm, "d")
	waitFor(t, tm, "+    cpu        = 60") // details: the jobspec diff of a service staying on Nomad
	key(tm, "r")
	waitFor(t, tm, "Proposed: GO: no criterion failed; SC-004 cannot be observed here")
	key(tm, "q")
	final := tm.FinalModel(t, teatest.WithFinalTimeout(20*time.Second)).(evaluateui.Standalone)
	view := final.Model.View()
	for _, w := range []string{"draft written to /repo/specs/003-nomad-to-kubernetes/decision.md", "whoami       on-kubernetes, traffic switch confirmed", "total saving: cpu 240 MHz, memory 262 MB"} {
		if !strings.Contains(view, w) {
			t.Errorf("view lacks %q:\n%s", w, view)
		}
	}
	if runs.Load() != 2 {
		t.Errorf("gathered %d times, want 2 (start and r)", runs.Load())
	}
}

// A gathering that finished after another started is dropped: the screen
// shows the newest run only.
func TestStaleGatheringIsDropped(t *testing.T) {
	m := evaluateui.New(evaluateui.Options{Gather: func(context.Context, checks.Observer) evaluate.Evidence { return evaluate.Evidence{} }})
	m, _ = m.Update(evaluateui.DoneMsg{Evidence: evidence(nil)}) // generation 0: no run asked for it
	if m.Evidence() != nil {
		t.Errorf("a result nobody asked for was shown: %+v", m.Evidence())
	}
}
