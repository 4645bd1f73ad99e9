package checks

import (
	"bufio"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/http"
	"regexp"
	"sort"
	"strings"
	"time"

	"migrate-tui/internal/decisions"
)

// IngressAddrEnv names the environment variable with the host:port SC-004
// dials when --dial is not given: the sandbox exports its Traefik's
// websecure address there (on the homelab it is unset: the host on 443).
const IngressAddrEnv = "MIGRATE_TUI_INGRESS_ADDR"

// DefaultMinValidity is how long a certificate must stay valid for SC-004.
const DefaultMinValidity = 7 * 24 * time.Hour

func sc004() Check {
	return Check{
		ID:     "SC-004",
		Title:  "PoC services answer over HTTPS",
		Proves: "Each PoC ingress host completes a TLS handshake with a certificate that names it, chains to a trusted root and is not near expiry, and a route for the host answers an HTTPS request.",
		Hint:   "See specs/003-nomad-to-kubernetes SC-004: the wildcard certificate lives in the tls_secret_name Secret (migrate-tui tls-secret creates it from the certificate file or Traefik's acme.json).",
		Run:    runSC004,
	}
}

// hostRule finds Host(`a`, `b`) in Traefik IngressRoute match expressions.
var hostRule = regexp.MustCompile("Host\\(([^)]*)\\)")
var backticked = regexp.MustCompile("`([^`]+)`")

func ingressHosts(ctx context.Context, d *Deps) ([]string, *Result) {
	if len(d.TLS.Hosts) > 0 {
		return d.TLS.Hosts, nil
	}
	s := d.Snapshot()
	set := map[string]bool{}
	ings, err := s.Ingresses(ctx)
	if err != nil {
		r := apiFail("Ingresses in "+s.Namespace(), err)
		return nil, &r
	}
	for _, in := range ings {
		for _, r := range in.Spec.Rules {
			if r.Host != "" {
				set[r.Host] = true
			}
		}
	}
	routes, err := s.List(ctx, gvrIngressRoute, s.Namespace())
	if err != nil && !IsUnreachable(err) {
		// No Traefik CRDs: Ingress objects are the only source.
		routes = nil
	} else if err != nil {
		r := apiFail("IngressRoutes in "+s.Namespace(), err)
		return nil, &r
	}
	for _, rt := range routes {
		spec, _ := rt.Object["spec"].(map[string]any)
		rs, _ := spec["routes"].([]any)
		for _, x := range rs {
			m, _ := x.(map[string]any)
			match, _ := m["match"].(string)
			for _, h := range hostRule.FindAllStringSubmatch(match, -1) {
				for _, b := range backticked.FindAllStringSubmatch(h[1], -1) {
					set[b[1]] = true
				}
			}
		}
	}
	var out []string
	for h := range set {
		out = append(out, h)
	}
	sort.Strings(out)
	return out, nil
}

func runSC004(ctx context.Context, d *Deps) Result {
	hosts, errR := ingressHosts(ctx, d)
	if errR != nil {
		return *errR
	}
	if len(hosts) == 0 {
		return fail(fmt.Sprintf("no ingress host found: no Ingress rule or IngressRoute Host() in namespace %s", d.Decisions.Namespace()),
			"Apply the ingress and services stages (migrate-tui apply --stage ingress, then --stage services); each PoC service gets "+
				decisions.PoCHost(d.Decisions.PoCHostPattern, "<service>", d.Decisions.Domain)+" (poc_host_pattern).")
	}
	minValid := d.TLS.MinValidity
	if minValid <= 0 {
		minValid = DefaultMinValidity
	}
	var problems, notes, lines []string
	for _, h := range hosts {
		p := probeTLS(ctx, d, h, minValid)
		switch {
		case p.problem != "":
			problems = append(problems, p.problem)
		case p.note != "":
			notes = append(notes, p.note)
		default:
			lines = append(lines, p.line)
		}
	}
	if len(problems) > 0 {
		return fail(join(problems, strings.Join(append(notes, lines...), "\n")),
			"Renew or replace the certificate in the "+d.Decisions.TLSSecretName+" Secret (a wildcard for *."+d.Decisions.Domain+"), or fix the router that answered for the host; openssl s_client -connect ADDR -servername HOST shows what is served. A host that did not answer: check the address dialled (migrate-tui check --dial, or $"+IngressAddrEnv+"; default the host on 443).")
	}
	if len(notes) > 0 {
		return warn(join(notes, strings.Join(lines, "\n")),
			"The certificate and the route were observed; the backends were not: KWOK's pods run no process, so the ingress answers 502/503 for them here.")
	}
	return pass(strings.Join(lines, "\n"))
}

// probe is what one host gave: a passing line, a note (verified, but the
// backend cannot answer here) or a problem.
type probe struct{ line, note, problem string }

func probeTLS(ctx context.Context, d *Deps, host string, minValid time.Duration) probe {
	addr := d.TLS.DialAddr
	if addr == "" {
		addr = net.JoinHostPort(host, "443")
	}
	now := d.now()
	dialer := &tls.Dialer{
		NetDialer: &net.Dialer{Timeout: 10 * time.Second},
		Config:    &tls.Config{ServerName: host, RootCAs: d.TLS.Roots, Time: func() time.Time { return now }, MinVersion: tls.VersionTLS12},
	}
	conn, err := dialer.DialContext(ctx, "tcp", addr)
	if err != nil {
		var hostErr x509.HostnameError
		var invalid x509.CertificateInvalidError
		var unknown x509.UnknownAuthorityError
		var tlsVerify *tls.CertificateVerificationError
		switch {
		case errors.As(err, &hostErr):
			return probe{problem: fmt.Sprintf("%s via %s: certificate is for %s, not %s", host, addr, certNames(hostErr.Certificate), host)}
		case errors.As(err, &invalid) && invalid.Reason == x509.Expired:
			return probe{problem: fmt.Sprintf("%s via %s: certificate expired on %s", host, addr, invalid.Cert.NotAfter.UTC().Format(time.DateOnly))}
		case errors.As(err, &unknown):
			return probe{problem: fmt.Sprintf("%s via %s: certificate is not signed by a trusted authority (%v)", host, addr, err)}
		case errors.As(err, &tlsVerify):
			return probe{problem: fmt.Sprintf("%s via %s: certificate does not verify (%v)", host, addr, err)}
		default:
			return probe{problem: fmt.Sprintf("%s via %s: unreachable: %v", host, addr, err)}
		}
	}
	defer conn.Close()
	cs := conn.(*tls.Conn).ConnectionState()
	if len(cs.PeerCertificates) == 0 {
		return probe{problem: fmt.Sprintf("%s via %s: no certificate presented", host, addr)}
	}
	leaf := cs.PeerCertificates[0]
	left := leaf.NotAfter.Sub(now)
	if left < minValid {
		return probe{problem: fmt.Sprintf("%s via %s: certificate expires on %s, in %s (less than %s)", host, addr, leaf.NotAfter.UTC().Format(time.DateOnly), left.Round(time.Hour), minValid)}
	}
	cert := fmt.Sprintf("%s via %s: %s, valid until %s (%d days)", host, addr, certNames(leaf), leaf.NotAfter.UTC().Format(time.DateOnly), int(left.Hours()/24))

	// The handshake alone does not show a route: Traefik serves its default
	// certificate for any name and answers 404 when no router matches.
	status, err := getRoot(ctx, conn, host)
	switch {
	case err != nil:
		return probe{problem: fmt.Sprintf("%s; no HTTP answer: %v", cert, err)}
	case status == http.StatusNotFound:
		return probe{problem: fmt.Sprintf("%s; but no route answers for %s (HTTP 404): the router is missing or its rule names another host", cert, host)}
	case status == http.StatusBadGateway || status == http.StatusServiceUnavailable || status == http.StatusGatewayTimeout:
		if d.TLS.SimulatedBackends {
			return probe{note: fmt.Sprintf("%s; routed, but the backend cannot answer here (HTTP %d: KWOK pods run no process)", cert, status)}
		}
		return probe{problem: fmt.Sprintf("%s; routed, but the service behind it did not answer (HTTP %d): check its pods and endpoints", cert, status)}
	}
	return probe{line: fmt.Sprintf("%s; HTTP %d", cert, status)}
}

// getRoot sends GET / for host over conn and returns the status code.
func getRoot(ctx context.Context, conn net.Conn, host string) (int, error) {
	deadline := time.Now().Add(15 * time.Second)
	if dl, ok := ctx.Deadline(); ok && dl.Before(deadline) {
		deadline = dl
	}
	_ = conn.SetDeadline(deadline)
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "https://"+host+"/", nil)
	if err != nil {
		return 0, err
	}
	req.Header.Set("User-Agent", "migrate-tui-check")
	req.Close = true
	if err := req.Write(conn); err != nil {
		return 0, err
	}
	resp, err := http.ReadResponse(bufio.NewReader(conn), req)
	if err != nil {
		return 0, err
	}
	resp.Body.Close()
	return resp.StatusCode, nil
}

func certNames(c *x509.Certificate) string {
	if c == nil {
		return "(no certificate)"
	}
	if len(c.DNSNames) > 0 {
		return strings.Join(c.DNSNames, ",")
	}
	return c.Subject.CommonName
}
