package cutoverui

import (
	"context"
	"fmt"

	"migrate-tui/internal/cutover"
	"migrate-tui/internal/nomadwatch"
	"migrate-tui/internal/rightsize"
	"migrate-tui/internal/state"
	"migrate-tui/internal/status"
)

// Options are the operator's choices on the screen, the twins of
// `cutover`'s flags.
type Options struct {
	// AcceptUnobserved: checks that cannot be observed from here warn
	// instead of block (--accept-unobserved); the operator vouches.
	AcceptUnobserved bool
}

// Driver is what the screen does to services: the cutover machine's calls,
// one service at a time. Every call runs in a tea.Cmd.
type Driver interface {
	// List is every Nomad job with its state and next action.
	List(ctx context.Context) ([]cutover.Entry, error)
	// Check runs the next transition's checks; nothing changes.
	Check(ctx context.Context, e cutover.Entry, o Options) (from, to cutover.State, g cutover.Gate, err error)
	// Advance makes the next transition; the operator confirmed it.
	Advance(ctx context.Context, e cutover.Entry, o Options) (cutover.Outcome, error)
	// Rollback goes back to on-nomad-only; the operator confirmed it.
	Rollback(ctx context.Context, e cutover.Entry) (cutover.Outcome, error)
	// Confirmation is what the operator confirms before moving e to to
	// (for the traffic switch: the change to make).
	Confirmation(e cutover.Entry, to cutover.State) string
}

// Rightsizer is a Driver that also right-sizes a service (its VPA target
// beside its Nomad job's resources), shown under the checklist.
type Rightsizer interface {
	Rightsize(ctx context.Context, e cutover.Entry) rightsize.Service
}

// MachineDriver drives cutover.Machine, the path `migrate-tui cutover`
// takes. Confirmations happen on the screen before a call, so the
// machine's prompts answer yes.
type MachineDriver struct {
	Repo  string
	Nomad nomadwatch.Nomad
	// New builds the machine of one service (the host's clients, decisions
	// and router; the CLI builds its machines the same way).
	New func(e cutover.Entry) cutover.Machine
	// Serialize runs a call that writes the state file apart from the
	// host's own writes (the wizard's Common.Locked); nil runs it as is.
	Serialize func(func())
	// RightsizeService right-sizes one service (the host's
	// rightsize.ForService, as cutover --check); nil shows none.
	RightsizeService func(ctx context.Context, service string) rightsize.Service
}

// Rightsize implements Rightsizer.
func (d MachineDriver) Rightsize(ctx context.Context, e cutover.Entry) rightsize.Service {
	if d.RightsizeService == nil {
		return rightsize.Service{Service: e.Service, Where: "nomad", Status: status.Skip, Evidence: "right-sizing is not wired on this screen"}
	}
	return d.RightsizeService(ctx, e.Service)
}

func (d MachineDriver) serialized(fn func()) {
	if d.Serialize == nil {
		fn()
		return
	}
	d.Serialize(fn)
}

func (d MachineDriver) machine(e cutover.Entry, o Options) cutover.Machine {
	m := d.New(e)
	m.Gate.AcceptUnobserved = m.Gate.AcceptUnobserved || o.AcceptUnobserved
	m.Prompts = cutover.Prompts{
		ConfirmStop:     func(cutover.Gate) bool { return true },
		ConfirmRouting:  func(string) (bool, string) { return true, "wizard" },
		ConfirmRollback: func(string) bool { return true },
	}
	return m
}

// List implements Driver.
func (d MachineDriver) List(ctx context.Context) ([]cutover.Entry, error) {
	st, err := state.Load(d.Repo)
	if err != nil {
		return nil, err
	}
	return cutover.ListNomad(ctx, d.Nomad, st, d.Repo)
}

// Check implements Driver.
func (d MachineDriver) Check(ctx context.Context, e cutover.Entry, o Options) (cutover.State, cutover.State, cutover.Gate, error) {
	return d.machine(e, o).Check(ctx)
}

// Advance implements Driver.
func (d MachineDriver) Advance(ctx context.Context, e cutover.Entry, o Options) (out cutover.Outcome, err error) {
	d.serialized(func() { out, err = d.machine(e, o).Advance(ctx) })
	return out, err
}

// Rollback implements Driver.
func (d MachineDriver) Rollback(ctx context.Context, e cutover.Entry) (out cutover.Outcome, err error) {
	d.serialized(func() { out, err = d.machine(e, Options{}).Rollback(ctx) })
	return out, err
}

// Confirmation implements Driver.
func (d MachineDriver) Confirmation(e cutover.Entry, to cutover.State) string {
	m := d.New(e)
	switch to {
	case cutover.TrafficSwitched:
		if m.Router == nil {
			return m.Routing.ToKubernetes() + "\nHave you made this change to the external Traefik?"
		}
		return fmt.Sprintf("Switch the external traffic of %s to Kubernetes now (the Nomad job keeps running)?", e.Service)
	case cutover.NomadStopped:
		return fmt.Sprintf("Stop Nomad job %s now? Its spec is saved in the state for a rollback; the job is not purged.", e.NomadJob)
	default:
		return fmt.Sprintf("Move %s to %s? Its checks run again first; nothing outside changes.", e.Service, to)
	}
}
