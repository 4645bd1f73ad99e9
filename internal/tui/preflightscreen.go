package tui

import (
	"fmt"
	"strings"
	"time"

	tea "github.com/charmbracelet/bubbletea"

	"migrate-tui/internal/preflight"
	"migrate-tui/internal/state"
	"migrate-tui/internal/status"
	"migrate-tui/internal/steps"
)

// preflightScreen runs one preflight step when opened (if it has not
// passed yet) and shows its evidence or its error.
type preflightScreen struct {
	c       *Common
	step    steps.Step
	rec     steps.Record
	running bool
	width   int
}

func newPreflightScreen(c *Common, s steps.Step) tea.Model {
	return &preflightScreen{c: c, step: s, width: 50}
}

func (p *preflightScreen) Init() tea.Cmd {
	if p.rec.Status == steps.Done {
		return nil
	}
	return p.run()
}

func (p *preflightScreen) run() tea.Cmd {
	p.running = true
	id, env, c := p.step.ID, p.c.Opts.Preflight, p.c
	if env.Now == nil {
		env.Now = c.Opts.Now
	}
	return func() tea.Msg {
		r := preflight.Run(c.Context(), id, env)
		return c.Update(func(st *state.State, now time.Time) (string, error) {
			preflight.Record(st, r, now)
			return "", nil
		})()
	}
}

func (p *preflightScreen) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	switch msg := msg.(type) {
	case tea.WindowSizeMsg:
		p.width = msg.Width
	case *state.State:
		p.rec = msg.Record(p.step.ID)
	case StateChangedMsg:
		if msg.State == nil {
			p.running = false
			return p, nil
		}
		was := p.running
		p.rec = msg.State.Record(p.step.ID)
		p.running = false
		if was && p.rec.Status == steps.Done {
			id := p.step.ID
			return p, func() tea.Msg { return StepDoneMsg{StepID: id} }
		}
	case tea.KeyMsg:
		if p.running {
			return p, nil
		}
		switch msg.String() {
		case "enter":
			if p.rec.Status == steps.Done {
				id := p.step.ID
				return p, func() tea.Msg { return StepDoneMsg{StepID: id} }
			}
			return p, p.run()
		case "r":
			return p, p.run()
		case "s":
			if p.rec.Status == steps.Failed {
				id, c := p.step.ID, p.c
				return p, tea.Sequence(c.Update(func(st *state.State, now time.Time) (string, error) {
					st.Finish(id, steps.Skipped, []string{"skipped by the operator after: " + oneLine(st.Record(id).Error)}, "", now)
					return id + " skipped; what it would have checked is not proven", nil
				}), func() tea.Msg { return StepDoneMsg{StepID: id} })
			}
		}
	}
	return p, nil
}

func (p *preflightScreen) Help() string {
	switch {
	case p.running:
		return "running…"
	case p.rec.Status == steps.Failed:
		return "r retry · s skip"
	case p.rec.Status == steps.Done:
		return "enter next · r run again"
	}
	return "enter run"
}

func (p *preflightScreen) View() string {
	s := p.c.Styles
	var b strings.Builder
	b.WriteString(s.Heading.Render("Preflight: "+p.step.Title) + "\n")
	b.WriteString(wrap(p.step.Why, p.width) + "\n\n")
	switch {
	case p.running:
		b.WriteString("Checking…\n")
	case p.rec.Status == steps.Done:
		b.WriteString(s.OK.Render(status.Pass.Mark()+" passed") + "\n")
		for _, e := range p.rec.Evidence {
			b.WriteString(wrap("  "+e, p.width) + "\n")
		}
	case p.rec.Status == steps.Failed:
		b.WriteString(s.Bad.Render(status.Fail.Mark()+" failed") + "\n")
		b.WriteString(wrap(p.rec.Error, p.width) + "\n")
		for _, e := range p.rec.Evidence {
			b.WriteString(wrap("  "+e, p.width) + "\n")
		}
		b.WriteString("\nFix it and press r to check again, or s to skip (recorded as skipped).\n")
	case p.rec.Status == steps.Skipped:
		b.WriteString(s.Warn.Render("- skipped") + "\n")
		for _, e := range p.rec.Evidence {
			b.WriteString(wrap("  "+e, p.width) + "\n")
		}
	default:
		b.WriteString("Press enter to run this check.\n")
	}
	return b.String()
}

// placeholder is the honest screen of a step this build cannot run yet.
type placeholder struct {
	c     *Common
	step  steps.Step
	rec   steps.Record
	width int
}

func newPlaceholder(c *Common, s steps.Step) tea.Model { return &placeholder{c: c, step: s, width: 50} }

func (p *placeholder) Init() tea.Cmd { return nil }

func (p *placeholder) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	switch msg := msg.(type) {
	case tea.WindowSizeMsg:
		p.width = msg.Width
	case *state.State:
		p.rec = msg.Record(p.step.ID)
	case StateChangedMsg:
		if msg.State != nil {
			p.rec = msg.State.Record(p.step.ID)
		}
	}
	return p, nil
}

func (p *placeholder) View() string {
	s := p.c.Styles
	var b strings.Builder
	b.WriteString(s.Heading.Render(p.step.Phase.String()+": "+p.step.Title) + "\n")
	b.WriteString(wrap(p.step.Why, p.width) + "\n\n")
	fmt.Fprintf(&b, "Status: %s %s\n", Mark(p.rec.Status), steps.StatusOf(map[string]steps.Record{p.step.ID: p.rec}, p.step.ID))
	for _, e := range p.rec.Evidence {
		b.WriteString(wrap("  "+e, p.width) + "\n")
	}
	b.WriteString("\n" + s.Warn.Render("Not available in the wizard yet.") + "\n")
	var hint string
	switch p.step.Kind {
	case steps.KindStage:
		if p.step.Ref == "cluster" {
			hint = "The cluster stage installs K3s over SSH; this build does not drive it from the wizard yet."
		} else {
			hint = fmt.Sprintf("Run it from a shell: migrate-tui apply --stage %s (plan, confirm, apply, verify, with the Nomad guard). Its result is recorded here.", p.step.Ref)
		}
	case steps.KindVerify:
		hint = "Run the success criteria from a shell: migrate-tui check (add --json for machine-readable output)."
	default:
		hint = "This build of migrate-tui does not implement this step yet; it stays pending."
	}
	b.WriteString(wrap(hint, p.width) + "\n")
	return b.String()
}
