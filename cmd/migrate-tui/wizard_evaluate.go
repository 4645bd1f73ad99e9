package main

import (
	"fmt"
	"time"

	tea "github.com/charmbracelet/bubbletea"

	"migrate-tui/internal/checks"
	"migrate-tui/internal/evaluate"
	"migrate-tui/internal/evaluate/evaluateui"
	"migrate-tui/internal/state"
	"migrate-tui/internal/steps"
	"migrate-tui/internal/tui"
)

// evaluateScreen mounts the go/no-go screen (internal/evaluate/evaluateui)
// with the same dependencies and record as `migrate-tui evaluate`; the step
// is done once the operator's decision is final (no draft marker).
func evaluateScreen(c *tui.Common, step steps.Step) tea.Model {
	build := func(c *tui.Common) (tea.Model, error) {
		repo := c.Opts.RepoDir
		// The same dependencies as check's and the verify screen's.
		run := checks.RunOptions{Concurrency: 4, Timeout: 60 * time.Second}
		d, st, _, err := evaluate.ForRepo(c.Context(), repo, checks.RepoOptions{Timeout: run.Timeout})
		if err != nil {
			return nil, err
		}
		gather := evaluateui.GatherWith(d, st, evaluate.Options{DecisionPath: evaluate.DecisionPath(repo), Run: run})
		return &evaluateModel{c: c, id: step.ID, m: evaluateui.New(evaluateui.Options{Gather: gather, Context: c.Context()})}, nil
	}
	return tui.Deferred(c, step, build, nil)
}

type evaluateModel struct {
	c  *tui.Common
	id string
	m  evaluateui.Model
}

func (s *evaluateModel) Init() tea.Cmd { return s.m.Init() }

func (s *evaluateModel) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	m, cmd := s.m.Update(msg)
	s.m = m
	if done, ok := msg.(evaluateui.DoneMsg); ok && done.Evidence.Decision.State == "final" {
		return s, tea.Batch(cmd, s.record(done.Evidence))
	}
	return s, cmd
}

func (s *evaluateModel) View() string { return s.m.View() }

// Close stops a gathering when the router leaves the screen.
func (s *evaluateModel) Close() { s.m.Stop() }

// record marks the step done: the decision is the operator's and final.
func (s *evaluateModel) record(ev evaluate.Evidence) tea.Cmd {
	id := s.id
	return s.c.Update(func(st *state.State, now time.Time) (string, error) {
		st.Finish(id, steps.Done, []string{"proposed " + ev.Proposal.Summary(), "decision recorded in " + ev.Decision.Path}, "", now)
		return fmt.Sprintf("go/no-go recorded in %s", ev.Decision.Path), nil
	})
}
