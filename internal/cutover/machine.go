package cutover

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"migrate-tui/internal/faultpoint"
	"migrate-tui/internal/nomadwatch"
	"migrate-tui/internal/state"
)

// TransitionCheck is one more check run before a transition changes
// anything (parity, data, secrets, after-switch: Machine.Checks). It gets
// the service's target and says what it checked, found and the next step.
type TransitionCheck func(ctx context.Context, t Target) GateCheck

// Machine moves one service through its states (states.go), one checked
// transition at a time, and back. It is the one path the CLI and the
// wizard's screen share; the state file keeps where each service is, so an
// interrupted cutover resumes.
type Machine struct {
	Flow
	// Router switches the traffic; nil is PrintedRouter over Flow.Routing,
	// confirmed through Flow.Prompts.ConfirmRouting.
	Router Router
	// Checks are more checks run before entering a state (keyed by the
	// state entered), after the machine's own.
	Checks map[State][]TransitionCheck
}

// TransitionError: a transition's checks block it; nothing was changed.
type TransitionError struct {
	Service  string
	From, To State
	Blockers []GateCheck
	// Cause is ErrNotReady, or ErrRegressions when the guard blocks.
	Cause error
}

func (e *TransitionError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s: %s -> %s refused, %d check(s) block (nothing was changed)", e.Service, e.From, e.To, len(e.Blockers))
	for _, c := range e.Blockers {
		fmt.Fprintf(&b, "; %s: %s", c.ID, c.Found)
		if c.Next != "" {
			fmt.Fprintf(&b, " (next: %s)", c.Next)
		}
	}
	return b.String()
}

func (e *TransitionError) Unwrap() error { return e.Cause }

// ErrAlreadyDone: the service is already cut over.
var ErrAlreadyDone = errors.New("cutover: already done")

// ErrNothingToRollBack: the service never left Nomad.
var ErrNothingToRollBack = errors.New("cutover: nothing to roll back")

func (m Machine) router() Router {
	if m.Router != nil {
		return m.Router
	}
	return PrintedRouter{Routing: m.Routing, Confirm: m.Prompts.ConfirmRouting}
}

func (m Machine) load() (*state.State, state.Cutover, bool, error) {
	st, err := state.Load(m.Repo)
	if err != nil {
		return nil, state.Cutover{}, false, err
	}
	c, ok := lookup(st, m.Gate.Target.Service)
	return st, c, ok, nil
}

// Current is the service's state as recorded.
func (m Machine) Current() (State, error) {
	_, c, ok, err := m.load()
	if err != nil {
		return "", err
	}
	return StateOf(c, ok), nil
}

// Check runs the next transition's checks and changes nothing. At Done
// there is no next transition: to is "" and the gate empty.
func (m Machine) Check(ctx context.Context) (from, to State, g Gate, err error) {
	st, c, ok, err := m.load()
	if err != nil {
		return "", "", Gate{}, err
	}
	from = StateOf(c, ok)
	to, more := from.Next()
	if !more {
		return from, "", Gate{Service: m.Gate.Target.Service, NomadJob: m.Gate.Target.job()}, nil
	}
	g, _ = m.gate(ctx, st, to)
	return from, to, g, nil
}

// gate runs the checks of the transition into to.
func (m Machine) gate(ctx context.Context, st *state.State, to State) (Gate, *guardResult) {
	t := m.Gate.Target
	g := Gate{Service: t.Service, NomadJob: t.job()}
	var gr *guardResult
	switch to {
	case Scaffolded:
		g.Checks = append(g.Checks, moduleCheck(m.Repo, t.Service))
	case Deployed:
		g.Checks = append(g.Checks, objectsCheck(ctx, m.Gate))
	case Verified, TrafficSwitched, NomadStopped:
		// The readiness gate again before each change outside: what held
		// when verified may not hold an hour later.
		g.Checks = append(g.Checks, Readiness(ctx, m.Gate).Checks...)
	case Done:
		c, regs := guardCheck(ctx, m.Gate, st)
		g.Checks = append(g.Checks, c)
		gr = &guardResult{regs: regs}
	}
	for _, chk := range m.Checks[to] {
		c := chk(ctx, t)
		// Acceptance is the machine's (the flag, the screen's toggle), so
		// plugged-in checks only say they could not look.
		if c.Status == Unobservable && m.Gate.AcceptUnobserved {
			c.Status, c.Found = Warn, c.Found+"; accepted unobserved (--accept-unobserved)"
		}
		g.Checks = append(g.Checks, c)
	}
	return g, gr
}

// Advance makes the next transition (or finishes one a previous run left
// half done) and returns what it did.
func (m Machine) Advance(ctx context.Context) (Outcome, error) {
	t := m.Gate.Target
	out := Outcome{Service: t.Service, NomadJob: t.job(), Action: "cutover", Phase: state.CutoverOnNomad}
	st, c, ok, err := m.load()
	if err != nil {
		return out, err
	}
	from := StateOf(c, ok)
	out.State = from
	if ok {
		out.NomadJob, out.Phase = c.NomadJob, c.Phase
	}
	switch {
	case ok && c.Phase == state.CutoverRollingBack:
		return out, fmt.Errorf("a rollback of %s was interrupted; finish it first: migrate-tui cutover %s --rollback", t.Service, t.Service)
	case ok && c.Phase == state.CutoverStopping:
		// A previous run recorded its intent and was killed around the
		// stop: ask Nomad how far it got instead of gating again.
		done, err := m.reconcileStopping(ctx, c, &out)
		if err != nil || done {
			return out, err
		}
	}
	to, more := from.Next()
	if !more {
		return out, fmt.Errorf("%w: %s is already cut over (Nomad job %s stopped, traffic on Kubernetes); migrate-tui cutover %s --rollback puts it back", ErrAlreadyDone, t.Service, c.NomadJob, t.Service)
	}
	g, gr := m.gate(ctx, st, to)
	out.Gate = &g
	if gr != nil {
		out.Regressions = gr.regs
	}
	if !g.Ready() {
		cause := ErrNotReady
		if gr != nil && len(gr.regs) > 0 {
			cause = ErrRegressions
		}
		return out, &TransitionError{Service: t.Service, From: from, To: to, Blockers: g.Blockers(), Cause: cause}
	}
	switch to {
	case TrafficSwitched:
		err = m.switchTraffic(ctx, &out)
	case NomadStopped:
		err = m.stopNomad(ctx, g, &out)
	case Done:
		if ok && c.RoutingConfirmedAt == nil {
			// Stopped by a run from before the machine, which switched
			// traffic after the stop: switch it now.
			if err = m.switchTraffic(ctx, &out); err != nil {
				return out, err
			}
		}
		err = m.enter(&out, to, "every other Nomad job as healthy as at preflight; "+t.Service+" is cut over")
	default:
		err = m.enter(&out, to, passedSummary(g))
	}
	return out, err
}

type guardResult struct{ regs []nomadwatch.Regression }

// Run advances until the service reaches to (Done: all the way), a check
// blocks or a step fails; the steps of every transition are in the outcome.
func (m Machine) Run(ctx context.Context, to State) (Outcome, error) {
	var all Outcome
	if to != Done {
		// Already there or past it: nothing to do (at Done, Advance says
		// it is already cut over).
		_, c, ok, err := m.load()
		if err != nil {
			return all, err
		}
		if cur := StateOf(c, ok); !cur.Before(to) {
			t := m.Gate.Target
			out := Outcome{Service: t.Service, NomadJob: t.job(), Action: "cutover", Phase: state.CutoverOnNomad, State: cur}
			if ok {
				out.NomadJob, out.Phase = c.NomadJob, c.Phase
			}
			return out, nil
		}
	}
	for {
		out, err := m.Advance(ctx)
		out.Steps = append(all.Steps, out.Steps...)
		all = out
		if err != nil || out.State == to || !out.State.Before(to) {
			return all, err
		}
	}
}

// enter records the service in state to.
func (m Machine) enter(out *Outcome, to State, detail string) error {
	if err := m.record(func(c *state.Cutover) {
		c.State, c.Error = string(to), ""
		if to == Scaffolded {
			// A new cutover: a record rolled back before the machine may
			// still hold the old routing confirmation.
			c.RoutingConfirmedAt, c.RoutingSource = nil, ""
		}
	}); err != nil {
		return err
	}
	out.Steps = append(out.Steps, Step{Name: string(to), Status: Pass, Detail: detail})
	out.State = to
	return nil
}

func passedSummary(g Gate) string {
	ids := make([]string, 0, len(g.Checks))
	for _, c := range g.Checks {
		ids = append(ids, c.ID)
	}
	return "checks passed: " + strings.Join(ids, ", ")
}

// switchTraffic makes the switch through the router and records it.
func (m Machine) switchTraffic(ctx context.Context, out *Outcome) error {
	faultpoint.Hit(faultpoint.CutoverBeforeRouting)
	r := m.router()
	if d, ok := r.(interface{ Describe(bool) string }); ok {
		out.Routing = d.Describe(true)
	}
	source, err := r.Switch(ctx, m.Gate.Target)
	if err != nil {
		out.Steps = append(out.Steps, Step{Name: "routing", Status: Warn, Detail: "traffic not switched: " + err.Error()})
		if !errors.Is(err, ErrRouting) {
			err = fmt.Errorf("%w: %v", ErrRouting, err)
		}
		return err
	}
	faultpoint.Hit(faultpoint.CutoverAfterSwitch)
	at := m.now().UTC()
	if err := m.record(func(c *state.Cutover) {
		c.RoutingConfirmedAt, c.RoutingSource, c.Error = &at, source, ""
		if StateOf(*c, true).Before(TrafficSwitched) {
			c.State = string(TrafficSwitched)
		}
	}); err != nil {
		return err
	}
	out.Steps = append(out.Steps, Step{Name: "routing", Status: Pass, Detail: "external traffic switched to Kubernetes (" + source + ")"})
	if out.State.Before(TrafficSwitched) {
		out.State = TrafficSwitched
	}
	return nil
}

// stopNomad saves the job's spec, stops the job and records it.
func (m Machine) stopNomad(ctx context.Context, g Gate, out *Outcome) error {
	t := m.Gate.Target
	if m.Prompts.ConfirmStop == nil || !m.Prompts.ConfirmStop(g) {
		return ErrDeclined
	}
	spec, err := SaveSpec(ctx, m.Gate.Nomad, t)
	if err != nil {
		return err
	}
	if err := m.record(func(c *state.Cutover) {
		c.NomadJob, c.Namespace = t.job(), t.ns()
		c.Phase, c.JobSpec, c.Error, c.RolledBackAt = state.CutoverStopping, spec, "", nil
	}); err != nil {
		return fmt.Errorf("saving the Nomad job spec in the state before stopping it: %w (nothing was stopped)", err)
	}
	faultpoint.Hit(faultpoint.CutoverAfterSaveSpec)
	out.Steps = append(out.Steps, Step{Name: "save-spec", Status: Pass, Detail: fmt.Sprintf("Nomad job %s spec saved in .migrate-tui/state.json (%d bytes, not shown)", t.job(), len(spec))})
	out.Phase = state.CutoverStopping

	wctx, cancel := m.waitCtx(ctx)
	defer cancel()
	msg, err := StopJob(wctx, m.Gate.Nomad, t)
	if err != nil {
		_ = m.record(func(c *state.Cutover) { c.Error = err.Error() })
		out.Steps = append(out.Steps, Step{Name: "stop-job", Status: Block, Detail: err.Error()})
		return err
	}
	faultpoint.Hit(faultpoint.CutoverAfterStop)
	out.Steps = append(out.Steps, Step{Name: "stop-job", Status: Pass, Detail: msg})
	if err := m.recordStopped(ctx, msg); err != nil {
		return err
	}
	faultpoint.Hit(faultpoint.CutoverAfterRecordStop)
	out.Phase, out.State = state.CutoverOnKubernetes, NomadStopped
	return nil
}

// recordStopped records the job stopped on purpose, with Nomad's
// JobModifyIndex after the stop (what a rollback checks).
func (m Machine) recordStopped(ctx context.Context, msg string) error {
	t := m.Gate.Target
	var idx uint64
	if job, err := m.Gate.Nomad.ReadJob(ctx, t.ns(), t.job()); err == nil {
		idx = deref(job.JobModifyIndex)
	}
	at := m.now().UTC()
	return m.record(func(c *state.Cutover) {
		c.Phase, c.State, c.StoppedAt, c.StoppedJobModifyIndex, c.Error = state.CutoverOnKubernetes, string(NomadStopped), &at, idx, ""
		c.Evidence = append(c.Evidence, msg)
	})
}

// reconcileStopping finishes a stop a previous run left in "stopping": the
// job found stopped is recorded (done: that was the transition); a job
// still running means the stop never happened, and the transition starts
// over from its checks (not done).
func (m Machine) reconcileStopping(ctx context.Context, c state.Cutover, out *Outcome) (bool, error) {
	t := m.Gate.Target
	if c.NomadJob != t.job() || c.Namespace != t.ns() {
		return true, fmt.Errorf("a previous cutover of %s was interrupted while stopping Nomad job %s (namespace %s), not %s; run migrate-tui cutover --service %s --nomad-job %s to finish it (or --rollback)",
			t.Service, c.NomadJob, c.Namespace, t.job(), t.Service, c.NomadJob)
	}
	job, err := m.Gate.Nomad.ReadJob(ctx, t.ns(), t.job())
	if err != nil {
		return true, fmt.Errorf("a previous cutover of %s was interrupted while stopping Nomad job %s; reading the job to see how far it got: %w", t.Service, t.job(), err)
	}
	if !deref(job.Stop) {
		out.Steps = append(out.Steps, Step{Name: "resume", Status: Warn, Detail: "a previous run was interrupted before Nomad job " + t.job() + " was stopped: it still runs; starting the transition over from its checks"})
		return false, m.record(func(c *state.Cutover) {
			if c.State == "" {
				c.State = string(StateOf(*c, true))
			}
			c.Phase = state.CutoverOnNomad
		})
	}
	msg := "Nomad job " + t.job() + " found stopped: a previous run stopped it and was interrupted before recording it"
	out.Steps = append(out.Steps, Step{Name: "resume", Status: Pass, Detail: msg})
	if err := m.recordStopped(ctx, msg); err != nil {
		return true, err
	}
	out.Phase, out.State = state.CutoverOnKubernetes, NomadStopped
	return true, nil
}
