// Package stageui is the screen of one installation stage: the plan summary
// (destroys highlighted), a confirmation, live progress (bar, resource
// lines, diagnostics as they arrive), then the stage's verification with
// retry / skip / roll back on failure. All I/O runs in tea.Cmds through the
// Driver (a *stages.Runner); the wizard's TUI mounts the model as a screen.
package stageui

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/charmbracelet/bubbles/key"
	"github.com/charmbracelet/bubbles/progress"
	tea "github.com/charmbracelet/bubbletea"

	"migrate-tui/internal/stages"
	"migrate-tui/internal/status"
	"migrate-tui/internal/tfrunner"
)

// Driver is what the screen needs from the stage runner.
type Driver interface {
	Plan(ctx context.Context, s stages.Stage) (*tfrunner.Plan, error)
	Apply(ctx context.Context, p *tfrunner.Plan, events chan<- tfrunner.Event) error
	Verify(ctx context.Context, s stages.Stage, p *tfrunner.Plan) ([]stages.CheckResult, error)
	Skip(s stages.Stage, reason string) error
	PlanRollback(ctx context.Context, s stages.Stage) (*tfrunner.Plan, error)
	ApplyRollback(ctx context.Context, p *tfrunner.Plan, events chan<- tfrunner.Event) error
}

// Phase is where the screen is.
type Phase int

const (
	Planning Phase = iota
	Confirm
	Applying
	Verifying
	Verified
	Failed // plan/apply/verify failed; retry/skip/roll back offered
	Done   // left the screen (applied, skipped, rolled back or declined)
)

// KeyMap is the screen's keys.
type KeyMap struct {
	Yes, No, Retry, Skip, Rollback, Continue, Interrupt, Unlock, Leave key.Binding
}

// DefaultKeyMap is the default keys.
var DefaultKeyMap = KeyMap{
	Yes:       key.NewBinding(key.WithKeys("y"), key.WithHelp("y", "apply")),
	No:        key.NewBinding(key.WithKeys("n", "esc"), key.WithHelp("n", "not now")),
	Retry:     key.NewBinding(key.WithKeys("r"), key.WithHelp("r", "retry")),
	Skip:      key.NewBinding(key.WithKeys("s"), key.WithHelp("s", "skip (recorded)")),
	Rollback:  key.NewBinding(key.WithKeys("b"), key.WithHelp("b", "roll back the stage")),
	Continue:  key.NewBinding(key.WithKeys("enter"), key.WithHelp("enter", "continue")),
	Interrupt: key.NewBinding(key.WithKeys("ctrl+c"), key.WithHelp("ctrl+c", "stop Terraform gracefully")),
	Unlock:    key.NewBinding(key.WithKeys("u"), key.WithHelp("u", "force-unlock (the holder is gone)")),
	Leave:     key.NewBinding(key.WithKeys("esc"), key.WithHelp("esc", "leave; the apply goes on")),
}

// unlocker is the optional force-unlock of the Driver (*stages.Runner has it).
type unlocker interface {
	ForceUnlock(ctx context.Context, le *tfrunner.LockError, confirmed bool) error
}

// Styles are the one theme (internal/status), shared with the wizard and
// the checks screen.
type Styles = status.Theme

// DefaultStyles are the screen's styles.
func DefaultStyles() Styles { return status.DefaultTheme() }

// DoneMsg tells the host the screen is finished.
type DoneMsg struct {
	Stage   string
	Outcome stages.Outcome // applied, skipped, rolled-back; "" when declined
}

// Messages from the commands.
type (
	planMsg struct {
		p        *tfrunner.Plan
		err      error
		rollback bool
	}
	verifyMsg struct {
		results []stages.CheckResult
		err     error
	}
	skipMsg   struct{ err error }
	unlockMsg struct{ err error }
)

// Model is one stage's screen.
type Model struct {
	stage  stages.Stage
	driver Driver
	keys   KeyMap
	st     Styles
	width  int
	height int

	phase    Phase
	rollback bool // the plan/apply in progress is a rollback
	plan     *tfrunner.Plan
	bar      progress.Model
	lines    []string // resource lines, in the order resources started
	lineOf   map[string]int
	diags    []tfrunner.Diagnostic
	last     tfrunner.Event
	results  []stages.CheckResult
	err      error
	// confirmUnlock is set after the first u: the next y releases the lock.
	confirmUnlock bool
	outcome       stages.Outcome

	// ctx is the screen's: plans and verifications stop when the host
	// closes the screen. An apply runs on the host's ctx, owned by runs.
	ctx, host context.Context
	close     context.CancelFunc
	runs      *Runs
	run       *Run // the apply shown, if any
	token     *int // this screen's chain of waits on run
	seen      int  // events of run already shown
	// leaving is set by esc during an apply: the next esc leaves the screen.
	leaving bool
}

// New returns the screen for stage s on its own Runs; Init plans it.
func New(s stages.Stage, d Driver) Model { return NewIn(context.Background(), NewRuns(), s, d) }

// NewIn returns the screen for stage s in a host: ctx is the program's and
// runs the program's applies, so a screen built again for a stage whose
// apply is still running (or finished unseen) shows that apply.
func NewIn(ctx context.Context, runs *Runs, s stages.Stage, d Driver) Model {
	sctx, cancel := context.WithCancel(ctx)
	return Model{stage: s, driver: d, keys: DefaultKeyMap, st: DefaultStyles(), width: 80, height: 24,
		bar: progress.New(progress.WithSolidFill("2"), progress.WithWidth(40), progress.WithoutPercentage()),
		ctx: sctx, host: ctx, close: cancel, runs: runs}
}

// Close is the host's teardown when it leaves the screen: a plan or
// verification in flight stops (Terraform gets SIGINT); an apply goes on.
func (m Model) Close() { m.close() }

// CapturesEsc: during an apply the first esc only says what leaving means.
func (m Model) CapturesEsc() bool { return m.phase == Applying && !m.leaving }

// CapturesCtrlC: while Terraform applies, ctrl+c stops it gracefully.
func (m Model) CapturesCtrlC() bool { return m.phase == Applying }

// Phase reports where the screen is (tests, host).
func (m Model) Phase() Phase { return m.phase }

// Init plans the stage, or shows its apply when one is running or
// finished while the operator was elsewhere.
func (m Model) Init() tea.Cmd {
	if r := m.runs.Active(m.stage.Name); r != nil {
		return func() tea.Msg { return attachMsg{r} }
	}
	return planCmd(m.ctx, m.driver, m.stage, false)
}

// attachMsg puts a screen built again on its stage's running apply.
type attachMsg struct{ run *Run }

func planCmd(ctx context.Context, d Driver, s stages.Stage, rollback bool) tea.Cmd {
	return func() tea.Msg {
		var p *tfrunner.Plan
		var err error
		if rollback {
			p, err = d.PlanRollback(ctx, s)
		} else {
			p, err = d.Plan(ctx, s)
		}
		return planMsg{p: p, err: err, rollback: rollback}
	}
}

// show puts the screen on run from its first event, with a new chain of
// waits (a chain a left screen still has in flight is ignored).
func (m Model) show(r *Run) (Model, tea.Cmd) {
	m.run, m.token, m.seen, m.leaving = r, new(int), 0, false
	m.plan, m.rollback = r.plan, r.rollback
	m.phase, m.lines, m.lineOf, m.diags, m.last = Applying, nil, nil, nil, tfrunner.Event{Total: r.plan.Summary.Steps}
	return m, r.next(m.token, 0)
}

func verifyCmd(ctx context.Context, d Driver, s stages.Stage, p *tfrunner.Plan) tea.Cmd {
	return func() tea.Msg {
		rs, err := d.Verify(ctx, s, p)
		return verifyMsg{results: rs, err: err}
	}
}

func (m Model) done(o stages.Outcome) (Model, tea.Cmd) {
	m.phase, m.outcome = Done, o
	s := m.stage.Name
	return m, func() tea.Msg { return DoneMsg{Stage: s, Outcome: o} }
}

// Update handles keys and command results.
func (m Model) Update(msg tea.Msg) (Model, tea.Cmd) {
	switch msg := msg.(type) {
	case tea.WindowSizeMsg:
		m.width, m.height = msg.Width, msg.Height
		m.bar.Width = max(10, min(50, msg.Width-30))
	case planMsg:
		m.plan, m.err, m.rollback = msg.p, msg.err, msg.rollback
		if msg.err != nil {
			m.phase = Failed
			return m, nil
		}
		if !msg.p.Summary.HasChanges() && !msg.rollback {
			m.phase = Verifying
			return m, verifyCmd(m.ctx, m.driver, m.stage, m.plan)
		}
		m.phase = Confirm
	case attachMsg:
		return m.show(msg.run)
	case runMsg:
		if msg.token != m.token || msg.run != m.run {
			return m, nil // a wait of a screen that was left
		}
		for _, e := range msg.events {
			m = m.event(e)
		}
		m.seen += len(msg.events)
		if !msg.done {
			return m, m.run.next(m.token, m.seen)
		}
		m.runs.forget(m.run)
		m.run, m.leaving = nil, false
		if msg.err != nil {
			m.phase, m.err = Failed, msg.err
			return m, nil
		}
		if m.rollback {
			return m.done(stages.RolledBack)
		}
		m.phase = Verifying
		return m, verifyCmd(m.ctx, m.driver, m.stage, m.plan)
	case verifyMsg:
		m.results, m.err = msg.results, msg.err
		if msg.err != nil {
			m.phase = Failed
			return m, nil
		}
		m.phase = Verified
	case unlockMsg:
		if msg.err != nil {
			m.err = msg.err
			return m, nil
		}
		m.phase, m.err = Planning, nil
		return m, planCmd(m.ctx, m.driver, m.stage, false)
	case skipMsg:
		if msg.err != nil {
			m.err = msg.err
			return m, nil
		}
		return m.done(stages.Skipped)
	case tea.KeyMsg:
		return m.key(msg)
	}
	return m, nil
}

// event shows one progress event of the apply.
func (m Model) event(e tfrunner.Event) Model {
	m.last = e
	switch e.Kind {
	case tfrunner.EventResourceDone:
		m = m.setLine(e.Address, m.st.Mark(status.Pass)+" "+e.Address+" "+m.st.Dim.Render(e.Action+" "+e.ResourceElapsed.Round(time.Second).String()))
	case tfrunner.EventResourceErrored:
		m = m.setLine(e.Address, m.st.Mark(status.Fail)+" "+e.Address+" "+e.Action+" failed")
	case tfrunner.EventResourceStart:
		m = m.setLine(e.Address, "… "+e.Address+" "+m.st.Dim.Render(e.Action))
	case tfrunner.EventDiagnostic:
		m.diags = append(m.diags, *e.Diagnostic)
	}
	return m
}

func (m Model) key(msg tea.KeyMsg) (Model, tea.Cmd) {
	switch m.phase {
	case Confirm:
		switch {
		case key.Matches(msg, m.keys.Yes):
			if m.plan.Refused != nil {
				return m, nil
			}
			// The apply runs on the host's context, not the screen's.
			return m.show(m.runs.start(m.host, m.driver, m.stage.Name, m.plan, m.rollback))
		case key.Matches(msg, m.keys.No):
			return m.done("")
		}
	case Applying:
		switch {
		case key.Matches(msg, m.keys.Interrupt) && m.run != nil:
			m.run.Interrupt() // Terraform gets SIGINT and the grace period
		case key.Matches(msg, m.keys.Leave):
			m.leaving = true // the host lets the next esc leave
		}
	case Verified:
		if key.Matches(msg, m.keys.Continue) {
			return m.done(stages.Applied)
		}
	case Failed:
		var le *tfrunner.LockError
		stale := errors.As(m.err, &le) && le.Stale()
		if m.confirmUnlock {
			m.confirmUnlock = false
			u, ok := m.driver.(unlocker)
			if key.Matches(msg, m.keys.Yes) && stale && ok {
				ctx := m.ctx
				return m, func() tea.Msg { return unlockMsg{err: u.ForceUnlock(ctx, le, true)} }
			}
			return m, nil
		}
		switch {
		case key.Matches(msg, m.keys.Unlock) && stale:
			m.confirmUnlock = true
			return m, nil
		case key.Matches(msg, m.keys.Retry):
			var ve *stages.VerifyError
			if errors.As(m.err, &ve) {
				m.phase, m.err = Verifying, nil
				return m, verifyCmd(m.ctx, m.driver, m.stage, m.plan)
			}
			m.phase, m.err = Planning, nil
			return m, planCmd(m.ctx, m.driver, m.stage, false) // an interrupted or failed apply re-plans
		case key.Matches(msg, m.keys.Skip):
			reason := "skipped by the operator"
			var ve *stages.VerifyError
			if errors.As(m.err, &ve) {
				var titles []string
				for _, c := range ve.Failed {
					titles = append(titles, c.Title)
				}
				reason += "; failing checks: " + strings.Join(titles, ", ")
			} else if m.err != nil {
				reason += " after: " + firstLine(m.err.Error())
			}
			d, s := m.driver, m.stage
			return m, func() tea.Msg { return skipMsg{err: d.Skip(s, reason)} }
		case key.Matches(msg, m.keys.Rollback):
			m.phase, m.err = Planning, nil
			return m, planCmd(m.ctx, m.driver, m.stage, true)
		}
	}
	return m, nil
}

// setLine shows a resource's latest state on its own line.
func (m Model) setLine(addr, line string) Model {
	if i, ok := m.lineOf[addr]; ok {
		m.lines[i] = line
		return m
	}
	if m.lineOf == nil {
		m.lineOf = map[string]int{}
	}
	m.lineOf[addr] = len(m.lines)
	m.lines = append(m.lines, line)
	return m
}

func firstLine(s string) string {
	l, _, _ := strings.Cut(s, "\n")
	return l
}

// View renders the screen.
func (m Model) View() string {
	var b strings.Builder
	title := "Stage: " + m.stage.Title
	if m.rollback {
		title += " (roll back)"
	}
	b.WriteString(m.st.Title.Render(title) + m.st.Dim.Render(" — "+m.stage.Blurb) + "\n\n")
	switch m.phase {
	case Planning:
		b.WriteString("Planning…\n")
	case Confirm:
		m.viewPlan(&b)
		if m.plan.Refused != nil {
			b.WriteString("\n" + m.st.Bad.Render("Refused: this plan destroys outside the stage.") + "\n")
			b.WriteString(m.help(m.keys.No))
		} else {
			b.WriteString("\nApply this plan? " + m.help(m.keys.Yes, m.keys.No))
		}
	case Applying:
		m.viewProgress(&b)
	case Verifying:
		m.viewPlanLine(&b)
		b.WriteString("Verifying the stage…\n")
	case Verified:
		m.viewPlanLine(&b)
		m.viewResults(&b)
		b.WriteString("\n" + m.st.OK.Render("Stage "+m.stage.Name+" applied and verified.") + " " + m.help(m.keys.Continue))
	case Failed:
		m.viewFailure(&b)
	case Done:
		fmt.Fprintf(&b, "Stage %s: %s\n", m.stage.Name, nonEmpty(string(m.outcome), "not applied"))
	}
	return b.String()
}

func nonEmpty(s, d string) string {
	if s == "" {
		return d
	}
	return s
}

func (m Model) help(bs ...key.Binding) string {
	var parts []string
	for _, k := range bs {
		h := k.Help()
		parts = append(parts, m.st.Key.Render("["+h.Key+"]")+" "+h.Desc)
	}
	return strings.Join(parts, "  ") + "\n"
}

func (m Model) viewPlanLine(b *strings.Builder) {
	if m.plan != nil {
		b.WriteString("Plan: " + m.plan.Summary.String() + "\n")
	}
}

func (m Model) viewPlan(b *strings.Builder) {
	s := m.plan.Summary
	b.WriteString("Plan: " + s.String() + "\n")
	for _, mod := range s.Modules() {
		ms := s.ByModule[mod]
		name := nonEmpty(mod, "(root)")
		fmt.Fprintf(b, "  %-44s %s %s %s\n", truncate(name, 44),
			m.st.OK.Render(fmt.Sprintf("+%d", ms.Add)), m.st.Warn.Render(fmt.Sprintf("~%d", ms.Change)), m.st.Bad.Render(fmt.Sprintf("-%d", ms.Destroy)))
	}
	if len(s.Destroys) > 0 {
		b.WriteString(m.st.Bad.Render("Destroys:") + "\n")
		for _, a := range s.Destroys {
			b.WriteString("  " + m.st.Bad.Render("- "+truncate(a, m.width-6)) + "\n")
		}
	}
}

func truncate(s string, n int) string {
	if n <= 1 || len(s) <= n {
		return s
	}
	return s[:n-1] + "…"
}

func (m Model) viewProgress(b *strings.Builder) {
	e := m.last
	pct := 0.0
	if e.Total > 0 {
		pct = float64(e.Done) / float64(e.Total)
	}
	fmt.Fprintf(b, "%s %d/%d  %s\n\n", m.bar.ViewAs(pct), e.Done, e.Total, e.Elapsed.Round(time.Second))
	room := max(3, m.height-10-min(len(m.diags), 3))
	lines := m.lines
	if len(lines) > room {
		lines = lines[len(lines)-room:]
	}
	for _, l := range lines {
		b.WriteString("  " + l + "\n")
	}
	for i, d := range m.diags {
		if i == 3 {
			break
		}
		st := m.st.Warn
		if d.Severity == "error" {
			st = m.st.Bad
		}
		b.WriteString(st.Render(d.Severity+": "+truncate(d.Summary, m.width-12)) + "\n")
	}
	if m.leaving {
		b.WriteString("\n" + m.st.Warn.Render("Leave this screen? The apply goes on, holding the state lock until it ends;") + "\n" +
			"come back to see it. " + m.help(m.keys.Leave, m.keys.Interrupt))
		return
	}
	b.WriteString("\n" + m.st.Dim.Render("ctrl+c stops Terraform gracefully; running the stage again re-plans; esc leaves it running") + "\n")
}

func (m Model) viewResults(b *strings.Builder) {
	for _, r := range m.results {
		b.WriteString(m.st.Mark(r.Status) + " " + truncate(r.Title+": "+r.Evidence, m.width-3) + "\n")
	}
}

func (m Model) viewFailure(b *strings.Builder) {
	var (
		ve *stages.VerifyError
		re *stages.RegressionError
		de *tfrunner.DestroyOutsideError
		le *tfrunner.LockError
		pe *stages.PreCheckError
	)
	switch {
	case errors.As(m.err, &pe):
		// Nothing was planned: say what is missing and how to make it.
		b.WriteString(m.st.Bad.Render("Not planned: ") + pe.Err.Error() + "\n")
		b.WriteString("\n" + m.help(m.keys.Retry, m.keys.Skip))
		return
	case errors.As(m.err, &ve):
		m.viewPlanLine(b)
		for _, c := range ve.Failed {
			b.WriteString(m.st.Bad.Render(c.Status.Mark()+" "+c.Title) + ": " + c.Evidence + "\n")
			if c.Hint != "" {
				b.WriteString("  hint: " + c.Hint + "\n")
			}
		}
		b.WriteString("\n" + m.help(m.keys.Retry, m.keys.Skip, m.keys.Rollback))
		return
	case errors.As(m.err, &re):
		b.WriteString(m.st.Bad.Render("Nomad regressed "+re.When+" the stage:") + "\n")
		for _, r := range re.Regressions {
			b.WriteString("  - " + r.Job + ": " + r.What + "\n")
		}
		b.WriteString("\nStopped. When Nomad is healthy again: " + m.help(m.keys.Retry, m.keys.Rollback))
		return
	case errors.As(m.err, &de):
		b.WriteString(m.st.Bad.Render("Refused: the plan destroys outside the stage:") + "\n")
		for _, a := range de.Addresses {
			b.WriteString("  - " + a + "\n")
		}
	case errors.As(m.err, &le):
		b.WriteString(m.st.Bad.Render("The Terraform state is locked.") + "\n" + le.Error() + "\n")
		if le.Stale() {
			if m.confirmUnlock {
				b.WriteString("\nForce-unlock lock " + le.Info.ID + "? " + m.help(m.keys.Yes, m.keys.No))
				return
			}
			b.WriteString("\n" + m.help(m.keys.Unlock, m.keys.Retry))
			return
		}
	case errors.Is(m.err, tfrunner.ErrInterrupted):
		b.WriteString(m.st.Warn.Render("Interrupted: Terraform stopped gracefully.") + " Retrying plans again and continues.\n")
	default:
		b.WriteString(m.st.Bad.Render("Failed: ") + m.err.Error() + "\n")
	}
	b.WriteString("\n" + m.help(m.keys.Retry, m.keys.Skip, m.keys.Rollback))
}
