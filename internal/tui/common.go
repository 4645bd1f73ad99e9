// Package tui is migrate-tui's interactive wizard: a Bubble Tea root model
// that only routes, a step list with statuses beside the current step's
// screen, decision forms built with huh, and a help line. A step's screen is
// any tea.Model built by a ScreenFactory keyed by the step's kind, so the
// installation stages (stageui) and the checks dashboard (checksui) plug in.
package tui

import (
	"context"
	"os"
	"sync"
	"time"

	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"
	"github.com/muesli/termenv"

	"migrate-tui/internal/decisions"
	"migrate-tui/internal/preflight"
	"migrate-tui/internal/state"
	"migrate-tui/internal/status"
	"migrate-tui/internal/steps"
)

// ScreenFactory builds the screen of a step. The screen sends StepDoneMsg
// when the step is finished (after recording its outcome in the state).
type ScreenFactory func(c *Common, step steps.Step) tea.Model

// Options configure the wizard.
type Options struct {
	RepoDir    string
	Preflight  preflight.Env
	Accessible bool
	Now        func() time.Time
	// Screens overrides or adds screen factories by step kind.
	Screens map[steps.Kind]ScreenFactory
	// Notice is shown on the first screen (e.g. a stale lock taken over).
	Notice string
	// Existing are values terraform.tfvars already held when the wizard
	// started; forms start from them for keys not decided yet.
	Existing decisions.Answers
	// Context is the program's (the one given to tea.WithContext); every
	// command's context derives from it. Nil: context.Background().
	Context context.Context
}

// Common is what every screen shares: options, styles, the plan, keys and
// the serialised access to the state file.
type Common struct {
	Opts   Options
	Plan   *steps.Plan
	Styles Styles
	Keys   KeyMap

	mu *sync.Mutex // serialises load-modify-save of the state between commands
	// ctx is cancelled when the wizard closes (App.Close): Terraform gets
	// SIGINT and its grace period rather than SIGKILL at exit.
	ctx    context.Context
	cancel context.CancelFunc
}

// NewCommon builds what screens share (for factories and their tests).
func NewCommon(o Options) *Common { return newCommon(o) }

func newCommon(o Options) *Common {
	if o.Now == nil {
		o.Now = time.Now
	}
	parent := o.Context
	if parent == nil {
		parent = context.Background()
	}
	ctx, cancel := context.WithCancel(parent)
	return &Common{Opts: o, Plan: steps.Default(), Styles: NewStyles(), Keys: DefaultKeyMap, mu: &sync.Mutex{}, ctx: ctx, cancel: cancel}
}

// StateChangedMsg carries the state after a command changed it.
type StateChangedMsg struct {
	State  *state.State
	Notice string // a sentence for the status line
	Err    error
}

// StepDoneMsg tells the root a step's screen is finished; the root reloads
// the state and moves on to the next unfinished step.
type StepDoneMsg struct{ StepID string }

// Update returns a command that loads the state, lets fn change it, saves
// it, and reports the result as a StateChangedMsg. fn runs in the command,
// never on the model.
func (c *Common) Update(fn func(st *state.State, now time.Time) (notice string, err error)) tea.Cmd {
	return func() tea.Msg {
		c.mu.Lock()
		defer c.mu.Unlock()
		now := c.Opts.Now()
		st, err := state.LoadOrNew(c.Opts.RepoDir, now)
		if err != nil {
			return StateChangedMsg{Err: err}
		}
		notice, err := fn(st, now)
		if err != nil {
			return StateChangedMsg{Err: err}
		}
		if err := state.Save(c.Opts.RepoDir, st, now); err != nil {
			return StateChangedMsg{Err: err}
		}
		return StateChangedMsg{State: st, Notice: notice}
	}
}

// Locked runs fn while no command of the wizard loads, changes and saves
// the state: for screens whose packages save the state themselves (the
// cutover machine), so neither write loses the other's.
func (c *Common) Locked(fn func()) {
	c.mu.Lock()
	defer c.mu.Unlock()
	fn()
}

// Context for commands: the program's, cancelled when the wizard closes.
func (c *Common) Context() context.Context { return c.ctx }

// Closer is implemented by screens that hold work to stop when the router
// leaves them (a plan in flight): the router calls Close when another step
// opens, when the step is done and when the wizard quits. Work that must
// outlive the screen (a Terraform apply) is not the screen's to stop.
type Closer interface{ Close() }

func closeScreen(m tea.Model) {
	if c, ok := m.(Closer); ok {
		c.Close()
	}
}

// KeyMap is the root's keys; screens add their own to the help line.
type KeyMap struct {
	Up, Down, Open, Back, Quit, ForceQuit, Revisit key.Binding
}

// DefaultKeyMap is the wizard's keys.
var DefaultKeyMap = KeyMap{
	Up:        key.NewBinding(key.WithKeys("up", "k"), key.WithHelp("↑/↓", "step")),
	Down:      key.NewBinding(key.WithKeys("down", "j")),
	Open:      key.NewBinding(key.WithKeys("enter"), key.WithHelp("enter", "open")),
	Back:      key.NewBinding(key.WithKeys("esc"), key.WithHelp("esc", "steps")),
	Quit:      key.NewBinding(key.WithKeys("q"), key.WithHelp("q", "quit")),
	ForceQuit: key.NewBinding(key.WithKeys("ctrl+c"), key.WithHelp("ctrl+c", "quit")),
	Revisit:   key.NewBinding(key.WithKeys("r"), key.WithHelp("r", "revisit")),
}

// Helper is implemented by screens that contribute key help.
type Helper interface{ Help() string }

// Styles are the one theme (internal/status), shared with checksui and
// stageui; with NO_COLOR they carry no colour.
type Styles = status.Theme

// NewStyles builds the styles.
func NewStyles() Styles { return status.DefaultTheme() }

// RespectNoColor makes every lipgloss style colourless when NO_COLOR is set
// (https://no-color.org).
func RespectNoColor() {
	if os.Getenv("NO_COLOR") != "" {
		lipgloss.SetColorProfile(termenv.Ascii)
	}
}

// Mark is a step status as one character: a finished step with the mark
// of its result (internal/status), the same as checks and stages use.
func Mark(s steps.Status) string {
	switch s {
	case steps.Done:
		return status.Pass.Mark()
	case steps.Failed:
		return status.Fail.Mark()
	case steps.Skipped:
		return status.Skip.Mark()
	case steps.Running:
		return "…"
	}
	return "·"
}
