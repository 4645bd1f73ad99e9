// Package evaluateui is the go/no-go screen: it gathers the evidence
// (internal/evaluate) in a command, shows each criterion as it arrives, then
// the proposal, the overhead per node, the services moved with their VPA
// savings and where the decision record is. The decision is the operator's:
// the screen proposes and points at the record, it never decides.
package evaluateui

import (
	"context"
	"fmt"
	"strings"

	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"

	"migrate-tui/internal/checks"
	"migrate-tui/internal/evaluate"
	"migrate-tui/internal/state"
	"migrate-tui/internal/status"
)

// GatherFunc gathers the evidence once, reporting each criterion's result to
// obs as it comes. The host builds it from evaluate.Gather and its Deps.
type GatherFunc func(ctx context.Context, obs checks.Observer) evaluate.Evidence

// Options configure the screen.
type Options struct {
	Gather GatherFunc
	// Context is the host program's: quitting stops a run. Nil: Background.
	Context context.Context
}

// KeyMap is the screen's keys.
type KeyMap struct {
	Up, Down, Detail, Refresh key.Binding
}

// DefaultKeyMap is the screen's default keys.
var DefaultKeyMap = KeyMap{
	Up:      key.NewBinding(key.WithKeys("up", "k"), key.WithHelp("↑/k", "scroll")),
	Down:    key.NewBinding(key.WithKeys("down", "j"), key.WithHelp("↓/j", "scroll")),
	Detail:  key.NewBinding(key.WithKeys("d"), key.WithHelp("d", "details")),
	Refresh: key.NewBinding(key.WithKeys("r"), key.WithHelp("r", "gather again")),
}

// Messages carry the run generation so a stale run's news is dropped.
type (
	resultMsg struct {
		gen int
		r   checks.Result
	}
	// DoneMsg is a finished gathering; the host records it.
	DoneMsg struct {
		gen      int
		Evidence evaluate.Evidence
	}
)

// Model is the go/no-go screen.
type Model struct {
	opts    Options
	keys    KeyMap
	gen     int
	busy    bool
	events  chan tea.Msg
	cancel  context.CancelFunc
	partial []checks.Result
	ev      *evaluate.Evidence
	detail  bool
	offset  int
	width   int
	height  int
}

// New returns the screen; Init starts the first gathering.
func New(o Options) Model {
	return Model{opts: o, keys: DefaultKeyMap, width: 80, height: 24}
}

// Init starts gathering.
func (m Model) Init() tea.Cmd { return func() tea.Msg { return startMsg{} } }

type startMsg struct{}

// Evidence is the last finished gathering (nil before the first).
func (m Model) Evidence() *evaluate.Evidence { return m.ev }

// Busy reports whether a gathering is in progress.
func (m Model) Busy() bool { return m.busy }

// Stop cancels a gathering in progress (call when the screen is left).
func (m Model) Stop() {
	if m.cancel != nil {
		m.cancel()
	}
}

func (m *Model) start() tea.Cmd {
	m.Stop()
	m.gen++
	m.busy = true
	m.partial = nil
	gen := m.gen
	ch := make(chan tea.Msg, len(checks.All())+2)
	m.events = ch
	parent := m.opts.Context
	if parent == nil {
		parent = context.Background()
	}
	ctx, cancel := context.WithCancel(parent)
	m.cancel = cancel
	gather := m.opts.Gather
	launch := func() tea.Msg {
		go func() {
			ev := gather(ctx, observer{gen: gen, ch: ch})
			ch <- DoneMsg{gen: gen, Evidence: ev}
		}()
		return nil
	}
	return tea.Batch(launch, listen(ch))
}

type observer struct {
	gen int
	ch  chan<- tea.Msg
}

func (o observer) Started(checks.Check) {}
func (o observer) Done(r checks.Result) { o.ch <- resultMsg{gen: o.gen, r: r} }

func listen(ch <-chan tea.Msg) tea.Cmd { return func() tea.Msg { return <-ch } }

// Update handles keys and the gathering's messages.
func (m Model) Update(msg tea.Msg) (Model, tea.Cmd) {
	switch msg := msg.(type) {
	case tea.WindowSizeMsg:
		m.width, m.height = msg.Width, msg.Height
	case startMsg:
		if !m.busy {
			return m, m.start()
		}
	case resultMsg:
		if msg.gen != m.gen {
			return m, nil
		}
		m.partial = append(m.partial, msg.r)
		return m, listen(m.events)
	case DoneMsg:
		if msg.gen != m.gen || !m.busy {
			return m, nil
		}
		m.busy = false
		ev := msg.Evidence
		m.ev = &ev
	case tea.KeyMsg:
		switch {
		case key.Matches(msg, m.keys.Up):
			if m.offset > 0 {
				m.offset--
			}
		case key.Matches(msg, m.keys.Down):
			m.offset++
		case key.Matches(msg, m.keys.Detail):
			m.detail = !m.detail
		case key.Matches(msg, m.keys.Refresh):
			if !m.busy {
				return m, m.start()
			}
		}
	}
	return m, nil
}

var theme = status.DefaultTheme()

// View renders the evidence, scrolled to the offset.
func (m Model) View() string {
	lines := strings.Split(strings.TrimRight(m.body(), "\n"), "\n")
	help := theme.Dim.Render("↑/↓ scroll · d details · r gather again")
	room := max(m.height-2, 3)
	off := min(m.offset, max(len(lines)-room, 0))
	end := min(off+room, len(lines))
	return strings.Join(lines[off:end], "\n") + "\n\n" + help
}

func (m Model) body() string {
	var b strings.Builder
	b.WriteString(theme.Title.Render("Go / no-go") + "\n")
	if m.ev == nil {
		fmt.Fprintf(&b, "%s\n", theme.Dim.Render(fmt.Sprintf("gathering the evidence… %d of %d criteria", len(m.partial), len(checks.All()))))
		for _, r := range m.partial {
			fmt.Fprintf(&b, "%s %s %s\n", theme.Mark(r.Status), r.ID, r.Title)
		}
		return b.String()
	}
	ev := m.ev
	if m.busy {
		b.WriteString(theme.Dim.Render("gathering again…") + "\n")
	}
	verdict := theme.OK
	if ev.Proposal.Verdict == checks.NoGo {
		verdict = theme.Bad
	}
	fmt.Fprintf(&b, "\nProposed: %s\n", verdict.Render(ev.Proposal.Summary()))
	fmt.Fprintf(&b, "%s\n", theme.Dim.Render(wrap("Rule: "+ev.Proposal.Rule, m.width)))
	b.WriteString(recordLine(ev.Decision) + "\n")
	if ev.DecisionError != "" {
		fmt.Fprintf(&b, "%s %s\n", theme.Mark(status.Fail), wrap("the decision record was not written: "+ev.DecisionError+". Check that the directory is writable, then r.", m.width-2))
	}

	fmt.Fprintf(&b, "\n%s  %d pass · %d fail · %d warn · %d skip · %d cannot be observed here\n", theme.Heading.Render("Success criteria"),
		ev.Summary.Pass, ev.Summary.Fail, ev.Summary.Warn, ev.Summary.Skip, ev.Summary.Unobservable)
	for _, r := range ev.Checks {
		fmt.Fprintf(&b, "%s %-7s %s\n", theme.Mark(r.Status), r.ID, r.Title)
		if m.detail || r.Status == checks.Fail {
			first, _, _ := strings.Cut(r.Evidence, "\n")
			fmt.Fprintf(&b, "          %s\n", theme.Dim.Render(status.Truncate(first, m.width-10)))
		}
	}

	b.WriteString("\n" + theme.Heading.Render("Overhead per node (memory, CPU)") + "\n")
	if ev.OverheadError != "" {
		fmt.Fprintf(&b, "%s %s\n", theme.Mark(status.Fail), wrap(ev.OverheadError, m.width-2))
	}
	for _, o := range ev.Overhead {
		line := fmt.Sprintf("%-9s K8s: node %d MiB %dm, platform pods %d MiB %dm", o.Node, o.NodeUsedMB, o.NodeCPUMilli, o.PlatformMB, o.PlatformCPUMilli)
		if o.Nomad != nil {
			line += fmt.Sprintf(" · Nomad: agents+OS %d MiB %d MHz, allocations %d MiB %d MHz", o.Nomad.AgentsMB(), o.Nomad.AgentsCPUMHz(), o.Nomad.AllocsMB, o.Nomad.AllocsCPUMHz)
		} else {
			line += " · Nomad: no client stats"
		}
		b.WriteString(line + "\n")
	}

	b.WriteString("\n" + theme.Heading.Render("Services moved") + "\n")
	if len(ev.Moved) == 0 {
		b.WriteString(theme.Dim.Render("none yet (the Cutover step moves them)") + "\n")
	}
	for _, mv := range ev.Moved {
		confirmed := ""
		if mv.RoutingConfirmed {
			confirmed = ", traffic switch confirmed"
		}
		fmt.Fprintf(&b, "%-12s %s%s\n", mv.Service, mv.Phase, confirmed)
	}

	b.WriteString("\n" + theme.Heading.Render("VPA savings") + "\n")
	switch rep := ev.Rightsize; {
	case rep == nil:
		fmt.Fprintf(&b, "%s %s\n", theme.Mark(status.Fail), wrap(ev.RightsizeError, m.width-2))
	default:
		for _, s := range rep.Services {
			if s.Status != status.Pass {
				fmt.Fprintf(&b, "%s %-12s %s\n", theme.Mark(s.Status), s.Service, theme.Dim.Render(status.Truncate(s.Evidence, m.width-16)))
				continue
			}
			fmt.Fprintf(&b, "%s %-12s on %-10s saving cpu %d MHz, memory %d MB\n", theme.Mark(s.Status), s.Service, s.Where, s.Saving.CPUMHz, s.Saving.MemoryMB)
			if m.detail && s.JobspecDiff != "" {
				for _, l := range strings.Split(strings.TrimRight(s.JobspecDiff, "\n"), "\n") {
					b.WriteString("    " + l + "\n")
				}
			}
		}
		fmt.Fprintf(&b, "total saving: cpu %d MHz, memory %d MB (1 core = %d MHz)\n", rep.Total.CPUMHz, rep.Total.MemoryMB, rep.CoreMHz)
	}
	return b.String()
}

// recordLine says where the decision record is and what is left to do.
func recordLine(r evaluate.Record) string {
	switch {
	case r.Path == "":
		return theme.Warn.Render("no decision record configured")
	case r.DraftPath != "" && r.State != "final":
		return theme.Warn.Render("draft written to " + r.DraftPath + " beside your " + r.Path + " (left untouched): merge it, then delete its draft marker line")
	case r.State == "draft":
		return theme.Warn.Render("draft written to " + r.Path + ": write your decision there and delete the draft marker line")
	case r.State == "final":
		return theme.OK.Render("decision recorded in " + r.Path + " (its evidence section is kept current)")
	}
	return theme.Warn.Render("no decision record at " + r.Path)
}

// wrap breaks s into lines of at most n runes at spaces.
func wrap(s string, n int) string {
	n = max(n, 20)
	var out, line []string
	width := 0
	for _, w := range strings.Fields(s) {
		if width > 0 && width+1+len([]rune(w)) > n {
			out = append(out, strings.Join(line, " "))
			line, width = nil, 0
		}
		if width > 0 {
			width++
		}
		line = append(line, w)
		width += len([]rune(w))
	}
	if len(line) > 0 {
		out = append(out, strings.Join(line, " "))
	}
	return strings.Join(out, "\n")
}

// Standalone wraps the screen as a whole program (q or ctrl+c quits).
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

// GatherWith is the usual GatherFunc: evaluate.Gather with d, st and o, the
// screen's observer added.
func GatherWith(d *checks.Deps, st *state.State, o evaluate.Options) GatherFunc {
	return func(ctx context.Context, obs checks.Observer) evaluate.Evidence {
		o.Observer = obs
		return evaluate.Gather(ctx, d, st, o)
	}
}
