package cutover

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/hashicorp/nomad/api"

	"migrate-tui/internal/faultpoint"
	"migrate-tui/internal/nomadwatch"
	"migrate-tui/internal/state"
)

// Step is one reported step of a cutover or rollback.
type Step struct {
	Name   string `json:"name"`
	Status Status `json:"status"` // pass, fail or warn
	Detail string `json:"detail"`
}

// Outcome is what a cutover or rollback did.
type Outcome struct {
	Service     string                  `json:"service"`
	NomadJob    string                  `json:"nomad_job"`
	Action      string                  `json:"action"` // cutover or rollback
	Gate        *Gate                   `json:"gate,omitempty"`
	Steps       []Step                  `json:"steps"`
	Regressions []nomadwatch.Regression `json:"regressions,omitempty"`
	Routing     string                  `json:"routing_change,omitempty"`
	Phase       string                  `json:"phase"`
}

// Prompts asks the operator; the CLI answers from --yes/--routing-done or
// stdin, the TUI from its screen. A nil func means "no".
type Prompts struct {
	// ConfirmStop: stop the Nomad job now?
	ConfirmStop func(gate Gate) bool
	// ConfirmRouting shows the routing change and asks whether it is made;
	// the answer's source ("interactive", "--routing-done") is recorded.
	ConfirmRouting func(change string) (bool, string)
	// ConfirmRollback: register the saved job again now? (what is shown:
	// the job, its saved version and when it was stopped)
	ConfirmRollback func(what string) bool
}

// Flow is one cutover or rollback against a repository's state.
type Flow struct {
	Repo    string // holds .migrate-tui/state.json; the caller holds the lock
	Gate    GateInput
	Routing Routing
	Prompts Prompts
	Now     func() time.Time
	// Wait bounds the waits for Nomad (stop, run again).
	Wait time.Duration
}

// Typed outcomes the CLI maps to exit codes.
var (
	ErrNotReady    = errors.New("cutover: readiness gate blocks")
	ErrDeclined    = errors.New("cutover: not confirmed")
	ErrRegressions = errors.New("cutover: other Nomad jobs regressed")
	ErrRouting     = errors.New("cutover: routing change not confirmed")
)

func (f Flow) now() time.Time {
	if f.Now != nil {
		return f.Now()
	}
	return time.Now()
}

func (f Flow) record(mut func(c *state.Cutover)) error {
	st, err := state.LoadOrNew(f.Repo, f.now())
	if err != nil {
		return err
	}
	if st.Cutovers == nil {
		st.Cutovers = map[string]state.Cutover{}
	}
	t := f.Gate.Target
	c, ok := st.Cutovers[t.Service]
	if !ok {
		c = state.Cutover{Service: t.Service, NomadJob: t.job(), Namespace: t.ns(), Phase: state.CutoverOnNomad}
	}
	mut(&c)
	st.Cutovers[t.Service] = c
	return state.Save(f.Repo, st, f.now())
}

func (f Flow) waitCtx(ctx context.Context) (context.Context, context.CancelFunc) {
	w := f.Wait
	if w <= 0 {
		w = 5 * time.Minute
	}
	return context.WithTimeout(ctx, w)
}

// Cutover runs the gate, then (confirmed) saves the job spec, stops the
// job, guards the other jobs and records the routing change.
func (f Flow) Cutover(ctx context.Context) (Outcome, error) {
	t := f.Gate.Target
	out := Outcome{Service: t.Service, NomadJob: t.job(), Action: "cutover", Phase: state.CutoverOnNomad}
	st, err := state.Load(f.Repo)
	if err != nil {
		return out, err
	}
	if c, ok := lookup(st, t.Service); ok && c.Phase == state.CutoverOnKubernetes && c.RoutingConfirmedAt == nil {
		// Stopped earlier; only the routing confirmation is missing.
		out.NomadJob, out.Phase = c.NomadJob, c.Phase
		return out, f.routing(&out)
	}
	if c, ok := lookup(st, t.Service); ok && c.Phase == state.CutoverStopping {
		// A previous run recorded its intent and was killed around the
		// stop: ask Nomad what happened instead of blocking on the gate.
		done, err := f.reconcileStopping(ctx, c, &out)
		if err != nil || done {
			return out, err
		}
	}
	if c, ok := lookup(st, t.Service); ok && c.Phase == state.CutoverOnKubernetes {
		out.Phase = c.Phase
		return out, fmt.Errorf("%s is already cut over (Nomad job %s stopped %s); migrate-tui cutover --rollback --service %s puts it back", t.Service, c.NomadJob, c.StoppedAt.Local().Format(time.RFC3339), t.Service)
	}
	base, err := st.FullBaseline()
	if err != nil {
		return out, err
	}
	g := Readiness(ctx, f.Gate)
	out.Gate = &g
	if !g.Ready() {
		return out, ErrNotReady
	}
	if f.Prompts.ConfirmStop == nil || !f.Prompts.ConfirmStop(g) {
		return out, ErrDeclined
	}
	spec, err := SaveSpec(ctx, f.Gate.Nomad, t)
	if err != nil {
		return out, err
	}
	if err := f.record(func(c *state.Cutover) {
		c.Phase, c.JobSpec, c.Error, c.Evidence = state.CutoverStopping, spec, "", nil
		c.RolledBackAt, c.RoutingConfirmedAt, c.RoutingSource = nil, nil, ""
	}); err != nil {
		return out, fmt.Errorf("saving the Nomad job spec in the state before stopping it: %w (nothing was stopped)", err)
	}
	faultpoint.Hit(faultpoint.CutoverAfterSaveSpec)
	out.Steps = append(out.Steps, Step{Name: "save-spec", Status: Pass, Detail: fmt.Sprintf("Nomad job %s spec saved in .migrate-tui/state.json (%d bytes, not shown)", t.job(), len(spec))})
	out.Phase = state.CutoverStopping

	wctx, cancel := f.waitCtx(ctx)
	defer cancel()
	msg, err := StopJob(wctx, f.Gate.Nomad, t)
	if err != nil {
		_ = f.record(func(c *state.Cutover) { c.Error = err.Error() })
		out.Steps = append(out.Steps, Step{Name: "stop-job", Status: Block, Detail: err.Error()})
		return out, err
	}
	faultpoint.Hit(faultpoint.CutoverAfterStop)
	stopped := f.now().UTC()
	out.Steps = append(out.Steps, Step{Name: "stop-job", Status: Pass, Detail: msg})
	if err := f.recordStopped(ctx, stopped, msg); err != nil {
		return out, err
	}
	faultpoint.Hit(faultpoint.CutoverAfterRecordStop)
	out.Phase = state.CutoverOnKubernetes
	return f.afterStop(ctx, st, base, out)
}

// recordStopped records the job stopped on purpose, with Nomad's
// JobModifyIndex after the stop (what a rollback checks).
func (f Flow) recordStopped(ctx context.Context, at time.Time, msg string) error {
	t := f.Gate.Target
	var idx uint64
	if job, err := f.Gate.Nomad.ReadJob(ctx, t.ns(), t.job()); err == nil {
		idx = deref(job.JobModifyIndex)
	}
	return f.record(func(c *state.Cutover) {
		c.Phase, c.StoppedAt, c.StoppedJobModifyIndex, c.Error = state.CutoverOnKubernetes, &at, idx, ""
		c.Evidence = append(c.Evidence, msg)
	})
}

// reconcileStopping finishes a cutover a previous run left in "stopping":
// the job found stopped is recorded on Kubernetes and the run goes on with
// the guard and the routing (done); a job still running means the stop
// never happened, and the cutover starts over from the gate (not done).
func (f Flow) reconcileStopping(ctx context.Context, c state.Cutover, out *Outcome) (bool, error) {
	t := f.Gate.Target
	if c.NomadJob != t.job() || c.Namespace != t.ns() {
		return true, fmt.Errorf("a previous cutover of %s was interrupted while stopping Nomad job %s (namespace %s), not %s; run migrate-tui cutover --service %s --nomad-job %s to finish it (or --rollback)",
			t.Service, c.NomadJob, c.Namespace, t.job(), t.Service, c.NomadJob)
	}
	job, err := f.Gate.Nomad.ReadJob(ctx, t.ns(), t.job())
	if err != nil {
		return true, fmt.Errorf("a previous cutover of %s was interrupted while stopping Nomad job %s; reading the job to see how far it got: %w", t.Service, t.job(), err)
	}
	if !deref(job.Stop) {
		out.Steps = append(out.Steps, Step{Name: "resume", Status: Warn, Detail: "a previous run was interrupted before Nomad job " + t.job() + " was stopped: it still runs; starting over from the readiness gate"})
		return false, nil
	}
	st, err := state.Load(f.Repo)
	if err != nil {
		return true, err
	}
	base, err := st.FullBaseline()
	if err != nil {
		return true, err
	}
	msg := "Nomad job " + t.job() + " found stopped: a previous run stopped it and was interrupted before recording it"
	out.Steps = append(out.Steps, Step{Name: "resume", Status: Pass, Detail: msg})
	if err := f.recordStopped(ctx, f.now().UTC(), msg); err != nil {
		return true, err
	}
	out.Phase = state.CutoverOnKubernetes
	res, err := f.afterStop(ctx, st, base, *out)
	*out = res
	return true, err
}

// afterStop guards the other jobs and records the routing change.
func (f Flow) afterStop(ctx context.Context, st *state.State, base nomadwatch.Baseline, out Outcome) (Outcome, error) {
	t := f.Gate.Target

	excl := []Target{t}
	for _, c := range st.Cutovers {
		if st.IntentionallyStopped(c.Namespace, c.NomadJob) {
			excl = append(excl, Target{Service: c.Service, NomadJob: c.NomadJob, Namespace: c.Namespace})
		}
	}
	regs, err := Guard(ctx, f.Gate.Nomad, base, excl...)
	switch {
	case err != nil:
		out.Steps = append(out.Steps, Step{Name: "nomad-guard", Status: Block, Detail: "comparing the other Nomad jobs with the baseline: " + err.Error()})
		return out, err
	case len(regs) > 0:
		out.Regressions = regs
		out.Steps = append(out.Steps, Step{Name: "nomad-guard", Status: Block,
			Detail: fmt.Sprintf("%d regression(s) in other Nomad jobs since the baseline; the cutover of %s did not cause them by design, but look before going on (migrate-tui cutover --rollback --service %s puts it back)", len(regs), t.Service, t.Service)})
	default:
		jobs, _ := base.Running()
		out.Steps = append(out.Steps, Step{Name: "nomad-guard", Status: Pass, Detail: fmt.Sprintf("every other Nomad job of the baseline (%d running then) is as healthy as it was", jobs-len(excl))})
	}

	faultpoint.Hit(faultpoint.CutoverBeforeRouting)
	rerr := f.routing(&out)
	if len(regs) > 0 {
		return out, ErrRegressions
	}
	return out, rerr
}

// routing shows the external Traefik change and records its confirmation.
func (f Flow) routing(out *Outcome) error {
	change := f.Routing.ToKubernetes()
	out.Routing = change
	ok, source := false, ""
	if f.Prompts.ConfirmRouting != nil {
		ok, source = f.Prompts.ConfirmRouting(change)
	}
	if ok {
		at := f.now().UTC()
		if err := f.record(func(c *state.Cutover) { c.RoutingConfirmedAt, c.RoutingSource = &at, source }); err != nil {
			return err
		}
		out.Steps = append(out.Steps, Step{Name: "routing", Status: Pass, Detail: "external Traefik routing to Kubernetes confirmed (" + source + ")"})
	} else {
		out.Steps = append(out.Steps, Step{Name: "routing", Status: Warn, Detail: "external Traefik routing not confirmed: " + f.Routing.Host + " is unreachable until the change above is made"})
		return ErrRouting
	}
	return nil
}

// Rollback registers the saved spec again, waits for it to run and marks
// the service back on Nomad.
func (f Flow) Rollback(ctx context.Context) (Outcome, error) {
	t := f.Gate.Target
	out := Outcome{Service: t.Service, Action: "rollback"}
	st, err := state.Load(f.Repo)
	if err != nil {
		return out, err
	}
	c, ok := lookup(st, t.Service)
	if !ok || c.Phase == state.CutoverOnNomad {
		out.Phase = state.CutoverOnNomad
		return out, fmt.Errorf("%s was not cut over by migrate-tui (the state has no cutover of it in progress): nothing to roll back", t.Service)
	}
	if len(c.JobSpec) == 0 {
		return out, fmt.Errorf("the state holds no saved Nomad job spec for %s; register the job from its module (modules/%s) with terraform apply", t.Service, t.Service)
	}
	out.NomadJob, out.Phase = c.NomadJob, c.Phase
	if c.Phase == state.CutoverRollingBack {
		// A previous run recorded its intent and was killed around the
		// register: ask Nomad how far it got instead of refusing the job
		// that now runs (found by the fault harness).
		if done, err := f.resumeRollback(ctx, c, &out); done || err != nil {
			return out, err
		}
	}
	index, what, err := f.rollbackTarget(ctx, c)
	if err != nil {
		return out, err
	}
	if f.Prompts.ConfirmRollback == nil || !f.Prompts.ConfirmRollback(what) {
		return out, ErrDeclined
	}
	if err := f.record(func(c *state.Cutover) { c.Phase, c.Error = state.CutoverRollingBack, "" }); err != nil {
		return out, err
	}
	faultpoint.Hit(faultpoint.RollbackAfterMarkRolling)
	wctx, cancel := f.waitCtx(ctx)
	defer cancel()
	msg, err := Reregister(wctx, f.Gate.Nomad, c.JobSpec, index)
	if err != nil {
		_ = f.record(func(c *state.Cutover) { c.Error = err.Error() })
		out.Steps = append(out.Steps, Step{Name: "register-job", Status: Block, Detail: err.Error()})
		out.Phase = state.CutoverRollingBack
		return out, err
	}
	faultpoint.Hit(faultpoint.RollbackBeforeRecord)
	err = f.finishRollback(&out, msg)
	return out, err
}

// finishRollback records the job back on Nomad.
func (f Flow) finishRollback(out *Outcome, msg string) error {
	at := f.now().UTC()
	out.Steps = append(out.Steps, Step{Name: "register-job", Status: Pass, Detail: msg})
	if err := f.record(func(c *state.Cutover) {
		c.Phase, c.RolledBackAt = state.CutoverOnNomad, &at
		c.Evidence = append(c.Evidence, msg)
	}); err != nil {
		return err
	}
	out.Phase = state.CutoverOnNomad
	out.Routing = f.Routing.BackToNomad()
	return nil
}

// resumeRollback finishes a rollback a previous run left in "rolling-back"
// after its register went through: the job runs again, registered after
// the stop migrate-tui recorded (its job modify index moved on), so the
// register was that run's. It waits until the job runs healthy and records
// it back on Nomad (done). A job still stopped means the register never
// happened: the rollback starts over (not done).
func (f Flow) resumeRollback(ctx context.Context, c state.Cutover, out *Outcome) (bool, error) {
	t := Target{Service: c.Service, NomadJob: c.NomadJob, Namespace: c.Namespace}
	cur, err := f.Gate.Nomad.ReadJob(ctx, t.ns(), t.job())
	if err != nil || deref(cur.Stop) {
		return false, nil // rollbackTarget says what is wrong, or registers
	}
	if c.StoppedJobModifyIndex != 0 && deref(cur.JobModifyIndex) <= c.StoppedJobModifyIndex {
		return false, nil
	}
	wctx, cancel := f.waitCtx(ctx)
	defer cancel()
	msg, err := waitRunning(wctx, f.Gate.Nomad, t, wantAllocs(cur), "found registered again by a previous rollback that was interrupted")
	if err != nil {
		_ = f.record(func(c *state.Cutover) { c.Error = err.Error() })
		out.Steps = append(out.Steps, Step{Name: "register-job", Status: Block, Detail: err.Error()})
		return true, err
	}
	return true, f.finishRollback(out, msg)
}

// rollbackTarget checks a rollback may register the saved spec: the spec is
// the recorded job's, Nomad still has that job stopped, and nobody changed
// it since migrate-tui stopped it. It returns the JobModifyIndex the
// register must enforce, and what the confirmation shows.
func (f Flow) rollbackTarget(ctx context.Context, c state.Cutover) (uint64, string, error) {
	var saved api.Job
	if err := json.Unmarshal(c.JobSpec, &saved); err != nil {
		return 0, "", fmt.Errorf("the saved Nomad job spec of %s cannot be read (%v); register the job from its own definition instead", c.Service, err)
	}
	ns := c.Namespace
	if ns == "" {
		ns = "default"
	}
	savedNS := deref(saved.Namespace)
	if savedNS == "" {
		savedNS = "default"
	}
	if deref(saved.ID) != c.NomadJob || savedNS != ns {
		return 0, "", fmt.Errorf("the saved spec in the state is job %s (namespace %s), but the cutover of %s stopped %s (namespace %s): the state was edited or mixed up; nothing was registered. Register %s from its own definition",
			deref(saved.ID), savedNS, c.Service, c.NomadJob, ns, c.NomadJob)
	}
	cur, err := f.Gate.Nomad.ReadJob(ctx, ns, c.NomadJob)
	if errors.Is(err, ErrJobNotFound) {
		return 0, "", fmt.Errorf("Nomad has no job %s any more (purged?); migrate-tui only registers a job it stopped and that is still there stopped. Register it from its own definition (nomad job run)", c.NomadJob)
	}
	if err != nil {
		return 0, "", err
	}
	if !deref(cur.Stop) {
		return 0, "", fmt.Errorf("Nomad job %s is not stopped any more (status %s, version %d): someone registered it since the cutover; nothing was registered. If it runs as it should, mark the rollback done by hand or leave it", c.NomadJob, deref(cur.Status), deref(cur.Version))
	}
	idx := deref(cur.JobModifyIndex)
	if c.StoppedJobModifyIndex != 0 && idx != c.StoppedJobModifyIndex {
		return 0, "", fmt.Errorf("%w: Nomad job %s was changed after migrate-tui stopped it (job modify index %d, was %d when stopped); registering the saved spec would overwrite that newer version. Look at nomad job history %s and register the right version by hand",
			ErrJobChanged, c.NomadJob, idx, c.StoppedJobModifyIndex, c.NomadJob)
	}
	when := "at an unknown time"
	if c.StoppedAt != nil {
		when = c.StoppedAt.Local().Format(time.RFC3339)
	}
	return idx, fmt.Sprintf("Register Nomad job %s (namespace %s) again from the spec saved before the cutover (version %d), stopped %s?", c.NomadJob, ns, deref(saved.Version), when), nil
}

// Entry is one service in the cutover list.
type Entry struct {
	Service   string     `json:"service"`
	NomadJob  string     `json:"nomad_job"`
	Phase     string     `json:"phase"`
	StoppedAt *time.Time `json:"stopped_at,omitempty"`
	Routing   bool       `json:"routing_confirmed"`
	Error     string     `json:"error,omitempty"`
}

// List returns the services (the PoC services, then any other recorded
// cutover) with their phase.
func List(st *state.State, services []string) []Entry {
	var out []Entry
	seen := map[string]bool{}
	add := func(svc string) {
		if seen[svc] {
			return
		}
		seen[svc] = true
		e := Entry{Service: svc, NomadJob: svc, Phase: state.CutoverOnNomad}
		if c, ok := lookup(st, svc); ok {
			e.NomadJob, e.Phase, e.StoppedAt, e.Routing, e.Error = c.NomadJob, c.Phase, c.StoppedAt, c.RoutingConfirmedAt != nil, c.Error
		}
		out = append(out, e)
	}
	for _, s := range services {
		add(s)
	}
	if st != nil {
		for _, s := range sortedKeysCut(st.Cutovers) {
			add(s)
		}
	}
	return out
}
