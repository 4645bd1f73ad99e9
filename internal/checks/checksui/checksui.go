// Package checksui is the live success-criteria dashboard: a Bubble Tea
// model that runs the checks, shows each result as it arrives, runs them
// again on an interval and shows one check's evidence and hint on select.
// All I/O happens in tea.Cmds; the wizard's TUI mounts the model as a screen.
package checksui

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"

	"migrate-tui/internal/checks"
	"migrate-tui/internal/status"
)

// RunFunc runs the checks once, reporting each result to obs as it comes.
// The host builds it from checks.Run and its Deps.
type RunFunc func(ctx context.Context, obs checks.Observer) []checks.Result

// Options configure the dashboard.
type Options struct {
	Checks  []checks.Check // the rows, in order
	Run     RunFunc
	Refresh time.Duration // pause between runs; 0 runs once (r runs again)
	Now     func() time.Time
	// Context is the host program's: quitting stops a run. Nil: Background.
	Context context.Context
}

// KeyMap is the dashboard's keys.
type KeyMap struct {
	Up, Down, Detail, Back, Refresh key.Binding
}

// DefaultKeyMap is the dashboard's default keys.
var DefaultKeyMap = KeyMap{
	Up:      key.NewBinding(key.WithKeys("up", "k"), key.WithHelp("↑/k", "up")),
	Down:    key.NewBinding(key.WithKeys("down", "j"), key.WithHelp("↓/j", "down")),
	Detail:  key.NewBinding(key.WithKeys("enter", " "), key.WithHelp("enter", "detail")),
	Back:    key.NewBinding(key.WithKeys("esc"), key.WithHelp("esc", "back")),
	Refresh: key.NewBinding(key.WithKeys("r"), key.WithHelp("r", "run again")),
}

// Messages. Each carries the run generation so a stale run's news is dropped.
type (
	startedMsg struct {
		gen int
		id  string
	}
	resultMsg struct {
		gen int
		r   checks.Result
	}
	runDoneMsg struct {
		gen int
		at  time.Time
	}
	tickMsg struct{ gen int }
)

// Model is the dashboard.
type Model struct {
	opts    Options
	keys    KeyMap
	results map[string]checks.Result
	running map[string]bool
	cursor  int
	detail  bool
	width   int

	gen     int
	busy    bool
	events  chan tea.Msg
	cancel  context.CancelFunc
	lastRun time.Time
}

// New returns a dashboard; Init starts the first run.
func New(o Options) Model {
	if o.Now == nil {
		o.Now = time.Now
	}
	return Model{opts: o, keys: DefaultKeyMap, results: map[string]checks.Result{}, running: map[string]bool{}, width: 80}
}

// Init starts the first run.
func (m Model) Init() tea.Cmd { return func() tea.Msg { return tickMsg{gen: 0} } }

// Results returns the latest result of every check that has one, in row order.
func (m Model) Results() []checks.Result {
	var out []checks.Result
	for _, c := range m.opts.Checks {
		if r, ok := m.results[c.ID]; ok {
			out = append(out, r)
		}
	}
	return out
}

// Busy reports whether a run is in progress.
func (m Model) Busy() bool { return m.busy }

// Stop cancels a run in progress (call when the screen is left).
func (m Model) Stop() {
	if m.cancel != nil {
		m.cancel()
	}
}

// start begins a run: the observer forwards results into a channel that
// listen reads one message at a time.
func (m *Model) start() tea.Cmd {
	if m.cancel != nil {
		m.cancel()
	}
	m.gen++
	m.busy = true
	m.running = map[string]bool{}
	gen := m.gen
	ch := make(chan tea.Msg, len(m.opts.Checks)*2+1)
	m.events = ch
	parent := m.opts.Context
	if parent == nil {
		parent = context.Background()
	}
	ctx, cancel := context.WithCancel(parent)
	m.cancel = cancel
	run, now := m.opts.Run, m.opts.Now
	launch := func() tea.Msg {
		go func() {
			run(ctx, observer{gen: gen, ch: ch})
			ch <- runDoneMsg{gen: gen, at: now()}
		}()
		return nil
	}
	return tea.Batch(launch, listen(ch))
}

type observer struct {
	gen int
	ch  chan<- tea.Msg
}

func (o observer) Started(c checks.Check) { o.ch <- startedMsg{gen: o.gen, id: c.ID} }
func (o observer) Done(r checks.Result)   { o.ch <- resultMsg{gen: o.gen, r: r} }

func listen(ch <-chan tea.Msg) tea.Cmd {
	return func() tea.Msg { return <-ch }
}

// Update handles keys, results and the refresh timer.
func (m Model) Update(msg tea.Msg) (Model, tea.Cmd) {
	switch msg := msg.(type) {
	case tea.WindowSizeMsg:
		m.width = msg.Width
	case tickMsg:
		if msg.gen != m.gen || m.busy {
			return m, nil
		}
		return m, m.start()
	case startedMsg:
		if msg.gen != m.gen {
			return m, nil
		}
		m.running[msg.id] = true
		return m, listen(m.events)
	case resultMsg:
		if msg.gen != m.gen {
			return m, nil
		}
		delete(m.running, msg.r.ID)
		m.results[msg.r.ID] = msg.r
		return m, listen(m.events)
	case runDoneMsg:
		if msg.gen != m.gen {
			return m, nil
		}
		m.busy = false
		m.lastRun = msg.at
		if m.opts.Refresh > 0 {
			gen := m.gen
			return m, tea.Tick(m.opts.Refresh, func(time.Time) tea.Msg { return tickMsg{gen: gen} })
		}
	case tea.KeyMsg:
		switch {
		case key.Matches(msg, m.keys.Up):
			if m.cursor > 0 {
				m.cursor--
			}
		case key.Matches(msg, m.keys.Down):
			if m.cursor < len(m.opts.Checks)-1 {
				m.cursor++
			}
		case key.Matches(msg, m.keys.Detail):
			m.detail = !m.detail
		case key.Matches(msg, m.keys.Back):
			m.detail = false
		case key.Matches(msg, m.keys.Refresh):
			if !m.busy {
				return m, m.start()
			}
		}
	}
	return m, nil
}

// The screen draws with the one theme (internal/status).
var (
	theme       = status.DefaultTheme()
	titleStyle  = theme.Title
	dimStyle    = theme.Dim
	selStyle    = theme.Selected
	statusStyle = theme.Style
)

// View renders the table, or the selected check's detail.
func (m Model) View() string {
	var b strings.Builder
	s := checks.Summarise(m.Results())
	state := "not run yet"
	switch {
	case m.busy:
		state = "running…"
	case !m.lastRun.IsZero():
		state = "checked " + m.lastRun.Format("15:04:05")
		if m.opts.Refresh > 0 {
			state += fmt.Sprintf(", again every %s", m.opts.Refresh)
		}
	}
	fmt.Fprintf(&b, "%s  %s\n", titleStyle.Render("Success criteria"), dimStyle.Render(state))
	fmt.Fprintf(&b, "%d pass · %d fail · %d warn · %d skip\n\n", s.Pass, s.Fail, s.Warn, s.Skip)
	if m.detail && m.cursor < len(m.opts.Checks) {
		b.WriteString(m.detailView(m.opts.Checks[m.cursor]))
		b.WriteString("\n" + dimStyle.Render("esc back · r run again"))
		return b.String()
	}
	for i, c := range m.opts.Checks {
		mark, state := " ", dimStyle.Render("…")
		if r, ok := m.results[c.ID]; ok {
			st := statusStyle(r.Status)
			state = st.Render(checks.Symbol(r.Status) + " " + string(r.Status))
		}
		if m.running[c.ID] {
			state = dimStyle.Render("running")
		}
		line := fmt.Sprintf("%-7s %-40s %s", c.ID, c.Title, state)
		if i == m.cursor {
			mark = "›"
			line = selStyle.Render(line)
		}
		fmt.Fprintf(&b, "%s %s\n", mark, line)
		// Hints where something fails: the next step, one line.
		if r, ok := m.results[c.ID]; ok && r.Status == checks.Fail && r.Hint != "" {
			fmt.Fprintf(&b, "          %s\n", dimStyle.Render(status.Truncate(r.Hint, m.width-12)))
		}
	}
	b.WriteString("\n" + dimStyle.Render("↑/↓ select · enter detail · r run again"))
	return b.String()
}

func (m Model) detailView(c checks.Check) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s\n%s\n\n", titleStyle.Render(c.ID), titleStyle.Render(c.Title), c.Proves)
	r, ok := m.results[c.ID]
	if !ok {
		b.WriteString(dimStyle.Render("no result yet") + "\n")
		return b.String()
	}
	fmt.Fprintf(&b, "%s  (%s)\n\n", statusStyle(r.Status).Render(checks.Symbol(r.Status)+" "+string(r.Status)), r.Duration.Round(time.Millisecond))
	if r.Evidence != "" {
		fmt.Fprintf(&b, "Found:\n%s\n\n", indent(r.Evidence))
	}
	if r.Hint != "" && r.Status != checks.Pass {
		fmt.Fprintf(&b, "Next step:\n%s\n", indent(r.Hint))
	}
	return b.String()
}

func indent(s string) string { return "  " + strings.ReplaceAll(s, "\n", "\n  ") }

// Standalone wraps the dashboard as a whole program (q or ctrl+c quits).
type Standalone struct{ Model Model }

func (s Standalone) Init() tea.Cmd { return s.Model.Init() }

func (s Standalone) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	if k, ok := msg.(tea.KeyMsg); ok && (k.String() == "q" || k.String() == "ctrl+c") {
		s.Model.Stop()
		return s, tea.Quit
	}
	var cmd tea.Cmd
	s.Model, cmd = s.Model.Update(msg)
	return s, cmd
}

func (s Standalone) View() string { return s.Model.View() }

// RunWith is the usual RunFunc: checks.Run over cs with d and o.
func RunWith(cs []checks.Check, d *checks.Deps, o checks.RunOptions) RunFunc {
	return func(ctx context.Context, obs checks.Observer) []checks.Result {
		return checks.Run(ctx, cs, d, o, obs)
	}
}
