package cutover

import (
	"fmt"
	"slices"

	"migrate-tui/internal/state"
)

// State is where one service is in its move off Nomad. The names are the
// state file's (internal/state), so a record and the machine never differ.
type State string

const (
	OnNomadOnly     State = state.StateOnNomadOnly     // only the Nomad job serves it
	Scaffolded      State = state.StateScaffolded      // its Kubernetes module exists
	Deployed        State = state.StateDeployed        // its Kubernetes objects exist beside Nomad
	Verified        State = state.StateVerified        // the transition checks passed
	TrafficSwitched State = state.StateTrafficSwitched // the external Traefik sends its host to Kubernetes
	NomadStopped    State = state.StateNomadStopped    // the Nomad job is stopped (spec saved)
	Done            State = state.StateDone            // every other Nomad job still healthy; finished
)

// States lists the states in the order a cutover moves through them.
func States() []State {
	out := make([]State, 0, len(state.CutoverStates))
	for _, s := range state.CutoverStates {
		out = append(out, State(s))
	}
	return out
}

// ParseState reads a state name (a flag, the state file).
func ParseState(s string) (State, error) {
	if slices.Contains(state.CutoverStates, s) {
		return State(s), nil
	}
	return "", fmt.Errorf("%q is not a cutover state (one of %v)", s, state.CutoverStates)
}

// Next is the state after s; false at Done.
func (s State) Next() (State, bool) {
	all := States()
	i := slices.Index(all, s)
	if i < 0 || i+1 >= len(all) {
		return "", false
	}
	return all[i+1], true
}

// Before reports whether s comes earlier than o.
func (s State) Before(o State) bool {
	all := States()
	return slices.Index(all, s) < slices.Index(all, o)
}

// StateOf is a record's state. Records written before the machine have no
// state: their phase says it (on-kubernetes is stopped; done once routing
// was confirmed, which those runs did after the stop).
func StateOf(c state.Cutover, ok bool) State {
	if !ok {
		return OnNomadOnly
	}
	if c.State != "" {
		return State(c.State)
	}
	switch c.Phase {
	case state.CutoverOnKubernetes, state.CutoverRollingBack:
		if c.RoutingConfirmedAt != nil {
			return Done
		}
		return NomadStopped
	case state.CutoverStopping:
		return Verified
	default:
		return OnNomadOnly
	}
}

// NextAction says in a line what moves a service on from s.
func NextAction(s State, service, job string) string {
	switch s {
	case OnNomadOnly:
		return fmt.Sprintf("cutover %s, after migrate-tui scaffold %s if it has no Kubernetes module yet", service, job)
	case Scaffolded:
		return "deploy it beside Nomad: migrate-tui apply --stage services, then cutover " + service
	case Deployed:
		return "verify it: cutover " + service + " --check shows the checks"
	case Verified:
		return "switch the external Traefik to Kubernetes: cutover " + service
	case TrafficSwitched:
		return "stop Nomad job " + job + ": cutover " + service
	case NomadStopped:
		return "check the other Nomad jobs and finish: cutover " + service
	default:
		return "nothing; cutover " + service + " --rollback puts it back on Nomad"
	}
}
