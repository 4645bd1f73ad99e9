package cutover

import (
	"context"
	"fmt"

	"migrate-tui/internal/faultpoint"
	"migrate-tui/internal/state"
)

// Rollback puts the service back on Nomad only, undoing in reverse what the
// cutover did: the Nomad job registered again from its saved spec (while
// Nomad still has it at the index recorded after the stop), then the route
// removed. Each undo is recorded, so an interrupted rollback resumes.
func (m Machine) Rollback(ctx context.Context) (Outcome, error) {
	t := m.Gate.Target
	out := Outcome{Service: t.Service, NomadJob: t.job(), Action: "rollback", Phase: state.CutoverOnNomad, State: OnNomadOnly}
	_, c, ok, err := m.load()
	if err != nil {
		return out, err
	}
	from := StateOf(c, ok)
	if !ok || (from == OnNomadOnly && c.Phase == state.CutoverOnNomad) {
		return out, fmt.Errorf("%w: %s was not cut over by migrate-tui (the state has no cutover of it in progress)", ErrNothingToRollBack, t.Service)
	}
	out.NomadJob, out.Phase, out.State = c.NomadJob, c.Phase, from
	t = Target{Service: c.Service, NomadJob: c.NomadJob, Namespace: c.Namespace}

	// Where the Nomad job is decides the first undo.
	switch c.Phase {
	case state.CutoverStopping:
		// Killed around the stop: ask Nomad whether it happened.
		job, err := m.Gate.Nomad.ReadJob(ctx, t.ns(), t.job())
		if err != nil {
			return out, fmt.Errorf("a cutover of %s was interrupted while stopping Nomad job %s; reading the job to see how far it got: %w", t.Service, t.job(), err)
		}
		if deref(job.Stop) {
			if err := m.recordStopped(ctx, "Nomad job "+t.job()+" found stopped by an interrupted cutover"); err != nil {
				return out, err
			}
		} else if err := m.record(func(c *state.Cutover) { c.Phase, c.State = state.CutoverOnNomad, string(TrafficSwitched) }); err != nil {
			return out, err
		}
		return m.Rollback(ctx)
	case state.CutoverRollingBack:
		// Killed around the register: ask Nomad how far it got instead of
		// refusing the job that now runs (found by the fault harness).
		if len(c.JobSpec) == 0 {
			return out, fmt.Errorf("the state holds no saved Nomad job spec for %s; register the job from its module (modules/%s) with terraform apply", t.Service, t.Service)
		}
		done, msg, err := m.resumeRollback(ctx, c, &out)
		if err != nil {
			return out, err
		}
		if done {
			if err := m.recordRegistered(&out, msg); err != nil {
				return out, err
			}
			return m.unswitch(ctx, out)
		}
		return m.reregister(ctx, c, out)
	case state.CutoverOnKubernetes:
		if len(c.JobSpec) == 0 {
			return out, fmt.Errorf("the state holds no saved Nomad job spec for %s; register the job from its module (modules/%s) with terraform apply", t.Service, t.Service)
		}
		return m.reregister(ctx, c, out)
	}
	// The Nomad job runs: only the route (if any) is left to undo.
	what := fmt.Sprintf("Put %s back on Nomad only (now %s): the external traffic goes back to Nomad job %s, which still runs?", t.Service, from, t.job())
	if m.Prompts.ConfirmRollback == nil || !m.Prompts.ConfirmRollback(what) {
		return out, ErrDeclined
	}
	return m.unswitch(ctx, out)
}

// reregister registers the saved spec again (confirmed), waits for it to
// run healthy and records the service back at traffic-switched, then
// removes the route.
func (m Machine) reregister(ctx context.Context, c state.Cutover, out Outcome) (Outcome, error) {
	index, what, err := m.rollbackTarget(ctx, c)
	if err != nil {
		return out, err
	}
	if m.Prompts.ConfirmRollback == nil || !m.Prompts.ConfirmRollback(what) {
		return out, ErrDeclined
	}
	if err := m.record(func(c *state.Cutover) { c.Phase, c.Error = state.CutoverRollingBack, "" }); err != nil {
		return out, err
	}
	faultpoint.Hit(faultpoint.RollbackAfterMarkRolling)
	wctx, cancel := m.waitCtx(ctx)
	defer cancel()
	msg, err := Reregister(wctx, m.Gate.Nomad, c.JobSpec, index)
	if err != nil {
		_ = m.record(func(c *state.Cutover) { c.Error = err.Error() })
		out.Steps = append(out.Steps, Step{Name: "register-job", Status: Block, Detail: err.Error()})
		out.Phase = state.CutoverRollingBack
		return out, err
	}
	faultpoint.Hit(faultpoint.RollbackBeforeRecord)
	if err := m.recordRegistered(&out, msg); err != nil {
		return out, err
	}
	return m.unswitch(ctx, out)
}

// recordRegistered records the job running on Nomad again: the service is
// back at traffic-switched (the route is undone next).
func (m Machine) recordRegistered(out *Outcome, msg string) error {
	at := m.now().UTC()
	out.Steps = append(out.Steps, Step{Name: "register-job", Status: Pass, Detail: msg})
	if err := m.record(func(c *state.Cutover) {
		c.Phase, c.State, c.RolledBackAt, c.Error = state.CutoverOnNomad, string(TrafficSwitched), &at, ""
		c.Evidence = append(c.Evidence, msg)
	}); err != nil {
		return err
	}
	out.Phase, out.State = state.CutoverOnNomad, TrafficSwitched
	return nil
}

// unswitch removes the route when one was made and records the service on
// Nomad only. A Kubernetes copy stays deployed: the next cutover finds it.
func (m Machine) unswitch(ctx context.Context, out Outcome) (Outcome, error) {
	_, c, _, err := m.load()
	if err != nil {
		return out, err
	}
	t := Target{Service: c.Service, NomadJob: c.NomadJob, Namespace: c.Namespace}
	r := m.router()
	switched := c.RoutingConfirmedAt != nil
	if s, ok := r.(interface {
		Switched(context.Context) (bool, error)
	}); ok && !switched {
		// A switch killed after writing its route and before recording
		// it leaves the route behind: a router that can look, looks.
		on, err := s.Switched(ctx)
		if err != nil {
			out.Steps = append(out.Steps, Step{Name: "unswitch", Status: Warn, Detail: "no switch was recorded, and whether an interrupted one left a route could not be checked: " + err.Error()})
		}
		switched = on
	}
	if switched {
		faultpoint.Hit(faultpoint.RollbackBeforeUnswitch)
		if d, ok := r.(interface{ Describe(bool) string }); ok {
			out.Routing = d.Describe(false)
		}
		ev, err := r.Unswitch(ctx, t)
		if err != nil {
			_ = m.record(func(c *state.Cutover) { c.Error = err.Error() })
			out.Steps = append(out.Steps, Step{Name: "unswitch", Status: Block, Detail: err.Error()})
			return out, fmt.Errorf("removing the route of %s to Kubernetes: %w; fix it and run migrate-tui cutover %s --rollback again", t.Service, err, t.Service)
		}
		out.Steps = append(out.Steps, Step{Name: "unswitch", Status: Pass, Detail: firstLine(ev)})
	}
	at := m.now().UTC()
	if err := m.record(func(c *state.Cutover) {
		c.Phase, c.State, c.RoutingConfirmedAt, c.RoutingSource, c.Error = state.CutoverOnNomad, string(OnNomadOnly), nil, "", ""
		c.RolledBackAt = &at
	}); err != nil {
		return out, err
	}
	out.Steps = append(out.Steps, Step{Name: string(OnNomadOnly), Status: Pass, Detail: t.Service + " is on Nomad only again"})
	out.Phase, out.State = state.CutoverOnNomad, OnNomadOnly
	return out, nil
}

func firstLine(s string) string {
	for i, r := range s {
		if r == '\n' {
			return s[:i]
		}
	}
	return s
}
