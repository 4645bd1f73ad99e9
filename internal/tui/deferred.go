package tui

import (
	"strings"

	tea "github.com/charmbracelet/bubbletea"

	"migrate-tui/internal/state"
	"migrate-tui/internal/steps"
)

// Placeholder is the honest "not available yet" screen of a step, for
// factories that cannot run a step in some situation.
func Placeholder(c *Common, s steps.Step) tea.Model { return newPlaceholder(c, s) }

// BuildFunc builds a step's screen; it runs in a command, so it may do I/O
// (start Terraform, connect to Nomad).
type BuildFunc func(c *Common) (tea.Model, error)

type builtMsg struct {
	from  *deferred // a build finished after its screen was left is dropped
	model tea.Model
	err   error
}

// deferred shows "preparing" while build runs, then hands everything to the
// built screen; isDone recognises the built screen's "finished" message,
// which becomes StepDoneMsg after the state is reloaded.
type deferred struct {
	c      *Common
	step   steps.Step
	build  BuildFunc
	isDone func(tea.Msg) bool
	inner  tea.Model
	err    error
	size   tea.WindowSizeMsg
	width  int
}

// Deferred returns a screen built by build in a command.
func Deferred(c *Common, s steps.Step, build BuildFunc, isDone func(tea.Msg) bool) tea.Model {
	return &deferred{c: c, step: s, build: build, isDone: isDone, width: 50}
}

func (d *deferred) Init() tea.Cmd { return d.start() }

func (d *deferred) start() tea.Cmd {
	d.err = nil
	build, c := d.build, d.c
	return func() tea.Msg {
		m, err := build(c)
		return builtMsg{from: d, model: m, err: err}
	}
}

// Close passes the router's teardown on to the built screen.
func (d *deferred) Close() { closeScreen(d.inner) }

func (d *deferred) CapturesEsc() bool { return capturesEsc(d.inner) }

func (d *deferred) CapturesCtrlC() bool { return capturesCtrlC(d.inner) }

func (d *deferred) Help() string {
	if h, ok := d.inner.(Helper); ok {
		return h.Help()
	}
	if d.err != nil {
		return "r retry"
	}
	return ""
}

func (d *deferred) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	switch msg := msg.(type) {
	case builtMsg:
		if msg.from != d {
			return d, nil
		}
		if msg.err != nil {
			d.err = msg.err
			return d, nil
		}
		d.inner = msg.model
		var sized tea.Cmd
		if d.size.Width > 0 {
			d.inner, sized = d.inner.Update(d.size)
		}
		return d, tea.Batch(d.inner.Init(), sized)
	case tea.WindowSizeMsg:
		d.size, d.width = msg, msg.Width
	case tea.KeyMsg:
		if d.inner == nil && d.err != nil && msg.String() == "r" {
			return d, d.start()
		}
	case *state.State:
		if d.inner == nil {
			return d, nil
		}
	}
	if d.inner == nil {
		return d, nil
	}
	if d.isDone != nil && d.isDone(msg) {
		id := d.step.ID
		return d, func() tea.Msg { return StepDoneMsg{StepID: id} }
	}
	var cmd tea.Cmd
	d.inner, cmd = d.inner.Update(msg)
	return d, cmd
}

func (d *deferred) View() string {
	if d.inner != nil {
		return d.inner.View()
	}
	s := d.c.Styles
	var b strings.Builder
	b.WriteString(s.Heading.Render(d.step.Phase.String()+": "+d.step.Title) + "\n")
	b.WriteString(wrap(d.step.Why, d.width) + "\n\n")
	if d.err != nil {
		b.WriteString(s.Bad.Render("Could not prepare this step:") + "\n" + wrap(d.err.Error(), d.width) + "\n\nPress r to try again.\n")
		return b.String()
	}
	b.WriteString("Preparing…\n")
	return b.String()
}

// capturesCtrlC: a screen running something that must be stopped
// gracefully (Terraform apply) takes ctrl+c instead of the wizard quitting.
func capturesCtrlC(m tea.Model) bool {
	if c, ok := m.(interface{ CapturesCtrlC() bool }); ok {
		return c.CapturesCtrlC()
	}
	return false
}
