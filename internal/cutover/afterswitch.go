package cutover

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"time"

	"migrate-tui/internal/traefikroute"
)

// AfterSwitchInput is the check made once the route is written: the
// service's real URL, at the external Traefik, answers from Kubernetes.
type AfterSwitchInput struct {
	Route traefikroute.Route // the route written (its host and name)
	// Entrypoint is host:port of the external Traefik's websecure
	// entrypoint (hestia:443): where the service's DNS name points.
	Entrypoint string
	Path       string         // default /
	Roots      *x509.CertPool // nil: the system roots (the ACME wildcard)
	// Within is the success criterion's bound; default 5 s.
	Within time.Duration
}

// AfterSwitch requests https://<host><path> once at the external Traefik:
// within 5 s, a certificate that verifies for the host, no server error,
// and the answer carrying the route's header (so it came from the
// Kubernetes backends, not the Nomad job's router).
func AfterSwitch(ctx context.Context, in AfterSwitchInput) GateCheck {
	within := in.Within
	if within <= 0 {
		within = 5 * time.Second
	}
	host := in.Route.Host
	c := GateCheck{ID: "after-switch", Checked: fmt.Sprintf("https://%s%s answers from Kubernetes through the external Traefik (%s) within %s with a valid certificate", host, in.Path, in.Entrypoint, within)}
	rctx, cancel := context.WithTimeout(ctx, within)
	defer cancel()
	p := traefikroute.Probe{Entrypoint: in.Entrypoint, Host: host, Path: in.Path, Roots: in.Roots}
	a, err := p.Do(rctx)
	switch {
	case certError(err) != nil:
		c.Status, c.Found = Block, fmt.Sprintf("the certificate served for %s does not verify: %v", host, certError(err))
		c.Next = "The external Traefik must serve the wildcard for " + host + " (its TLS store or certificate resolver); roll back (the route file is removed) until it does."
	case errors.Is(err, context.DeadlineExceeded) || errors.Is(rctx.Err(), context.DeadlineExceeded):
		c.Status, c.Found = Block, fmt.Sprintf("no answer within %s: %v", within, err)
		c.Next = "Check the K3s ingress answers quickly for " + host + " (kubectl -n <namespace> get pods; the Traefik NodePort on the nodes); roll back if it does not."
	case err != nil:
		c.Status, c.Found = Block, err.Error()
		c.Next = "Check the external Traefik answers at " + in.Entrypoint + " (docker ps on Hestia) and that the address is its websecure entrypoint."
	case a.RoutedBy != in.Route.Name():
		c.Status, c.Found = Block, fmt.Sprintf("HTTP %d not through route %s (no %s header): the external Traefik has not loaded the route file, so %s still goes to Nomad's router or nowhere", a.Status, in.Route.Name(), traefikroute.Header, host)
		c.Next = "Check the route file is in the directory the external Traefik's file provider watches (providers.file.directory, watch: true) and its log names no error for it."
	case a.Status >= 500:
		c.Status, c.Found = Block, fmt.Sprintf("HTTP %d through route %s: the K3s ingress (%v) failed the request", a.Status, a.RoutedBy, in.Route.Backends)
		c.Next = "Check the Kubernetes copy and the K3s Traefik NodePort answer for " + host + "; roll back until they do."
	default:
		c.Status, c.Found = Pass, fmt.Sprintf("%s, certificate valid for %s", a, host)
	}
	return c
}

// certError is the x509 reason when err is a certificate that did not
// verify (unknown authority, expired, wrong name).
func certError(err error) error {
	var ua x509.UnknownAuthorityError
	var ci x509.CertificateInvalidError
	var hn x509.HostnameError
	switch {
	case errors.As(err, &ua):
		return ua
	case errors.As(err, &ci):
		return ci
	case errors.As(err, &hn):
		return hn
	}
	return nil
}
