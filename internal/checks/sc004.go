package checks

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"regexp"
	"sort"
	"strings"
	"time"
)

// DefaultMinValidity is how long a certificate must stay valid for SC-004.
const DefaultMinValidity = 7 * 24 * time.Hour

func sc004() Check {
	return Check{
		ID:     "SC-004",
		Title:  "PoC services answer over HTTPS",
		Proves: "Each PoC ingress host completes a TLS handshake with a certificate that names it, chains to a trusted root and is not near expiry.",
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
			"Apply the ingress and services stages (migrate-tui apply --stage ingress, then --stage services); each PoC service gets <service>."+d.Decisions.Domain+".")
	}
	minValid := d.TLS.MinValidity
	if minValid <= 0 {
		minValid = DefaultMinValidity
	}
	var problems, lines []string
	for _, h := range hosts {
		line, problem := probeTLS(ctx, d, h, minValid)
		if problem != "" {
			problems = append(problems, problem)
		} else {
			lines = append(lines, line)
		}
	}
	if len(problems) > 0 {
		return fail(join(problems, strings.Join(lines, "\n")),
			"Renew or replace the certificate in the "+d.Decisions.TLSSecretName+" Secret (a wildcard for *."+d.Decisions.Domain+"), or fix the router that answered for the host; openssl s_client -connect ADDR -servername HOST shows what is served. A host that did not answer: check the address dialled (migrate-tui check --dial, default the host on 443).")
	}
	return pass(strings.Join(lines, "\n"))
}

func probeTLS(ctx context.Context, d *Deps, host string, minValid time.Duration) (line, problem string) {
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
			return "", fmt.Sprintf("%s via %s: certificate is for %s, not %s", host, addr, certNames(hostErr.Certificate), host)
		case errors.As(err, &invalid) && invalid.Reason == x509.Expired:
			return "", fmt.Sprintf("%s via %s: certificate expired on %s", host, addr, invalid.Cert.NotAfter.UTC().Format(time.DateOnly))
		case errors.As(err, &unknown):
			return "", fmt.Sprintf("%s via %s: certificate is not signed by a trusted authority (%v)", host, addr, err)
		case errors.As(err, &tlsVerify):
			return "", fmt.Sprintf("%s via %s: certificate does not verify (%v)", host, addr, err)
		default:
			return "", fmt.Sprintf("%s via %s: unreachable: %v", host, addr, err)
		}
	}
	defer conn.Close()
	cs := conn.(*tls.Conn).ConnectionState()
	if len(cs.PeerCertificates) == 0 {
		return "", fmt.Sprintf("%s via %s: no certificate presented", host, addr)
	}
	leaf := cs.PeerCertificates[0]
	left := leaf.NotAfter.Sub(now)
	if left < minValid {
		return "", fmt.Sprintf("%s via %s: certificate expires on %s, in %s (less than %s)", host, addr, leaf.NotAfter.UTC().Format(time.DateOnly), left.Round(time.Hour), minValid)
	}
	return fmt.Sprintf("%s via %s: %s, valid until %s (%d days)", host, addr, certNames(leaf), leaf.NotAfter.UTC().Format(time.DateOnly), int(left.Hours()/24)), ""
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
