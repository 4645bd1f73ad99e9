// Package tlstest makes certificates at test time: a CA and a wildcard leaf
// it signs, as PEM, and a Traefik acme.json holding them.
package tlstest

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"math/big"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// Pair is a leaf chain (leaf, then CA) and the leaf's key, as PEM.
type Pair struct {
	ChainPEM []byte
	KeyPEM   []byte
}

// Leaf issues a certificate for names from a fresh CA, valid from notBefore
// to notAfter.
func Leaf(t testing.TB, names []string, notBefore, notAfter time.Time) Pair {
	t.Helper()
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	ca := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "Test Homelab CA"},
		NotBefore:             notBefore.Add(-time.Hour),
		NotAfter:              notAfter.Add(24 * time.Hour),
		IsCA:                  true,
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageCertSign,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, ca, ca, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	ca, _ = x509.ParseCertificate(caDER)
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	leaf := &x509.Certificate{
		SerialNumber: big.NewInt(2),
		Subject:      pkix.Name{CommonName: names[0]},
		DNSNames:     names,
		NotBefore:    notBefore,
		NotAfter:     notAfter,
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, leaf, ca, &key.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	kder, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	chain := append(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: caDER})...)
	return Pair{ChainPEM: chain, KeyPEM: pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kder})}
}

// Valid is a wildcard pair for *.domain and domain, valid for 90 days.
func Valid(t testing.TB, domain string) Pair {
	return Leaf(t, []string{"*." + domain, domain}, time.Now().Add(-time.Hour), time.Now().Add(90*24*time.Hour))
}

// Files writes the pair as cert.pem and key.pem in dir.
func (p Pair) Files(t testing.TB, dir string) (cert, key string) {
	t.Helper()
	cert, key = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	if err := os.WriteFile(cert, p.ChainPEM, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(key, p.KeyPEM, 0o600); err != nil {
		t.Fatal(err)
	}
	return cert, key
}

// ACMECert is one certificate of an acme.json resolver.
type ACMECert struct {
	Main string
	SANs []string
	Pair Pair
}

// ACMEJSON writes a Traefik v2/v3 acme.json (resolver -> account and
// certificates, PEM base64-encoded) into dir and returns its path.
func ACMEJSON(t testing.TB, dir string, resolvers map[string][]ACMECert) string {
	t.Helper()
	type domain struct {
		Main string   `json:"main"`
		SANs []string `json:"sans,omitempty"`
	}
	type cert struct {
		Domain      domain `json:"domain"`
		Certificate []byte `json:"certificate"`
		Key         []byte `json:"key"`
		Store       string `json:"Store"`
	}
	out := map[string]any{}
	for name, certs := range resolvers {
		var cs []cert
		for _, c := range certs {
			cs = append(cs, cert{Domain: domain{Main: c.Main, SANs: c.SANs}, Certificate: c.Pair.ChainPEM, Key: c.Pair.KeyPEM, Store: "default"})
		}
		out[name] = map[string]any{
			"Account": map[string]any{
				"Email":        "admin@example.org",
				"Registration": map[string]any{"body": map[string]any{"status": "valid"}, "uri": "https://acme-v02.api.letsencrypt.org/acme/acct/1"},
				"PrivateKey":   "bm90IGEgcmVhbCBrZXk=",
				"KeyType":      "4096",
			},
			"Certificates": cs,
		}
	}
	b, err := json.MarshalIndent(out, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(dir, "acme.json")
	if err := os.WriteFile(p, b, 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// KeyBody is the base64 body of a PEM key (no armour lines): what must never
// appear in any output.
func KeyBody(t testing.TB, keyPEM []byte) string {
	t.Helper()
	b, _ := pem.Decode(keyPEM)
	if b == nil {
		t.Fatal("not a PEM key")
	}
	// The first line of the PEM body: long enough to be unique, and the
	// form the key would take if any of it were printed.
	body := string(pem.EncodeToMemory(&pem.Block{Type: "K", Bytes: b.Bytes}))
	lines := splitLines(body)
	return lines[1]
}

func splitLines(s string) []string {
	var out []string
	start := 0
	for i := range len(s) {
		if s[i] == '\n' {
			out = append(out, s[start:i])
			start = i + 1
		}
	}
	return out
}
