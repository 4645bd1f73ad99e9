package hostile

import (
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"migrate-tui/internal/tlssecret"
	"migrate-tui/internal/tlssecret/tlstest"
)

// fuzzNow is the clock the fuzz validates at: the time the seeds are made
// (tlstest.Valid is valid from an hour ago), so the valid seed walks the
// success path. A fixed date would lie before or after them.
var fuzzNow = time.Now()

// seedValidates fails the fuzz when the valid seed does not validate: the
// success path (Material's String) would go unexercised.
func seedValidates(f *testing.F, m *tlssecret.Material, err error) {
	f.Helper()
	if err == nil {
		_, err = m.Validate("example.org", fuzzNow)
	}
	if err != nil {
		f.Fatalf("the valid seed does not validate, so no case reaches the success path: %v", err)
	}
}

// noKeyIn fails when an error message carries key material.
func noKeyIn(t *testing.T, err error, key []byte) {
	t.Helper()
	if err == nil {
		return
	}
	msg := err.Error()
	if strings.Contains(msg, "PRIVATE KEY") {
		t.Fatalf("message quotes a key: %q", msg)
	}
	if b, _ := pem.Decode(key); b != nil && len(b.Bytes) > 8 {
		body := base64.StdEncoding.EncodeToString(b.Bytes)
		if strings.Contains(msg, body[:16]) {
			t.Fatalf("message holds key bytes: %q", msg)
		}
	}
}

// PEM certificate and key as handed to tls-secret --cert/--key: junk,
// reversed chains, encrypted and ed25519 keys all give an error, never a
// panic, and no message quotes the key.
func FuzzTLSFromPEM(f *testing.F) {
	p := tlstest.Valid(f, "example.org")
	f.Add(p.ChainPEM, p.KeyPEM)
	{
		dir := f.TempDir()
		cp, kp := filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
		os.WriteFile(cp, p.ChainPEM, 0o600)
		os.WriteFile(kp, p.KeyPEM, 0o600)
		m, err := tlssecret.FromFiles(cp, kp)
		seedValidates(f, m, err)
	}
	// Reversed chain: CA first.
	var blocks [][]byte
	rest := p.ChainPEM
	for {
		var b *pem.Block
		b, rest = pem.Decode(rest)
		if b == nil {
			break
		}
		blocks = append([][]byte{pem.EncodeToMemory(b)}, blocks...)
	}
	f.Add(bytes.Join(blocks, nil), p.KeyPEM)
	// An "encrypted" key header and an ed25519 key.
	f.Add(p.ChainPEM, []byte("-----BEGIN ENCRYPTED PRIVATE KEY-----\nMIIBvTBXBgkqhkiG9w0BBQ0wSjApBgkqhkiG9w0BBQwwHAQI\n-----END ENCRYPTED PRIVATE KEY-----\n"))
	_, edKey, _ := ed25519.GenerateKey(rand.Reader)
	der, _ := x509.MarshalPKCS8PrivateKey(edKey)
	f.Add(p.ChainPEM, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}))
	f.Add([]byte("junk"), []byte("-----BEGIN PRIVATE KEY-----\n-----END PRIVATE KEY-----\n"))
	f.Fuzz(func(t *testing.T, cert, key []byte) {
		dir := t.TempDir()
		cp, kp := filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
		os.WriteFile(cp, cert, 0o600)
		os.WriteFile(kp, key, 0o600)
		m, err := tlssecret.FromFiles(cp, kp)
		if err != nil {
			noKeyIn(t, err, key)
			return
		}
		_, err = m.Validate("example.org", fuzzNow)
		noKeyIn(t, err, key)
		var ve *tlssecret.ValidationError
		if err != nil && !errors.As(err, &ve) {
			t.Fatalf("error of type %T: %v", err, err)
		}
		if s := m.String(); strings.Contains(s, "PRIVATE KEY") {
			t.Fatalf("Material prints its key: %q", s)
		}
	})
}

// Traefik's acme.json: anything gives an error or a certificate, never a
// panic, and no message quotes a key.
func FuzzTLSFromACME(f *testing.F) {
	p := tlstest.Valid(f, "example.org")
	dir := f.TempDir()
	good, _ := os.ReadFile(tlstest.ACMEJSON(f, dir, map[string][]tlstest.ACMECert{"le": {{Main: "*.example.org", Pair: p}}}))
	f.Add(good)
	{
		path := filepath.Join(dir, "seed.json")
		os.WriteFile(path, good, 0o600)
		m, err := tlssecret.FromACME(path, "example.org", "")
		seedValidates(f, m, err)
	}
	f.Add([]byte(`{"le":{"Certificates":[{"domain":{"main":"*.example.org"},"certificate":"bm90IHBlbQ==","key":"bm90IHBlbQ=="}]}}`))
	f.Add([]byte(`{"le":{"Certificates":null}}`))
	f.Add([]byte(`{"le":null,"other":{"Certificates":[{}]}}`))
	f.Add([]byte(`[]`))
	f.Fuzz(func(t *testing.T, data []byte) {
		path := filepath.Join(t.TempDir(), "acme.json")
		os.WriteFile(path, data, 0o600)
		m, err := tlssecret.FromACME(path, "example.org", "")
		if err != nil {
			if strings.Contains(err.Error(), "PRIVATE KEY") {
				t.Fatalf("message quotes a key: %v", err)
			}
			return
		}
		if _, err := m.Validate("example.org", fuzzNow); err != nil && strings.Contains(err.Error(), "PRIVATE KEY") {
			t.Fatalf("message quotes a key: %v", err)
		}
		if after, _ := os.ReadFile(path); string(after) != string(data) {
			t.Fatal("acme.json was changed")
		}
	})
}
