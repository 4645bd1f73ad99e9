package cutover

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"time"

	"migrate-tui/internal/traefikroute"
)

// TrafficSwitch moves a service's host between Nomad and Kubernetes at the
// external Traefik: the state machine's "traffic switched" transition calls
// ToKubernetes, a rollback from that state or later calls BackToNomad, and
// a resumed run asks Switched.
type TrafficSwitch interface {
	ToKubernetes(ctx context.Context) (Step, error)
	BackToNomad(ctx context.Context) (Step, error)
	Switched(ctx context.Context) (bool, error)
}

// ErrRouteNotProven: the route was written but no request proved it; it
// was removed again, so the host is where it was.
var ErrRouteNotProven = errors.New("cutover: the route to Kubernetes did not answer")

// RouteSwitch is the TrafficSwitch of a Traefik file-provider route.
type RouteSwitch struct {
	Dir   traefikroute.Dir
	Route traefikroute.Route
	// Entrypoint is the external Traefik's websecure host:port (hestia:443).
	Entrypoint string
	Roots      *x509.CertPool // nil: system roots
	Path       string         // the proving request's path; default /
	// Wait bounds how long Traefik may take to load the change; default 30 s.
	Wait time.Duration
}

var _ TrafficSwitch = RouteSwitch{}

func (s RouteSwitch) probe() traefikroute.Probe {
	return traefikroute.Probe{Entrypoint: s.Entrypoint, Host: s.Route.Host, Path: s.Path, Roots: s.Roots}
}

func (s RouteSwitch) wait() time.Duration {
	if s.Wait > 0 {
		return s.Wait
	}
	return 30 * time.Second
}

// ToKubernetes writes the route and proves it with a request through the
// external Traefik. A route that does not answer is removed again (a host
// routed to a failing backend is an outage), and the error says why.
func (s RouteSwitch) ToKubernetes(ctx context.Context) (Step, error) {
	msg, err := traefikroute.Apply(ctx, s.Dir, s.Route)
	if err != nil {
		return Step{Name: "route", Status: Block, Detail: err.Error()}, err
	}
	a, err := traefikroute.WaitRouted(ctx, s.probe(), s.Route, true, s.wait())
	if err != nil {
		detail := err.Error()
		if rm, rerr := traefikroute.Remove(context.WithoutCancel(ctx), s.Dir, s.Route.Service); rerr != nil {
			detail += "; removing the route again failed too: " + rerr.Error() + " — remove " + traefikroute.FileName(s.Route.Service) + " from " + s.Dir.String() + " by hand"
		} else {
			detail += "; " + rm + ", so " + s.Route.Host + " is routed as before"
		}
		return Step{Name: "route", Status: Block, Detail: detail}, fmt.Errorf("%w: %s", ErrRouteNotProven, detail)
	}
	return Step{Name: "route", Status: Pass, Detail: fmt.Sprintf("%s; https://%s answered %s", msg, s.Route.Host, a)}, nil
}

// BackToNomad removes the route and waits until the host no longer goes
// through it (the Consul catalog's router of the Nomad job serves it again
// once the job runs).
func (s RouteSwitch) BackToNomad(ctx context.Context) (Step, error) {
	msg, err := traefikroute.Remove(ctx, s.Dir, s.Route.Service)
	if err != nil {
		return Step{Name: "route", Status: Block, Detail: err.Error()}, err
	}
	a, err := traefikroute.WaitRouted(ctx, s.probe(), s.Route, false, s.wait())
	if err != nil {
		return Step{Name: "route", Status: Block, Detail: msg + "; " + err.Error()}, err
	}
	return Step{Name: "route", Status: Pass, Detail: fmt.Sprintf("%s; https://%s now answers %s", msg, s.Route.Host, a)}, nil
}

// Switched reports whether migrate-tui's route file is in place.
func (s RouteSwitch) Switched(ctx context.Context) (bool, error) {
	return traefikroute.Present(ctx, s.Dir, s.Route.Service)
}
