// Package tlssecret puts the wildcard TLS certificate into the cluster as the
// Secret the ingress module's default TLSStore names (tls_secret_name), so
// the key never passes through tfvars or Terraform state. The certificate and
// key come from PEM files or from the external Traefik's acme.json; they are
// validated before anything is written, and only the certificate's public
// facts (subject, SANs, issuer, expiry, fingerprint) are ever reported.
package tlssecret

import (
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
	"slices"
	"sort"
	"strings"
	"time"
)

// Material is a certificate chain and its private key. The key is kept
// unexported and never formatted: printing a Material shows the certificate.
type Material struct {
	certPEM []byte
	keyPEM  []byte
	// Source says where it came from ("acme.json resolver le", "cert.pem").
	Source string
}

// String describes the certificate, never the key.
func (m *Material) String() string {
	info, err := m.Info()
	if err != nil {
		return "certificate from " + m.Source
	}
	return fmt.Sprintf("certificate %s from %s", info.Subject, m.Source)
}

// GoString keeps %#v from printing the key bytes.
func (m *Material) GoString() string { return m.String() }

// Info is what may be shown about a certificate.
type Info struct {
	Subject  string    `json:"subject"`
	SANs     []string  `json:"sans"`
	Issuer   string    `json:"issuer"`
	NotAfter time.Time `json:"not_after"`
	SHA256   string    `json:"sha256"`
}

func infoOf(c *x509.Certificate) Info {
	sum := sha256.Sum256(c.Raw)
	var hexPairs []string
	for _, b := range sum {
		hexPairs = append(hexPairs, strings.ToUpper(hex.EncodeToString([]byte{b})))
	}
	return Info{Subject: c.Subject.String(), SANs: slices.Clone(c.DNSNames), Issuer: c.Issuer.String(),
		NotAfter: c.NotAfter.UTC(), SHA256: strings.Join(hexPairs, ":")}
}

// chain parses every CERTIFICATE block; the first is the leaf.
func (m *Material) chain() ([]*x509.Certificate, error) {
	var out []*x509.Certificate
	rest := m.certPEM
	for {
		var b *pem.Block
		b, rest = pem.Decode(rest)
		if b == nil {
			break
		}
		if b.Type != "CERTIFICATE" {
			// A key pasted into the certificate file: say so without showing it.
			return nil, fmt.Errorf("the certificate from %s holds a %q PEM block; it must hold only CERTIFICATE blocks (leaf first)", m.Source, b.Type)
		}
		c, err := x509.ParseCertificate(b.Bytes)
		if err != nil {
			return nil, fmt.Errorf("certificate %d in the chain from %s does not parse: %v", len(out)+1, m.Source, err)
		}
		out = append(out, c)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("no PEM CERTIFICATE block in the certificate from %s", m.Source)
	}
	return out, nil
}

// Info returns the leaf certificate's public facts.
func (m *Material) Info() (Info, error) {
	ch, err := m.chain()
	if err != nil {
		return Info{}, err
	}
	return infoOf(ch[0]), nil
}

// FromFiles reads a PEM certificate chain (leaf first) and a PEM key.
func FromFiles(certPath, keyPath string) (*Material, error) {
	c, err := os.ReadFile(certPath)
	if err != nil {
		return nil, fmt.Errorf("reading the certificate: %w", err)
	}
	k, err := os.ReadFile(keyPath)
	if err != nil {
		return nil, fmt.Errorf("reading the key: %w", err)
	}
	return &Material{certPEM: c, keyPEM: k, Source: certPath}, nil
}

// acmeFile is Traefik v2/v3's acme.json: resolver name -> account and
// certificates. Certificate and key are base64 PEM ([]byte in Go).
type acmeResolver struct {
	Certificates []struct {
		Domain struct {
			Main string   `json:"main"`
			SANs []string `json:"sans"`
		} `json:"domain"`
		Certificate []byte `json:"certificate"`
		Key         []byte `json:"key"`
	} `json:"Certificates"`
}

// Wildcard is the name the certificate must cover for domain.
func Wildcard(domain string) string { return "*." + strings.ToLower(strings.TrimSuffix(domain, ".")) }

// FromACME picks, from a Traefik acme.json, the certificate whose main domain
// or SANs include *.<domain> (only in resolver, when given); with several,
// the one that expires last.
func FromACME(path, domain, resolver string) (*Material, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading acme.json: %w", err)
	}
	var file map[string]json.RawMessage
	if err := json.Unmarshal(raw, &file); err != nil {
		return nil, fmt.Errorf("%s is not a Traefik acme.json (%s); pass the file Traefik's certificatesResolvers.<name>.acme.storage points at", path, jsonProblem(err))
	}
	want := Wildcard(domain)
	var names []string
	for n := range file {
		names = append(names, n)
	}
	sort.Strings(names)
	if resolver != "" && !slices.Contains(names, resolver) {
		return nil, fmt.Errorf("%s has no resolver %q (it has: %s); pass one of those to --resolver", path, resolver, list(names))
	}
	var (
		best     *Material
		bestTill time.Time
		seen     []string
	)
	for _, n := range names {
		if resolver != "" && n != resolver {
			continue
		}
		var r acmeResolver
		if err := json.Unmarshal(file[n], &r); err != nil {
			return nil, fmt.Errorf("%s: resolver %q is not in Traefik's acme.json format (%s)", path, n, jsonProblem(err))
		}
		for _, c := range r.Certificates {
			names := append([]string{c.Domain.Main}, c.Domain.SANs...)
			seen = append(seen, fmt.Sprintf("%s (resolver %s)", strings.Join(names, ", "), n))
			if !slices.ContainsFunc(names, func(s string) bool { return strings.EqualFold(s, want) }) {
				continue
			}
			m := &Material{certPEM: c.Certificate, keyPEM: c.Key, Source: fmt.Sprintf("%s, resolver %s", path, n)}
			info, err := m.Info()
			if err != nil {
				return nil, err
			}
			if best == nil || info.NotAfter.After(bestTill) {
				best, bestTill = m, info.NotAfter
			}
		}
	}
	if best != nil {
		return best, nil
	}
	where := "certificates in " + path
	if resolver != "" {
		where += " under resolver " + resolver
	}
	if len(seen) == 0 {
		return nil, fmt.Errorf("no %s (%s holds no certificates yet); let Traefik obtain %s first, or pass --cert FILE --key FILE", where, path, want)
	}
	next := "pass --cert FILE --key FILE"
	if resolver == "" && len(names) > 1 {
		next = "pass --resolver NAME or --cert FILE --key FILE"
	}
	return nil, fmt.Errorf("the %s cover %s, not %s: %s", where, strings.Join(seen, "; "), want, next)
}

// jsonProblem describes a JSON error by position only, so no byte of the
// file (which holds keys) is repeated.
func jsonProblem(err error) string {
	var se *json.SyntaxError
	if errors.As(err, &se) {
		return fmt.Sprintf("invalid JSON at byte %d", se.Offset)
	}
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		return fmt.Sprintf("unexpected %s at %q", te.Value, te.Field)
	}
	if strings.Contains(err.Error(), "base64") {
		return "a certificate or key is not valid base64"
	}
	return "unexpected JSON"
}

func list(s []string) string {
	if len(s) == 0 {
		return "none"
	}
	return strings.Join(s, ", ")
}

// Report is the outcome of validation: the leaf's facts and warnings.
type Report struct {
	Info     Info     `json:"certificate"`
	Warnings []string `json:"warnings,omitempty"`
}

// ValidationError is a certificate that must not be installed.
type ValidationError struct{ Problem string }

func (e *ValidationError) Error() string { return e.Problem }

// RenewWithin is how close to expiry a certificate draws a warning.
const RenewWithin = 14 * 24 * time.Hour

// Validate checks that the chain parses, the key matches the leaf, the leaf
// covers *.<domain> and is valid at now. A missing apex name, an expiry
// within RenewWithin and a chain out of order are warnings.
func (m *Material) Validate(domain string, now time.Time) (Report, error) {
	ch, err := m.chain()
	if err != nil {
		return Report{}, &ValidationError{err.Error()}
	}
	leaf := ch[0]
	rep := Report{Info: infoOf(leaf)}
	// Key errors are rewritten: tls's own messages are fixed strings today,
	// but nothing about the key may reach a log.
	if b, _ := pem.Decode(m.keyPEM); b == nil || !strings.Contains(b.Type, "PRIVATE KEY") {
		return rep, &ValidationError{fmt.Sprintf("the key for %s is not a PEM private key; pass the key file that belongs to this certificate", m.Source)}
	}
	if _, err := tls.X509KeyPair(m.certPEM, m.keyPEM); err != nil {
		return rep, &ValidationError{fmt.Sprintf("the key does not match the certificate %s (SHA-256 %s) from %s: pass the key file issued with this certificate", rep.Info.Subject, rep.Info.SHA256, m.Source)}
	}
	want := Wildcard(domain)
	if !covers(leaf, want) {
		return rep, &ValidationError{fmt.Sprintf("the certificate from %s covers %s, not %s: use the wildcard certificate for %s (pass --resolver or --cert/--key), or set domain in terraform.tfvars", m.Source, list(leaf.DNSNames), want, domain)}
	}
	if apex := strings.TrimPrefix(want, "*."); !covers(leaf, apex) {
		rep.Warnings = append(rep.Warnings, fmt.Sprintf("the certificate does not cover the apex %s (only names under it)", apex))
	}
	switch {
	case now.After(leaf.NotAfter):
		return rep, &ValidationError{fmt.Sprintf("the certificate %s expired on %s: renew it (the external Traefik renews ACME certificates; copy acme.json again) and retry", want, leaf.NotAfter.UTC().Format(time.DateOnly))}
	case now.Before(leaf.NotBefore):
		return rep, &ValidationError{fmt.Sprintf("the certificate %s is not valid before %s: check this machine's clock, or wait", want, leaf.NotBefore.UTC().Format(time.RFC3339))}
	case leaf.NotAfter.Sub(now) < RenewWithin:
		rep.Warnings = append(rep.Warnings, fmt.Sprintf("the certificate expires on %s, in less than 14 days: renew it and run tls-secret again", leaf.NotAfter.UTC().Format(time.DateOnly)))
	}
	for i := 0; i+1 < len(ch); i++ {
		if err := ch[i].CheckSignatureFrom(ch[i+1]); err != nil {
			rep.Warnings = append(rep.Warnings, fmt.Sprintf("certificate %d of the chain (%s) is not signed by the next one (%s): clients may not build the chain", i+1, ch[i].Subject, ch[i+1].Subject))
		}
	}
	return rep, nil
}

// covers reports whether the leaf names exactly name (a wildcard SAN is
// matched as itself, not expanded).
func covers(c *x509.Certificate, name string) bool {
	return slices.ContainsFunc(c.DNSNames, func(s string) bool { return strings.EqualFold(s, name) })
}
