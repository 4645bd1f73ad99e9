package cutover

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/hashicorp/nomad/api"

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
	// Phase is where the Nomad job is (state.Cutover*); State is where
	// the service is in the machine (states.go).
	Phase string `json:"phase"`
	State State  `json:"state"`
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

// Cutover moves the service all the way (Done) through the machine with
// today's printed routing; see Machine for one step at a time.
func (f Flow) Cutover(ctx context.Context) (Outcome, error) {
	return Machine{Flow: f}.Run(ctx, Done)
}

// Rollback puts the service back on Nomad only (Machine.Rollback).
func (f Flow) Rollback(ctx context.Context) (Outcome, error) {
	return Machine{Flow: f}.Rollback(ctx)
}

// resumeRollback finishes a rollback a previous run left in "rolling-back"
// after its register went through: the job runs again, registered after
// the stop migrate-tui recorded (its job modify index moved on), so the
// register was that run's. It waits until the job runs healthy (done, with
// what it saw). A job still stopped means the register never happened: the
// rollback registers again (not done).
func (f Flow) resumeRollback(ctx context.Context, c state.Cutover, out *Outcome) (bool, string, error) {
	t := Target{Service: c.Service, NomadJob: c.NomadJob, Namespace: c.Namespace}
	cur, err := f.Gate.Nomad.ReadJob(ctx, t.ns(), t.job())
	if err != nil || deref(cur.Stop) {
		return false, "", nil // rollbackTarget says what is wrong, or registers
	}
	if c.StoppedJobModifyIndex != 0 && deref(cur.JobModifyIndex) <= c.StoppedJobModifyIndex {
		return false, "", nil
	}
	wctx, cancel := f.waitCtx(ctx)
	defer cancel()
	msg, err := waitRunning(wctx, f.Gate.Nomad, t, wantAllocs(cur), "found registered again by a previous rollback that was interrupted")
	if err != nil {
		_ = f.record(func(c *state.Cutover) { c.Error = err.Error() })
		out.Steps = append(out.Steps, Step{Name: "register-job", Status: Block, Detail: err.Error()})
		return false, "", err
	}
	return true, msg, nil
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
