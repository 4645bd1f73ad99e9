package cutover

import (
	"context"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Endpoint is where one copy of the service answers.
type Endpoint struct {
	// URL is the base URL: the Nomad instance's registered address
	// (NomadServiceURL) or the Kubernetes copy's host
	// (https://whoami-k8s.brmartin.co.uk).
	URL string
	// Dial, when set, is the host:port connected to instead of the URL's
	// host (the K3s Traefik NodePort); the URL's host stays the Host header
	// and the TLS server name.
	Dial string
	// Roots the certificate must chain to; nil means the system roots.
	Roots *x509.CertPool
}

// ParityInput is one parity check: the same request to both copies.
type ParityInput struct {
	Service           string
	Path              string // default: HealthPath of the Nomad job, else /
	Nomad, Kubernetes Endpoint
	// Headers that must be equal; default Content-Type.
	Headers []string
	// BodyDigest also compares the bodies' sha256.
	BodyDigest bool
	// Timeout of each request; default 10 s.
	Timeout time.Duration
	// KubernetesSimulated: the copy's pods run on simulated (KWOK) nodes
	// and run no process, so a gateway error from its ingress (502, 503,
	// 504) shows only that: not observable, not a difference.
	KubernetesSimulated bool
}

// reply is what one copy answered.
type reply struct {
	status  int
	headers map[string]string
	digest  string
}

func (r reply) describe(headers []string, body bool) string {
	var parts []string
	parts = append(parts, fmt.Sprintf("HTTP %d", r.status))
	for _, h := range headers {
		parts = append(parts, fmt.Sprintf("%s %s", h, shownHeader(h, r.headers[h])))
	}
	if body {
		parts = append(parts, "body sha256:"+r.digest[:12])
	}
	return strings.Join(parts, ", ")
}

func (e Endpoint) get(ctx context.Context, path string, timeout time.Duration, headers []string) (reply, error) {
	base, err := url.Parse(e.URL)
	if err != nil || base.Host == "" {
		return reply{}, fmt.Errorf("%q is not a base URL", e.URL)
	}
	d := &net.Dialer{Timeout: timeout}
	tr := &http.Transport{
		DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			if e.Dial != "" {
				addr = e.Dial
			}
			return d.DialContext(ctx, network, addr)
		},
		TLSClientConfig:   &tls.Config{ServerName: base.Hostname(), RootCAs: e.Roots, MinVersion: tls.VersionTLS12},
		DisableKeepAlives: true,
	}
	defer tr.CloseIdleConnections()
	// A redirect is an answer to compare, not one to follow.
	c := &http.Client{Transport: tr, Timeout: timeout, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	u := strings.TrimSuffix(e.URL, "/") + path
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return reply{}, err
	}
	resp, err := c.Do(req)
	if err != nil {
		return reply{}, err
	}
	defer resp.Body.Close()
	h := sha256.New()
	if _, err := io.Copy(h, io.LimitReader(resp.Body, 64<<20)); err != nil {
		return reply{}, fmt.Errorf("reading the body of GET %s: %w", u, err)
	}
	r := reply{status: resp.StatusCode, headers: map[string]string{}, digest: hex.EncodeToString(h.Sum(nil))}
	for _, k := range headers {
		r.headers[k] = resp.Header.Get(k)
	}
	return r, nil
}

func (e Endpoint) String() string {
	if e.Dial != "" {
		return e.URL + " via " + e.Dial
	}
	return e.URL
}

// Parity asks both copies the same thing before any traffic moves: the
// same status, the same key headers (and, when asked, the same body).
func Parity(ctx context.Context, in ParityInput) GateCheck {
	path := in.Path
	if path == "" {
		path = "/"
	}
	if !strings.HasPrefix(path, "/") {
		path = "/" + path
	}
	headers := slices.Clone(in.Headers)
	if len(headers) == 0 {
		headers = []string{"Content-Type"}
	}
	for i, h := range headers {
		headers[i] = http.CanonicalHeaderKey(h)
	}
	timeout := in.Timeout
	if timeout <= 0 {
		timeout = 10 * time.Second
	}
	what := "status and " + strings.Join(headers, ", ")
	if in.BodyDigest {
		what += " and body digest"
	}
	c := GateCheck{ID: "parity", Checked: fmt.Sprintf("GET %s answers the same (%s) from the Nomad instance of %s and from its Kubernetes copy", path, what, in.Service)}
	nr, err := in.Nomad.get(ctx, path, timeout, headers)
	if err != nil {
		c.Status, c.Found = Block, fmt.Sprintf("the Nomad instance (%s) did not answer: %v", in.Nomad, err)
		c.Next = "Check the Nomad job's allocation runs and its service is registered (nomad service info " + in.Service + "); the parity check needs both copies up."
		if isDialError(err) {
			// Its registered address is not reachable from here (another
			// network, the sandbox's simulator): not seen, not failed.
			c.Status = Unobservable
			c.Next = "Run the cutover from a machine that reaches the Nomad instances (the LAN), or compare curl -si " + strings.TrimSuffix(in.Nomad.URL, "/") + path + " with the Kubernetes copy by hand and accept it unobserved (--accept-unobserved)."
		}
		return c
	}
	kr, err := in.Kubernetes.get(ctx, path, timeout, headers)
	if err != nil {
		c.Status, c.Found = Block, fmt.Sprintf("the Kubernetes copy (%s) did not answer: %v", in.Kubernetes, err)
		c.Next = "Check the Kubernetes copy runs and its ingress routes its host (kubectl get pods,ingress -n <namespace>); the TLS error above names a certificate problem."
		return c
	}
	if in.KubernetesSimulated && (kr.status == http.StatusBadGateway || kr.status == http.StatusServiceUnavailable || kr.status == http.StatusGatewayTimeout) {
		c.Status = Unobservable
		c.Found = fmt.Sprintf("the Kubernetes copy (%s) answered HTTP %d: its pods run on simulated (KWOK) nodes and run no process, so its answer cannot be compared here; Nomad answered %s", in.Kubernetes, kr.status, nr.describe(headers, in.BodyDigest))
		c.Next = "On the real cluster the copy answers; run the check there, or accept it unobserved (--accept-unobserved)."
		return c
	}
	var diffs []string
	if nr.status != kr.status {
		diffs = append(diffs, fmt.Sprintf("status %d on Nomad, %d on Kubernetes", nr.status, kr.status))
	}
	for _, h := range headers {
		if nr.headers[h] != kr.headers[h] {
			diffs = append(diffs, fmt.Sprintf("%s %s on Nomad, %s on Kubernetes", h, shownHeader(h, nr.headers[h]), shownHeader(h, kr.headers[h])))
		}
	}
	if in.BodyDigest && nr.digest != kr.digest {
		diffs = append(diffs, fmt.Sprintf("body sha256 %s on Nomad, %s on Kubernetes", nr.digest[:12], kr.digest[:12]))
	}
	evidence := fmt.Sprintf("Nomad (%s): %s; Kubernetes (%s): %s", in.Nomad, nr.describe(headers, true), in.Kubernetes, kr.describe(headers, true))
	if len(diffs) > 0 {
		c.Status, c.Found = Block, strings.Join(diffs, "; ")+" — "+evidence
		c.Next = fmt.Sprintf("The copies differ: compare curl -si %s%s with the Kubernetes copy's answer (its image, config and secrets); move no traffic until they agree.", strings.TrimSuffix(in.Nomad.URL, "/"), path)
		return c
	}
	c.Status, c.Found = Pass, evidence
	return c
}

// shownHeader is a header's value as evidence: quoted, or as a digest for
// headers that carry credentials or sessions.
func shownHeader(name, v string) string {
	switch http.CanonicalHeaderKey(name) {
	case "Set-Cookie", "Cookie", "Authorization", "Proxy-Authorization", "Www-Authenticate":
		if v == "" {
			return `""`
		}
		sum := sha256.Sum256([]byte(v))
		return "sha256:" + hex.EncodeToString(sum[:])[:12]
	}
	return strconv.Quote(v)
}

// isDialError: no connection was made (refused, no route, timeout on
// connect), as opposed to a copy that answered wrongly.
func isDialError(err error) bool {
	var op *net.OpError
	return errors.As(err, &op) && op.Op == "dial"
}
