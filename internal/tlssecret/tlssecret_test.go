package tlssecret_test

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"migrate-tui/internal/testworld"
	"migrate-tui/internal/tlssecret"
	"migrate-tui/internal/tlssecret/tlstest"
)

var world *testworld.World

func TestMain(m *testing.M) {
	w, err := testworld.Start(context.Background(), testworld.Options{})
	if err != nil {
		fmt.Fprintln(os.Stderr, "tlssecret tests need the test world:", err)
		os.Exit(1)
	}
	world = w
	code := m.Run()
	w.Stop()
	os.Exit(code)
}

const domain = "brmartin.co.uk"

// noKey fails when any form of the key shows in s.
func noKey(t *testing.T, p tlstest.Pair, s string) {
	t.Helper()
	if body := tlstest.KeyBody(t, p.KeyPEM); strings.Contains(s, body) {
		t.Fatalf("the key's PEM body appears in %q", s)
	}
	if b64 := base64.StdEncoding.EncodeToString(p.KeyPEM)[:40]; strings.Contains(s, b64) {
		t.Fatalf("the key's base64 (as in acme.json) appears in %q", s)
	}
}

func TestPEMFilesCreateThenUnchangedThenUpdated(t *testing.T) {
	ctx := context.Background()
	ns := world.Namespace(t)
	p := tlstest.Valid(t, domain)
	cert, key := p.Files(t, t.TempDir())
	m, err := tlssecret.FromFiles(cert, key)
	if err != nil {
		t.Fatal(err)
	}
	rep, err := m.Validate(domain, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if rep.Info.Subject != "CN=*."+domain || rep.Info.Issuer != "CN=Test Homelab CA" || len(rep.Info.SANs) != 2 || len(rep.Info.SHA256) != 95 || len(rep.Warnings) != 0 {
		t.Fatalf("report = %+v", rep)
	}
	noKey(t, p, fmt.Sprintf("%v %+v %#v %s", m, m, m, m))

	target := tlssecret.Target{Domain: domain, Namespace: ns, Name: "wildcard-tls"}
	if err := tlssecret.Check(ctx, world.Client, target); err == nil {
		t.Fatal("Check passed before the Secret exists")
	}
	res, err := tlssecret.Apply(ctx, world.Client, target, m)
	if err != nil || res != tlssecret.Created {
		t.Fatalf("first apply = %q, %v; want created", res, err)
	}
	s, err := world.Client.CoreV1().Secrets(ns).Get(ctx, "wildcard-tls", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if s.Type != corev1.SecretTypeTLS || string(s.Data["tls.crt"]) != string(p.ChainPEM) || string(s.Data["tls.key"]) != string(p.KeyPEM) ||
		s.Labels["app.kubernetes.io/managed-by"] != "migrate-tui" || len(s.Data) != 2 {
		t.Fatalf("Secret: type %s, labels %v, %d keys; want kubernetes.io/tls with tls.crt and tls.key from the files", s.Type, s.Labels, len(s.Data))
	}
	if err := tlssecret.Check(ctx, world.Client, target); err != nil {
		t.Fatalf("Check after apply: %v", err)
	}
	if res, err := tlssecret.Apply(ctx, world.Client, target, m); err != nil || res != tlssecret.Unchanged {
		t.Fatalf("second apply = %q, %v; want unchanged", res, err)
	}

	// A renewed certificate replaces the old one.
	p2 := tlstest.Valid(t, domain)
	cert2, key2 := p2.Files(t, t.TempDir())
	m2, _ := tlssecret.FromFiles(cert2, key2)
	if res, err := tlssecret.Apply(ctx, world.Client, target, m2); err != nil || res != tlssecret.Updated {
		t.Fatalf("apply of a renewed certificate = %q, %v; want updated", res, err)
	}
	s, _ = world.Client.CoreV1().Secrets(ns).Get(ctx, "wildcard-tls", metav1.GetOptions{})
	if string(s.Data["tls.key"]) != string(p2.KeyPEM) {
		t.Fatal("the Secret still holds the old key after an update")
	}
}

func TestApplyCreatesTheIngressNamespace(t *testing.T) {
	ctx := context.Background()
	ns := fmt.Sprintf("tls-ns-%d", time.Now().UnixNano())
	t.Cleanup(func() { world.Client.CoreV1().Namespaces().Delete(context.Background(), ns, metav1.DeleteOptions{}) })
	p := tlstest.Valid(t, domain)
	cert, key := p.Files(t, t.TempDir())
	m, _ := tlssecret.FromFiles(cert, key)
	if res, err := tlssecret.Apply(ctx, world.Client, tlssecret.Target{Namespace: ns, Name: "wildcard-tls"}, m); err != nil || res != tlssecret.Created {
		t.Fatalf("apply into a missing namespace = %q, %v", res, err)
	}
}

func TestACMEJSONPicksTheWildcard(t *testing.T) {
	ctx := context.Background()
	ns := world.Namespace(t)
	want := tlstest.Valid(t, domain)
	other := tlstest.Valid(t, "example.org")
	single := tlstest.Leaf(t, []string{"nas." + domain}, time.Now().Add(-time.Hour), time.Now().Add(60*24*time.Hour))
	path := tlstest.ACMEJSON(t, t.TempDir(), map[string][]tlstest.ACMECert{
		"letsencrypt": {
			{Main: "nas." + domain, Pair: single},
			{Main: domain, SANs: []string{"*." + domain}, Pair: want},
		},
		"staging": {{Main: "*.example.org", SANs: []string{"example.org"}, Pair: other}},
	})
	m, err := tlssecret.FromACME(path, domain, "")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := m.Validate(domain, time.Now()); err != nil {
		t.Fatal(err)
	}
	if res, err := tlssecret.Apply(ctx, world.Client, tlssecret.Target{Namespace: ns, Name: "wildcard-tls"}, m); err != nil || res != tlssecret.Created {
		t.Fatalf("apply = %q, %v", res, err)
	}
	s, _ := world.Client.CoreV1().Secrets(ns).Get(ctx, "wildcard-tls", metav1.GetOptions{})
	if string(s.Data["tls.key"]) != string(want.KeyPEM) || string(s.Data["tls.crt"]) != string(want.ChainPEM) {
		t.Fatal("the Secret does not hold the wildcard certificate from acme.json")
	}

	// Asked for another resolver or domain, it says what acme.json covers.
	_, err = tlssecret.FromACME(path, domain, "staging")
	if err == nil || !strings.Contains(err.Error(), "cover *.example.org, example.org (resolver staging), not *."+domain) {
		t.Fatalf("resolver staging: %v", err)
	}
	_, err = tlssecret.FromACME(path, "example.net", "")
	if err == nil || !strings.Contains(err.Error(), "pass --resolver NAME or --cert FILE --key FILE") {
		t.Fatalf("a domain acme.json does not hold: %v", err)
	}
	if _, err := tlssecret.FromACME(path, domain, "prod"); err == nil || !strings.Contains(err.Error(), "letsencrypt, staging") {
		t.Fatalf("unknown resolver: %v", err)
	}
	for _, p := range []tlstest.Pair{want, other, single} {
		noKey(t, p, err.Error())
	}
}

func TestACMEJSONNotJSONNamesNoBytes(t *testing.T) {
	p := tlstest.Valid(t, domain)
	path := filepath.Join(t.TempDir(), "acme.json")
	broken := `{"le": {"Certificates": [{"key": "` + base64.StdEncoding.EncodeToString(p.KeyPEM) + "\x01" + `"}]}}`
	os.WriteFile(path, []byte(broken), 0o600)
	_, err := tlssecret.FromACME(path, domain, "")
	if err == nil || !strings.Contains(err.Error(), "is not a Traefik acme.json (invalid JSON at byte") {
		t.Fatalf("broken acme.json: %v", err)
	}
	noKey(t, p, err.Error())
}

func TestValidationRefuses(t *testing.T) {
	now := time.Now()
	good := tlstest.Valid(t, domain)
	cases := []struct {
		name string
		pair tlstest.Pair
		want string
	}{
		{"wrong domain", tlstest.Valid(t, "example.org"), "covers *.example.org, example.org, not *." + domain},
		{"mismatched key", tlstest.Pair{ChainPEM: good.ChainPEM, KeyPEM: tlstest.Valid(t, domain).KeyPEM}, "the key does not match the certificate CN=*." + domain},
		{"expired", tlstest.Leaf(t, []string{"*." + domain}, now.Add(-100*24*time.Hour), now.Add(-24*time.Hour)), "expired on " + now.Add(-24*time.Hour).UTC().Format(time.DateOnly)},
		{"not yet valid", tlstest.Leaf(t, []string{"*." + domain}, now.Add(24*time.Hour), now.Add(90*24*time.Hour)), "is not valid before"},
		{"key in the certificate file", tlstest.Pair{ChainPEM: append(append([]byte{}, good.ChainPEM...), good.KeyPEM...), KeyPEM: good.KeyPEM}, `holds a "EC PRIVATE KEY" PEM block`},
		{"certificate as the key", tlstest.Pair{ChainPEM: good.ChainPEM, KeyPEM: good.ChainPEM}, "is not a PEM private key"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			cert, key := c.pair.Files(t, t.TempDir())
			m, err := tlssecret.FromFiles(cert, key)
			if err != nil {
				t.Fatal(err)
			}
			_, err = m.Validate(domain, now)
			var ve *tlssecret.ValidationError
			if !errors.As(err, &ve) || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("Validate = %v, want a refusal containing %q", err, c.want)
			}
			noKey(t, c.pair, err.Error())
			noKey(t, good, err.Error())
		})
	}
}

func TestValidationWarns(t *testing.T) {
	now := time.Now()
	p := tlstest.Leaf(t, []string{"*." + domain}, now.Add(-80*24*time.Hour), now.Add(5*24*time.Hour))
	cert, key := p.Files(t, t.TempDir())
	m, _ := tlssecret.FromFiles(cert, key)
	rep, err := m.Validate(domain, now)
	if err != nil {
		t.Fatal(err)
	}
	w := strings.Join(rep.Warnings, "\n")
	if !strings.Contains(w, "does not cover the apex "+domain) || !strings.Contains(w, "in less than 14 days") || len(rep.Warnings) != 2 {
		t.Fatalf("warnings = %q", rep.Warnings)
	}
}

func TestCheckRefusesAWrongSecret(t *testing.T) {
	ctx := context.Background()
	ns := world.Namespace(t)
	target := tlssecret.Target{Namespace: ns, Name: "wildcard-tls"}
	err := tlssecret.Check(ctx, world.Client, target)
	var me *tlssecret.MissingError
	if !errors.As(err, &me) || !strings.Contains(err.Error(), "migrate-tui tls-secret") || !strings.Contains(err.Error(), ns+"/wildcard-tls") {
		t.Fatalf("Check without the Secret = %v", err)
	}
	opaque := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "wildcard-tls"}, Data: map[string][]byte{"x": []byte("y")}}
	if _, err := world.Client.CoreV1().Secrets(ns).Create(ctx, opaque, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := tlssecret.Check(ctx, world.Client, target); !errors.As(err, &me) || !strings.Contains(err.Error(), "has type Opaque") {
		t.Fatalf("Check with an Opaque Secret = %v", err)
	}
	p := tlstest.Valid(t, domain)
	cert, key := p.Files(t, t.TempDir())
	m, _ := tlssecret.FromFiles(cert, key)
	if _, err := tlssecret.Apply(ctx, world.Client, target, m); err == nil || !strings.Contains(err.Error(), "cannot change") {
		t.Fatalf("apply over an Opaque Secret = %v, want the type refusal", err)
	}
	if err := tlssecret.Check(ctx, world.Client, tlssecret.Target{Name: "wildcard-tls", IngressMode: "external-direct"}); err != nil {
		t.Fatalf("external-direct needs no Secret: %v", err)
	}
}

func TestTargetFromTfvars(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "terraform.tfvars")
	got, err := tlssecret.TargetFromTfvars(path)
	if err != nil || got.Domain != domain || got.Name != "wildcard-tls" || got.Namespace != "traefik" {
		t.Fatalf("defaults = %+v, %v", got, err)
	}
	os.WriteFile(path, []byte("domain = \"example.org\"\ntls_secret_name = \"star\"\ningress_mode = \"bundled-traefik\"\nkubeconfig_path = \"/k/config\"\n"), 0o644)
	got, err = tlssecret.TargetFromTfvars(path)
	if err != nil || got.Domain != "example.org" || got.Name != "star" || got.Namespace != "kube-system" {
		t.Fatalf("from tfvars = %+v, %v", got, err)
	}
	os.WriteFile(path, []byte("ingress_mode = \"external-direct\"\n"), 0o644)
	if got, _ := tlssecret.TargetFromTfvars(path); got.Needed() {
		t.Fatalf("external-direct: %+v needs a Secret", got)
	}
}
