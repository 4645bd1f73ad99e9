package traefiktest

import (
	"crypto/x509"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"migrate-tui/internal/tlssecret/tlstest"
)

// External is the external Traefik as on Hestia: the file provider watches
// Dir, which already holds the operator's tls.yml (a wildcard for the
// domain as the default certificate, from a CA in CAFile and Roots).
type External struct {
	*Traefik
	Pair   tlstest.Pair
	CAFile string
	Roots  *x509.CertPool
	// Own are the operator's files in Dir, by name, as written.
	Own map[string][]byte
}

// StartExternal writes tls.yml and the extra files (name -> content) into
// a fresh watched directory and starts Traefik on it.
func StartExternal(t testing.TB, domain string, extra map[string][]byte) *External {
	t.Helper()
	dir, certDir := t.TempDir(), t.TempDir()
	e := &External{Pair: tlstest.Valid(t, domain), Own: map[string][]byte{}}
	certFile, keyFile := e.Pair.Files(t, certDir)
	var caPEM []byte
	caPEM, e.Roots = CA(t, e.Pair)
	e.CAFile = filepath.Join(certDir, "ca.pem")
	if err := os.WriteFile(e.CAFile, caPEM, 0o644); err != nil {
		t.Fatal(err)
	}
	e.Own["tls.yml"] = fmt.Appendf(nil, "tls:\n  stores:\n    default:\n      defaultCertificate:\n        certFile: %s\n        keyFile: %s\n", certFile, keyFile)
	for k, v := range extra {
		e.Own[k] = v
	}
	for name, b := range e.Own {
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	e.Traefik = Start(t, dir)
	t.Cleanup(func() { e.DumpLog(t) })
	return e
}
