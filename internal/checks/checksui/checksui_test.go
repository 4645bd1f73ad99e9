package checksui_test

import (
	"context"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/x/ansi"
	"github.com/charmbracelet/x/exp/teatest"

	"migrate-tui/internal/checks"
	"migrate-tui/internal/checks/checksui"
)

// fakeRun stands in for checks.Run over a cluster: the dashboard's own
// behaviour (streaming, refresh, detail) is what is under test here.
func fakeRun(runs *atomic.Int32) checksui.RunFunc {
	return func(ctx context.Context, obs checks.Observer) []checks.Result {
		n := runs.Add(1)
		cs := []checks.Check{
			{ID: "SC-001", Title: "PoC workloads available", Run: func(context.Context, *checks.Deps) checks.Result {
				return checks.Result{Status: checks.Pass, Evidence: "whoami: Deployment whoami 2/2 ready"}
			}},
			{ID: "SC-004", Title: "PoC services answer over HTTPS", Run: func(context.Context, *checks.Deps) checks.Result {
				if n == 1 {
					return checks.Result{Status: checks.Fail, Evidence: "whoami.example.test: certificate expired on 2026-01-01", Hint: "Renew the wildcard certificate."}
				}
				return checks.Result{Status: checks.Pass, Evidence: "whoami.example.test: valid"}
			}},
		}
		return checks.Run(ctx, cs, nil, checks.RunOptions{Concurrency: 1}, obs)
	}
}

func rows() []checks.Check {
	return []checks.Check{{ID: "SC-001", Title: "PoC workloads available", Proves: "workloads run"}, {ID: "SC-004", Title: "PoC services answer over HTTPS", Proves: "TLS verifies"}}
}

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
	}, teatest.WithDuration(10*time.Second), teatest.WithCheckInterval(10*time.Millisecond))
}

func TestDashboardStreamsDetailsAndRefreshes(t *testing.T) {
	var runs atomic.Int32
	m := checksui.New(checksui.Options{Checks: rows(), Run: fakeRun(&runs)})
	tm := teatest.NewTestModel(t, checksui.Standalone{Model: m}, teatest.WithInitialTermSize(100, 30))
	// The failing check shows its hint in the table.
	waitText(t, tm, "1 pass · 1 fail", "Renew the wildcard certificate.")
	// Select SC-004 and open its detail: evidence and the next step.
	tm.Send(tea.KeyMsg{Type: tea.KeyDown})
	tm.Send(tea.KeyMsg{Type: tea.KeyEnter})
	waitText(t, tm, "TLS verifies", "Found:", "certificate expired on 2026-01-01", "Next step:")
	// Run again: the fixed certificate turns the row to pass.
	tm.Send(tea.KeyMsg{Type: tea.KeyEsc})
	tm.Send(tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune("r")})
	waitText(t, tm, "2 pass · 0 fail")
	tm.Send(tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune("q")})
	tm.WaitFinished(t, teatest.WithFinalTimeout(5*time.Second))
	if runs.Load() != 2 {
		t.Errorf("%d runs, want 2", runs.Load())
	}
}

func TestDashboardRefreshesOnItsOwn(t *testing.T) {
	var runs atomic.Int32
	m := checksui.New(checksui.Options{Checks: rows(), Run: fakeRun(&runs), Refresh: 10 * time.Millisecond})
	tm := teatest.NewTestModel(t, checksui.Standalone{Model: m}, teatest.WithInitialTermSize(100, 30))
	waitText(t, tm, "2 pass · 0 fail", "again every 10ms")
	tm.Send(tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune("q")})
	tm.WaitFinished(t, teatest.WithFinalTimeout(5*time.Second))
}

func TestViewTerseOnPass(t *testing.T) {
	m := checksui.New(checksui.Options{Checks: rows()})
	v := ansi.Strip(m.View())
	if !strings.Contains(v, "not run yet") || !strings.Contains(v, "SC-004") {
		t.Errorf("view:\n%s", v)
	}
}
