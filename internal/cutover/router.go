package cutover

import (
	"context"
	"fmt"
)

// Router moves a service's external traffic: the machine's seam for the
// traffic switch. The default (PrintedRouter) shows the external Traefik
// change and records the operator's confirmation; a router that writes
// Traefik's file-provider route plugs in through Machine.Router.
type Router interface {
	// Switch sends the service's host to Kubernetes. It returns how the
	// switch was made or confirmed (recorded as routing_source). An error
	// wrapping ErrRouting means "not switched, nothing to undo".
	Switch(ctx context.Context, t Target) (source string, err error)
	// Unswitch sends the host back to Nomad (removes the route). It
	// returns what it did, for the outcome.
	Unswitch(ctx context.Context, t Target) (evidence string, err error)
}

// PrintedRouter is today's switch: the change is shown, the operator makes
// it and confirms (--routing-done or a terminal); undoing it is shown too.
type PrintedRouter struct {
	Routing Routing
	// Confirm shows the change and asks whether it is made; the answer's
	// source ("interactive", "--routing-done") is recorded. nil means no.
	Confirm func(change string) (bool, string)
}

// Switch asks for the change to be made.
func (r PrintedRouter) Switch(_ context.Context, _ Target) (string, error) {
	change := r.Routing.ToKubernetes()
	if r.Confirm != nil {
		if ok, source := r.Confirm(change); ok {
			return source, nil
		}
	}
	return "", fmt.Errorf("%w: %s still routes to Nomad until the change shown is made; make it, then run again with --routing-done", ErrRouting, r.Routing.Host)
}

// Unswitch says what to undo: nothing was written, so nothing to remove.
func (r PrintedRouter) Unswitch(context.Context, Target) (string, error) {
	return r.Routing.BackToNomad(), nil
}

// Describe is the change a switch (or an unswitch) is, for the outcome.
func (r PrintedRouter) Describe(toKubernetes bool) string {
	if toKubernetes {
		return r.Routing.ToKubernetes()
	}
	return r.Routing.BackToNomad()
}
