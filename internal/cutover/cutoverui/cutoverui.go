// Package cutoverui is the wizard's Cutover screen: every Nomad job with
// its cutover state and next action; one service's checklist (the next
// transition's checks with their evidence, run live); advance and roll back
// after a y/n confirmation. It drives the same machine as `migrate-tui
// cutover` (Driver); all I/O happens in tea.Cmds.
package cutoverui

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"

	"migrate-tui/internal/cutover"
	"migrate-tui/internal/rightsize"
	"migrate-tui/internal/status"
)

// KeyMap is the screen's keys.
type KeyMap struct {
	Up, Down, Open, Back, Recheck, Advance, Rollback, Accept, Yes, No key.Binding
}

// DefaultKeyMap is the screen's default keys.
var DefaultKeyMap = KeyMap{
	Up:       key.NewBinding(key.WithKeys("up", "k"), key.WithHelp("↑/k", "up")),
	Down:     key.NewBinding(key.WithKeys("down", "j"), key.WithHelp("↓/j", "down")),
	Open:     key.NewBinding(key.WithKeys("enter"), key.WithHelp("enter", "checklist")),
	Back:     key.NewBinding(key.WithKeys("esc"), key.WithHelp("esc", "back")),
	Recheck:  key.NewBinding(key.WithKeys("r"), key.WithHelp("r", "run the checks again")),
	Advance:  key.NewBinding(key.WithKeys("a"), key.WithHelp("a", "advance")),
	Rollback: key.NewBinding(key.WithKeys("b"), key.WithHelp("b", "roll back")),
	Accept:   key.NewBinding(key.WithKeys("u"), key.WithHelp("u", "accept unobservable checks")),
	Yes:      key.NewBinding(key.WithKeys("y"), key.WithHelp("y", "yes")),
	No:       key.NewBinding(key.WithKeys("n", "esc"), key.WithHelp("n", "no")),
}

type (
	listMsg struct {
		entries []cutover.Entry
		err     error
	}
	checkMsg struct {
		service  string
		from, to cutover.State
		gate     cutover.Gate
		err      error
		rs       *rightsize.Service
	}
	outcomeMsg struct {
		service string
		out     cutover.Outcome
		err     error
	}
)

type view int

const (
	viewList view = iota
	viewService
)

// pending is an action waiting for the operator's y/n.
type pending struct {
	rollback bool
	to       cutover.State
	question string
}

// Model is the Cutover screen.
type Model struct {
	ctx   context.Context
	d     Driver
	keys  KeyMap
	st    status.Theme
	width int

	entries []cutover.Entry
	listErr error
	cursor  int
	view    view

	// the open service
	svc      string
	from, to cutover.State
	gate     *cutover.Gate
	rs       *rightsize.Service // the open service's right-sizing
	checkErr error
	last     *cutover.Outcome
	lastErr  error
	confirm  *pending
	busy     string // what runs now ("" idle)
	// opts are the operator's choices (u: accept unobservable checks).
	opts Options
}

// New returns the screen; Init lists the jobs. ctx is the host program's:
// quitting cancels a call in flight.
func New(ctx context.Context, d Driver) Model {
	if ctx == nil {
		ctx = context.Background()
	}
	return Model{ctx: ctx, d: d, keys: DefaultKeyMap, st: status.DefaultTheme(), width: 80}
}

// Init lists the jobs.
func (m Model) Init() tea.Cmd { return m.list() }

// Busy reports whether a call runs.
func (m Model) Busy() bool { return m.busy != "" }

// CapturesEsc: esc backs out of a checklist or a confirmation, not the step.
func (m Model) CapturesEsc() bool { return m.view == viewService || m.confirm != nil }

// Help is the key line for the host's footer.
func (m Model) Help() string {
	switch {
	case m.confirm != nil:
		return "y confirm · n cancel"
	case m.view == viewService:
		return "a advance · b roll back · r run the checks again · u accept unobservable checks (on/off) · esc back"
	default:
		return "↑/↓ select · enter checklist"
	}
}

func (m Model) list() tea.Cmd {
	ctx, d := m.ctx, m.d
	return func() tea.Msg {
		es, err := d.List(ctx)
		return listMsg{entries: es, err: err}
	}
}

// selected is the open service's entry, else the one under the cursor.
func (m Model) selected() (cutover.Entry, bool) {
	if m.svc != "" {
		for _, e := range m.entries {
			if e.Service == m.svc {
				return e, true
			}
		}
		return cutover.Entry{}, false
	}
	if m.cursor < len(m.entries) {
		return m.entries[m.cursor], true
	}
	return cutover.Entry{}, false
}

func (m *Model) check() tea.Cmd {
	e, ok := m.selected()
	if !ok {
		return nil
	}
	m.busy, m.checkErr = "running the checks of "+e.Service+"'s next transition…", nil
	ctx, d, o := m.ctx, m.d, m.opts
	return func() tea.Msg {
		from, to, g, err := d.Check(ctx, e, o)
		msg := checkMsg{service: e.Service, from: from, to: to, gate: g, err: err}
		if r, ok := d.(Rightsizer); ok {
			rs := r.Rightsize(ctx, e)
			msg.rs = &rs
		}
		return msg
	}
}

func (m *Model) run(p pending) tea.Cmd {
	e, ok := m.selected()
	if !ok {
		return nil
	}
	ctx, d, o := m.ctx, m.d, m.opts
	if p.rollback {
		m.busy = "rolling " + e.Service + " back…"
		return func() tea.Msg {
			out, err := d.Rollback(ctx, e)
			return outcomeMsg{service: e.Service, out: out, err: err}
		}
	}
	m.busy = fmt.Sprintf("moving %s to %s…", e.Service, p.to)
	return func() tea.Msg {
		out, err := d.Advance(ctx, e, o)
		return outcomeMsg{service: e.Service, out: out, err: err}
	}
}

// Update handles keys and the calls' results.
func (m Model) Update(msg tea.Msg) (Model, tea.Cmd) {
	switch msg := msg.(type) {
	case tea.WindowSizeMsg:
		m.width = max(msg.Width, 40)
	case listMsg:
		m.entries, m.listErr = msg.entries, msg.err
		if m.cursor >= len(m.entries) {
			m.cursor = max(len(m.entries)-1, 0)
		}
	case checkMsg:
		if msg.service != m.svc {
			return m, nil // left meanwhile
		}
		m.busy = ""
		m.from, m.to, m.checkErr = msg.from, msg.to, msg.err
		g := msg.gate
		m.gate, m.rs = &g, msg.rs
	case outcomeMsg:
		if msg.service != m.svc {
			return m, nil
		}
		m.busy = ""
		out := msg.out
		m.last, m.lastErr = &out, msg.err
		// What changed shows in the list and the next checklist.
		return m, tea.Batch(m.list(), m.check())
	case tea.KeyMsg:
		return m.key(msg)
	}
	return m, nil
}

func (m Model) key(msg tea.KeyMsg) (Model, tea.Cmd) {
	if m.confirm != nil {
		switch {
		case key.Matches(msg, m.keys.Yes):
			p := *m.confirm
			m.confirm = nil
			return m, m.run(p)
		case key.Matches(msg, m.keys.No):
			m.confirm = nil
		}
		return m, nil
	}
	if m.view == viewList {
		switch {
		case key.Matches(msg, m.keys.Up):
			if m.cursor > 0 {
				m.cursor--
			}
		case key.Matches(msg, m.keys.Down):
			if m.cursor < len(m.entries)-1 {
				m.cursor++
			}
		case key.Matches(msg, m.keys.Open):
			if m.cursor < len(m.entries) {
				m.view, m.svc = viewService, m.entries[m.cursor].Service
				m.gate, m.last, m.lastErr = nil, nil, nil
				return m, m.check()
			}
		case key.Matches(msg, m.keys.Recheck):
			return m, m.list()
		}
		return m, nil
	}
	if m.Busy() {
		return m, nil // one call at a time: the machine reads and writes the state file
	}
	switch {
	case key.Matches(msg, m.keys.Back):
		m.view, m.svc = viewList, ""
		return m, m.list()
	case key.Matches(msg, m.keys.Recheck):
		return m, m.check()
	case key.Matches(msg, m.keys.Accept):
		// The twin of --accept-unobserved: the operator vouches for what
		// cannot be observed from here; the checks run again to show it.
		m.opts.AcceptUnobserved = !m.opts.AcceptUnobserved
		return m, m.check()
	case key.Matches(msg, m.keys.Advance):
		if m.gate == nil || m.to == "" {
			return m, nil
		}
		e, _ := m.selected()
		m.confirm = &pending{to: m.to, question: m.d.Confirmation(e, m.to)}
	case key.Matches(msg, m.keys.Rollback):
		if m.from == cutover.OnNomadOnly {
			return m, nil
		}
		m.confirm = &pending{rollback: true, question: fmt.Sprintf("Roll %s back to on-nomad-only (now %s)? Undone in reverse: the saved Nomad job registered again if it was stopped, then the route removed.", m.svc, m.from)}
	}
	return m, nil
}

// View draws the list or the open service.
func (m Model) View() string {
	var b strings.Builder
	b.WriteString(m.st.Title.Render("Cutover") + m.st.Dim.Render(" — every Nomad job, one service at a time") + "\n\n")
	if m.view == viewList {
		m.viewList(&b)
	} else {
		m.viewService(&b)
	}
	if m.confirm != nil {
		b.WriteString("\n" + m.confirm.question + " " + m.st.Key.Render("[y/n]") + "\n")
	}
	if m.busy != "" {
		b.WriteString("\n" + m.st.Dim.Render(m.busy) + "\n")
	}
	b.WriteString("\n" + m.st.Dim.Render(m.Help()) + "\n")
	return b.String()
}

func (m Model) viewList(b *strings.Builder) {
	if m.listErr != nil {
		b.WriteString(m.st.Bad.Render("Could not list the Nomad jobs: ") + m.listErr.Error() + "\n")
		return
	}
	if m.entries == nil {
		b.WriteString("Listing the Nomad jobs…\n")
		return
	}
	fmt.Fprintf(b, "  %-16s %-17s %s\n", "SERVICE", "STATE", "NEXT")
	for i, e := range m.entries {
		line := fmt.Sprintf("%-16s %-17s %s", e.Service, e.State, e.Next)
		if len(line) > m.width-2 {
			line = line[:m.width-3] + "…"
		}
		if i == m.cursor {
			b.WriteString(m.st.Cursor.Render("> "+line) + "\n")
		} else {
			b.WriteString("  " + line + "\n")
		}
	}
}

func (m Model) viewService(b *strings.Builder) {
	e, _ := m.selected()
	fmt.Fprintf(b, "%s (Nomad job %s): %s\n", m.st.Heading.Render(m.svc), e.NomadJob, m.st.Selected.Render(string(m.from)))
	if m.opts.AcceptUnobserved {
		b.WriteString(m.st.Warn.Render("Checks that cannot be observed from here are accepted (u to stop): you vouch for them.") + "\n")
	}
	if m.last != nil {
		for _, s := range m.last.Steps {
			fmt.Fprintf(b, "  %s %-16s %s\n", m.st.Mark(s.Status), s.Name, firstLine(s.Detail))
		}
		if m.lastErr != nil {
			b.WriteString(m.st.Bad.Render("  "+verb(m.lastErr)+": ") + m.lastErr.Error() + "\n")
		}
		b.WriteString("\n")
	}
	switch {
	case m.checkErr != nil:
		b.WriteString(m.st.Bad.Render("The checks could not run: ") + m.checkErr.Error() + "\n")
	case m.gate == nil:
	case m.to == "":
		b.WriteString("No transition left: " + cutover.NextAction(m.from, m.svc, e.NomadJob) + "\n")
	default:
		verdict := m.st.OK.Render("ready")
		if !m.gate.Ready() {
			verdict = m.st.Bad.Render(fmt.Sprintf("blocked by %d check(s)", len(m.gate.Blockers())))
		}
		fmt.Fprintf(b, "Checks before %s: %s\n", m.st.Selected.Render(string(m.to)), verdict)
		for _, c := range m.gate.Checks {
			fmt.Fprintf(b, "  %s %-18s %s\n", m.st.Mark(c.Status), c.ID, c.Checked)
			fmt.Fprintf(b, "      found: %s\n", c.Found)
			if c.Next != "" && !c.Status.OK() {
				fmt.Fprintf(b, "      next: %s\n", c.Next)
			}
		}
	}
	if m.rs != nil && m.checkErr == nil && m.gate != nil {
		fmt.Fprintf(b, "Right-sizing: %s %s\n", m.st.Mark(m.rs.Status), m.rs.Evidence)
		for _, tk := range m.rs.Tasks {
			fmt.Fprintf(b, "  task %s: Nomad %d MHz %d MB, VPA target %s %s (saving %d MHz %d MB)\n",
				tk.Task, tk.Nomad.CPUMHz, tk.Nomad.MemoryMB, tk.TargetCPU, tk.TargetMemory, tk.Saving.CPUMHz, tk.Saving.MemoryMB)
		}
	}
}

// verb names what a failed call means for the operator.
func verb(err error) string {
	var te *cutover.TransitionError
	switch {
	case errors.As(err, &te):
		return "Refused, nothing changed"
	case errors.Is(err, cutover.ErrRouting):
		return "Traffic not switched"
	default:
		return "Failed"
	}
}

func firstLine(s string) string {
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i]
	}
	return s
}
