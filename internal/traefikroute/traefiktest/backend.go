package traefiktest

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"net/http"
	"net/http/httptest"
	"testing"

	"migrate-tui/internal/tlssecret/tlstest"
)

// CA is the pair's issuing CA (the chain's last certificate) as PEM and as
// a pool.
func CA(t testing.TB, p tlstest.Pair) ([]byte, *x509.CertPool) {
	t.Helper()
	var last *pem.Block
	for rest := p.ChainPEM; ; {
		b, r := pem.Decode(rest)
		if b == nil {
			break
		}
		last, rest = b, r
	}
	if last == nil {
		t.Fatal("no certificate in the chain")
	}
	c, err := x509.ParseCertificate(last.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(c)
	return pem.EncodeToMemory(last), pool
}

// TLSBackend serves h over TLS with the pair on loopback: a stand-in for
// the K3s Traefik's websecure NodePort, which serves the wildcard.
func TLSBackend(t testing.TB, p tlstest.Pair, h http.Handler) *httptest.Server {
	t.Helper()
	cert, err := tls.X509KeyPair(p.ChainPEM, p.KeyPEM)
	if err != nil {
		t.Fatal(err)
	}
	s := httptest.NewUnstartedServer(h)
	s.TLS = &tls.Config{Certificates: []tls.Certificate{cert}}
	s.StartTLS()
	t.Cleanup(s.Close)
	return s
}
