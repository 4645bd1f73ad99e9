package traefikroute

import (
	"context"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"fmt"
	"io"
	"net"
	"net/http"
	"time"

	"k8s.io/apimachinery/pkg/util/wait"
)

// Probe is one request to the service's real URL, made at the external
// Traefik's entrypoint (the address its DNS name resolves to) so the proof
// does not depend on DNS.
type Probe struct {
	Entrypoint string // host:port of the external Traefik's websecure entrypoint (hestia:443)
	Host       string // the service's host
	Path       string // default /
	Roots      *x509.CertPool
	// Plain speaks http to the entrypoint (an entrypoint without TLS).
	Plain bool
}

// Answer is what one probe saw.
type Answer struct {
	Status   int
	RoutedBy string // the route's Header value; "" when the answer did not come through a migrate-tui route
	Digest   string // sha256 of the body
	CertOK   bool   // the certificate verified for Host against Roots
	Elapsed  time.Duration
}

func (a Answer) String() string {
	by := "not through a migrate-tui route (Nomad's router, or none)"
	if a.RoutedBy != "" {
		by = "through route " + a.RoutedBy
	}
	return fmt.Sprintf("HTTP %d %s in %s", a.Status, by, a.Elapsed.Round(time.Millisecond))
}

func (p Probe) url() string {
	path := p.Path
	if path == "" {
		path = "/"
	}
	scheme := "https"
	if p.Plain {
		scheme = "http"
	}
	return scheme + "://" + p.Host + path
}

func (p Probe) client() *http.Client {
	d := &net.Dialer{Timeout: 5 * time.Second}
	tr := &http.Transport{
		DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
			return d.DialContext(ctx, network, p.Entrypoint)
		},
		TLSClientConfig:   &tls.Config{ServerName: p.Host, RootCAs: p.Roots, MinVersion: tls.VersionTLS12},
		DisableKeepAlives: true,
	}
	return &http.Client{Transport: tr, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

// Do makes the request once. A certificate that does not verify is an
// error (x509's reason in it).
func (p Probe) Do(ctx context.Context) (Answer, error) {
	start := time.Now()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, p.url(), nil)
	if err != nil {
		return Answer{}, err
	}
	resp, err := p.client().Do(req)
	if err != nil {
		return Answer{Elapsed: time.Since(start)}, fmt.Errorf("GET %s at %s: %w", p.url(), p.Entrypoint, err)
	}
	defer resp.Body.Close()
	h := sha256.New()
	_, _ = io.Copy(h, io.LimitReader(resp.Body, 64<<20))
	return Answer{Status: resp.StatusCode, RoutedBy: resp.Header.Get(Header), Digest: hex.EncodeToString(h.Sum(nil)),
		CertOK: resp.TLS != nil, Elapsed: time.Since(start)}, nil
}

// WaitRouted polls until the answer comes through the route (routed) or
// no longer does (!routed): Traefik's file provider loads a change in a
// moment, not at once. It returns the last answer and, on timeout, an error
// naming it.
func WaitRouted(ctx context.Context, p Probe, r Route, routed bool, timeout time.Duration) (Answer, error) {
	var last Answer
	var lastErr error
	err := wait.PollUntilContextTimeout(ctx, 200*time.Millisecond, timeout, true, func(ctx context.Context) (bool, error) {
		last, lastErr = p.Do(ctx)
		if lastErr != nil {
			return false, nil
		}
		if routed {
			return last.RoutedBy == r.Name() && last.Status < 500, nil
		}
		return last.RoutedBy != r.Name(), nil
	})
	if err == nil {
		return last, nil
	}
	want := "through route " + r.Name() + " (to " + fmt.Sprint(r.Backends) + ") without a server error"
	if !routed {
		want = "no longer through route " + r.Name()
	}
	found := last.String()
	if lastErr != nil {
		found = lastErr.Error()
	}
	return last, fmt.Errorf("https://%s at %s did not answer %s within %s: last %s; check the external Traefik's log for the file provider and that the K3s ingress answers for %s", p.Host, p.Entrypoint, want, timeout, found, p.Host)
}
