package checks_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"math/big"
	"net/http"
	"testing"
	"time"

	"migrate-tui/internal/checks"
)

// testCA signs leaf certificates for a local TLS server.
type testCA struct {
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
	pool *x509.CertPool
}

func newCA(t testing.TB) *testCA {
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "sc004 test CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(10 * 365 * 24 * time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	c, _ := x509.ParseCertificate(der)
	pool := x509.NewCertPool()
	pool.AddCert(c)
	return &testCA{cert: c, key: key, pool: pool}
}

func (ca *testCA) leaf(t testing.TB, names []string, notBefore, notAfter time.Time) tls.Certificate {
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	serial, _ := rand.Int(rand.Reader, big.NewInt(1<<62))
	tmpl := &x509.Certificate{SerialNumber: serial, Subject: pkix.Name{CommonName: names[0]}, DNSNames: names,
		NotBefore: notBefore, NotAfter: notAfter, KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.cert, &key.PublicKey, ca.key)
	if err != nil {
		t.Fatal(err)
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}
}

// serveTLS serves cert on loopback until the test ends and returns its
// address; every request gets HTTP 200, as a routed whoami answers.
func serveTLS(t testing.TB, cert tls.Certificate) string {
	return serveTLSStatus(t, cert, http.StatusOK)
}

// serveTLSStatus is serveTLS answering every request with status, as an
// ingress does for a missing route (404) or a backend that is down (502).
func serveTLSStatus(t testing.TB, cert tls.Certificate, status int) string {
	ln, err := tls.Listen("tcp", "127.0.0.1:0", &tls.Config{Certificates: []tls.Certificate{cert}})
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(status)
	})}
	t.Cleanup(func() { srv.Close() })
	go srv.Serve(ln)
	return ln.Addr().String()
}

func TestSC004(t *testing.T) {
	t.Parallel()
	ns := world.Namespace(t)
	ingress(t, ns, "whoami.example.test", "overseerr.example.test")
	ca := newCA(t)
	now := time.Now()
	good := serveTLS(t, ca.leaf(t, []string{"*.example.test"}, now.Add(-time.Hour), now.Add(90*24*time.Hour)))
	wrongHost := serveTLS(t, ca.leaf(t, []string{"*.other.test"}, now.Add(-time.Hour), now.Add(90*24*time.Hour)))
	expired := serveTLS(t, ca.leaf(t, []string{"*.example.test"}, now.Add(-90*24*time.Hour), now.Add(-24*time.Hour)))
	nearExpiry := serveTLS(t, ca.leaf(t, []string{"*.example.test"}, now.Add(-80*24*time.Hour), now.Add(2*24*time.Hour)))
	wildcard := ca.leaf(t, []string{"*.example.test"}, now.Add(-time.Hour), now.Add(90*24*time.Hour))
	noRoute := serveTLSStatus(t, wildcard, http.StatusNotFound)
	badGateway := serveTLSStatus(t, wildcard, http.StatusBadGateway)

	cases := []struct {
		name      string
		addr      string
		roots     bool
		simulated bool
		status    checks.Status
		evidence  []string
	}{
		{"valid wildcard", good, true, false, checks.Pass, []string{"whoami.example.test via " + good + ": *.example.test, valid until", "overseerr.example.test", "HTTP 200"}},
		{"no route for the host", noRoute, true, false, checks.Fail, []string{"no route answers for whoami.example.test (HTTP 404)"}},
		{"backend down", badGateway, true, false, checks.Fail, []string{"the service behind it did not answer (HTTP 502)"}},
		{"backend simulated", badGateway, true, true, checks.Warn, []string{"the backend cannot answer here (HTTP 502: KWOK pods run no process)"}},
		{"no route, simulated", noRoute, true, true, checks.Fail, []string{"(HTTP 404)"}},
		{"wrong host", wrongHost, true, false, checks.Fail, []string{"whoami.example.test via " + wrongHost + ": certificate is for *.other.test, not whoami.example.test"}},
		{"expired", expired, true, false, checks.Fail, []string{"certificate expired on"}},
		{"near expiry", nearExpiry, true, false, checks.Fail, []string{"certificate expires on", "less than 168h0m0s"}},
		{"untrusted issuer", good, false, false, checks.Fail, []string{"not signed by a trusted authority"}},
		{"nothing listening", "127.0.0.1:1", true, false, checks.Fail, []string{"unreachable"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			d := deps(ns, "whoami")
			d.TLS.DialAddr = tc.addr
			d.TLS.SimulatedBackends = tc.simulated
			if tc.roots {
				d.TLS.Roots = ca.pool
			} else {
				d.TLS.Roots = x509.NewCertPool()
			}
			expect(t, runOne(t, "SC-004", d, checks.RunOptions{}), tc.status, tc.evidence...)
		})
	}
	t.Run("no ingress host", func(t *testing.T) {
		empty := world.Namespace(t)
		expect(t, runOne(t, "SC-004", deps(empty, "whoami"), checks.RunOptions{}), checks.Fail, "no ingress host found")
	})
}
