package tui

import (
	"fmt"
	"strings"

	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"
	"github.com/charmbracelet/x/ansi"

	"migrate-tui/internal/decisions"
	"migrate-tui/internal/state"
	"migrate-tui/internal/steps"
)

const listWidth = 27 // the step list pane, border included

type focus int

const (
	focusList focus = iota
	focusScreen
)

// App is the root model: it routes keys and messages between the step list
// and the current step's screen, and keeps the latest state for display.
type App struct {
	c         *Common
	factories map[steps.Kind]ScreenFactory
	st        *state.State

	cursor  int // selected step in the list
	open    string
	screen  tea.Model
	focus   focus
	width   int
	height  int
	notice  string
	err     error
	started bool // the state file existed when the wizard started
}

// New builds the wizard on a state already loaded (nil: no migration yet).
func New(o Options, st *state.State) *App {
	c := newCommon(o)
	a := &App{c: c, factories: DefaultScreens(), st: st, width: 80, height: 24, notice: o.Notice, started: st != nil}
	for k, f := range o.Screens {
		a.factories[k] = f
	}
	if a.st == nil {
		a.st = state.New(c.Opts.Now())
	}
	if next := c.Plan.FirstUnfinished(a.st.Steps); next != "" {
		a.cursor = c.Plan.Index(next)
	}
	return a
}

// DefaultScreens are the built-in factories.
func DefaultScreens() map[steps.Kind]ScreenFactory {
	return map[steps.Kind]ScreenFactory{
		steps.KindPreflight: newPreflightScreen,
		steps.KindDecision:  newDecisionScreen,
		steps.KindStage:     newPlaceholder,
		steps.KindVerify:    newPlaceholder,
		steps.KindCutover:   newPlaceholder,
		steps.KindEvaluate:  newPlaceholder,
	}
}

// State is the latest state the wizard saw (tests).
func (a *App) State() *state.State { return a.st }

// Init implements tea.Model.
func (a *App) Init() tea.Cmd { return nil }

// Close is the wizard's teardown, for after the program returned: it
// closes the open screen and cancels the program's context, so work still
// running (a Terraform apply) is interrupted gracefully. The caller waits
// for that work (stageui.Runs.Wait) before exiting.
func (a *App) Close() {
	closeScreen(a.screen)
	a.c.cancel()
}

func (a *App) paneWidth() int  { return max(a.width-listWidth-1, 20) }
func (a *App) paneHeight() int { return max(a.height-3, 5) }

func (a *App) openStep(id string) tea.Cmd {
	s := a.c.Plan.Get(id)
	if s == nil {
		return nil
	}
	f := a.factories[s.Kind]
	if f == nil {
		f = newPlaceholder
	}
	closeScreen(a.screen) // the old screen's plan in flight stops; an apply goes on
	a.open = id
	a.cursor = a.c.Plan.Index(id)
	a.screen = f(a.c, *s)
	a.focus = focusScreen
	a.err = nil
	var sized tea.Cmd
	a.screen, sized = a.screen.Update(tea.WindowSizeMsg{Width: a.paneWidth(), Height: a.paneHeight()})
	a.screen, _ = a.screen.Update(a.st) // the screen's view of the state
	return tea.Batch(a.screen.Init(), sized)
}

// Update routes messages.
func (a *App) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	switch msg := msg.(type) {
	case tea.WindowSizeMsg:
		a.width, a.height = msg.Width, msg.Height
		if a.screen != nil {
			var cmd tea.Cmd
			a.screen, cmd = a.screen.Update(tea.WindowSizeMsg{Width: a.paneWidth(), Height: a.paneHeight()})
			return a, cmd
		}
		return a, nil
	case StateChangedMsg:
		if msg.Err != nil {
			a.err = msg.Err
		} else {
			a.st, a.notice, a.err = msg.State, msg.Notice, nil
			a.started = true
		}
		return a.forward(msg)
	case StepDoneMsg:
		// The step recorded its outcome; reload and go on to the next one.
		st, err := state.Load(a.c.Opts.RepoDir)
		if err != nil {
			a.err = err
			return a, nil
		}
		if st != nil {
			a.st = st
		}
		if next := a.c.Plan.FirstUnfinished(a.st.Steps); next != "" && next != msg.StepID {
			return a, a.openStep(next)
		}
		closeScreen(a.screen)
		a.screen, a.open, a.focus = nil, "", focusList
		return a, nil
	case tea.KeyMsg:
		if key.Matches(msg, a.c.Keys.ForceQuit) && !(a.focus == focusScreen && capturesCtrlC(a.screen)) {
			return a, tea.Quit
		}
		if a.focus == focusScreen && a.screen != nil {
			if key.Matches(msg, a.c.Keys.Back) && !capturesEsc(a.screen) {
				a.focus = focusList
				return a, nil
			}
			return a.forward(msg)
		}
		return a.listKey(msg)
	}
	return a.forward(msg)
}

// capturesEsc: a screen in the middle of a form keeps esc (huh uses it to
// leave a filter); screens say so through this optional interface.
func capturesEsc(m tea.Model) bool {
	if c, ok := m.(interface{ CapturesEsc() bool }); ok {
		return c.CapturesEsc()
	}
	return false
}

func (a *App) forward(msg tea.Msg) (tea.Model, tea.Cmd) {
	if a.screen == nil {
		return a, nil
	}
	var cmd tea.Cmd
	a.screen, cmd = a.screen.Update(msg)
	return a, cmd
}

func (a *App) listKey(msg tea.KeyMsg) (tea.Model, tea.Cmd) {
	k := a.c.Keys
	switch {
	case key.Matches(msg, k.Quit):
		return a, tea.Quit
	case key.Matches(msg, k.Up):
		if a.cursor > 0 {
			a.cursor--
		}
	case key.Matches(msg, k.Down):
		if a.cursor < len(a.c.Plan.Steps)-1 {
			a.cursor++
		}
	case key.Matches(msg, k.Open):
		return a, a.openStep(a.c.Plan.Steps[a.cursor].ID)
	case key.Matches(msg, k.Back):
		if a.screen != nil {
			a.focus = focusScreen
		}
	}
	return a, nil
}

// View lays out: title, list | screen, status line, help line.
func (a *App) View() string {
	s := a.c.Styles
	counts := a.c.Plan.Counts(a.st.Steps)
	title := s.Title.Render("migrate-tui") + s.Dim.Render(fmt.Sprintf(" · Nomad → K3s · %d/%d steps done", counts[steps.Done]+counts[steps.Skipped], len(a.c.Plan.Steps)))
	h := a.paneHeight()
	list := a.listView(h)
	var pane string
	if a.screen != nil {
		pane = a.screen.View()
	} else {
		pane = a.welcomeView()
	}
	pane = clip(pane, a.paneWidth(), h)
	body := lipgloss.JoinHorizontal(lipgloss.Top,
		lipgloss.NewStyle().Width(listWidth-1).Height(h).MaxHeight(h).Render(list),
		lipgloss.NewStyle().Width(1).Height(h).Render(strings.Repeat("│\n", h-1)+"│"),
		" "+pane)
	status := ""
	switch {
	case a.err != nil:
		status = s.Bad.Render(truncate(oneLine(a.err.Error()), a.width))
	case a.notice != "":
		status = s.Dim.Render(truncate(oneLine(a.notice), a.width))
	}
	return lipgloss.JoinVertical(lipgloss.Left, title, body, status, s.Dim.Render(truncate(a.helpLine(), a.width)))
}

func (a *App) helpLine() string {
	if a.focus == focusScreen && a.screen != nil {
		h := "esc steps · ctrl+c quit"
		if hs, ok := a.screen.(Helper); ok && hs.Help() != "" {
			h = hs.Help() + " · " + h
		}
		return h
	}
	h := "↑/↓ step · enter open · q quit"
	if a.screen != nil {
		h = "↑/↓ step · enter open · esc back to " + a.c.Plan.Get(a.open).Title + " · q quit"
	}
	return h
}

func (a *App) listView(h int) string {
	s := a.c.Styles
	var lines []string
	cursorLine := 0
	phase := steps.Phase(0)
	for i, st := range a.c.Plan.Steps {
		if st.Phase != phase {
			phase = st.Phase
			lines = append(lines, s.Dim.Render(phase.String()))
		}
		mark := Mark(steps.StatusOf(a.st.Steps, st.ID))
		pointer := " "
		if st.ID == a.open || (i == a.cursor && a.focus == focusList) {
			pointer = "›"
		}
		text := truncate(fmt.Sprintf("%s %s", mark, st.Title), listWidth-4)
		switch {
		case i == a.cursor && a.focus == focusList:
			text = s.Cursor.Render(text)
			cursorLine = len(lines)
		case st.ID == a.open:
			text = s.Title.Render(text)
			cursorLine = len(lines)
		case steps.StatusOf(a.st.Steps, st.ID) == steps.Failed:
			text = s.Bad.Render(text)
		}
		if i == a.cursor {
			cursorLine = len(lines)
		}
		lines = append(lines, pointer+" "+text)
	}
	// Scroll so the cursor stays visible.
	start := 0
	if len(lines) > h {
		start = min(max(cursorLine-h/2, 0), len(lines)-h)
	}
	end := min(start+h, len(lines))
	return strings.Join(lines[start:end], "\n")
}

func (a *App) welcomeView() string {
	s := a.c.Styles
	w := a.paneWidth()
	var b strings.Builder
	next := a.c.Plan.FirstUnfinished(a.st.Steps)
	if !a.started {
		b.WriteString(s.Heading.Render("No migration started yet") + "\n\n")
		b.WriteString(wrap("migrate-tui carries this homelab from Nomad to a K3s cluster beside it, one step at a time: preflight, decisions, installation stages, verification, cutover and a go/no-go evaluation. Nomad keeps running throughout; every step is recorded in .migrate-tui/state.json, so you can quit at any time and continue later.", w) + "\n\n")
	} else {
		counts := a.c.Plan.Counts(a.st.Steps)
		b.WriteString(s.Heading.Render("Where the migration stands") + "\n\n")
		fmt.Fprintf(&b, "%d done, %d skipped, %d failed, %d pending.\n", counts[steps.Done], counts[steps.Skipped], counts[steps.Failed], counts[steps.Pending]+counts[steps.Running])
		ans, _ := a.st.Answers()
		b.WriteString(wrap(fmt.Sprintf("%d of %d decisions made; they are shown, not asked again (open one and press r to revisit).", len(ans), len(decisions.All())), w) + "\n\n")
	}
	if next == "" {
		b.WriteString("Every step is finished.\n")
	} else {
		st := a.c.Plan.Get(next)
		verb := "Start with"
		if a.started {
			verb = "Continue from"
		}
		b.WriteString(wrap(fmt.Sprintf("%s %s: %s (%s).", verb, s.Title.Render(st.Title), strings.ToLower(st.Phase.String()), st.ID), w) + "\n")
		b.WriteString(wrap(st.Why, w) + "\n\n")
		b.WriteString(wrap("Press enter to "+strings.ToLower(verb)+" it, or pick another step with ↑/↓.", w) + "\n")
	}
	if a.notice != "" {
		b.WriteString("\n" + s.Warn.Render(wrap(a.notice, w)) + "\n")
	}
	return b.String()
}

// ---- text helpers ----

func wrap(s string, w int) string { return lipgloss.NewStyle().Width(w).Render(s) }

func truncate(s string, w int) string { return ansi.Truncate(s, w, "…") }

func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }

// clip cuts a view to w columns and h lines.
func clip(s string, w, h int) string {
	lines := strings.Split(s, "\n")
	if len(lines) > h {
		lines = append(lines[:h-1], "…")
	}
	for i, l := range lines {
		lines[i] = ansi.Truncate(l, w, "")
	}
	return strings.Join(lines, "\n")
}
