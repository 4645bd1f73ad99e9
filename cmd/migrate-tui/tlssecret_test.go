package main

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"migrate-tui/internal/tlssecret/tlstest"
)

// runTLSSecret runs `migrate-tui tls-secret` in process; the creating path
// against a real API server is in internal/e2e and internal/tlssecret.
func runTLSSecret(t *testing.T, dir string, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	var out, errOut bytes.Buffer
	cmd := newRootCmd(strings.NewReader(""), &out, &errOut)
	cmd.SetArgs(append([]string{"--dir", dir, "tls-secret"}, args...))
	err := cmd.Execute()
	if err != nil {
		code = exitCode(err) // what main exits with
		errOut.WriteString(err.Error())
	}
	return out.String(), errOut.String(), code
}

func TestTLSSecretUsage(t *testing.T) {
	dir := t.TempDir()
	p := tlstest.Valid(t, "brmartin.co.uk")
	cert, key := p.Files(t, t.TempDir())
	os.WriteFile(filepath.Join(dir, "terraform.tfvars"), []byte("ingress_mode = \"external-direct\"\n"), 0o644)
	cases := []struct {
		args []string
		want string
	}{
		{nil, "no certificate given"},
		{[]string{"--cert", cert}, "--cert and --key go together"},
		{[]string{"--acme-json", "a.json", "--cert", cert, "--key", key}, "not both"},
		{[]string{"--cert", cert, "--key", key, "--resolver", "le"}, "--resolver only applies to --acme-json"},
		{[]string{"--cert", cert, "--key", key, "--kubeconfig", "/x"}, "ingress_mode is external-direct"},
	}
	for _, c := range cases {
		_, errOut, code := runTLSSecret(t, dir, c.args...)
		if code != exitUsage || !strings.Contains(errOut, c.want) {
			t.Errorf("tls-secret %v: exit %d, %q; want exit 2 saying %q", c.args, code, errOut, c.want)
		}
	}
}

// Refusals happen before any cluster is contacted (the kubeconfig here
// does not exist), and no output carries the key.
func TestTLSSecretRefusesAndNeverPrintsTheKey(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "terraform.tfvars"), []byte("domain = \"brmartin.co.uk\"\nkubeconfig_path = \"/nonexistent/kubeconfig\"\n"), 0o644)
	now := time.Now()
	other := tlstest.Valid(t, "example.org")
	good := tlstest.Valid(t, "brmartin.co.uk")
	expired := tlstest.Leaf(t, []string{"*.brmartin.co.uk"}, now.Add(-90*24*time.Hour), now.Add(-time.Hour))
	acme := tlstest.ACMEJSON(t, t.TempDir(), map[string][]tlstest.ACMECert{
		"letsencrypt": {{Main: "*.example.org", Pair: other}},
		"staging":     {{Main: "*.example.net", Pair: other}},
	})
	type run struct {
		name string
		args []string
		pair tlstest.Pair
		want string
	}
	files := func(p tlstest.Pair) (string, string) { return p.Files(t, t.TempDir()) }
	oc, ok := files(other)
	ec, ek := files(expired)
	gc, gk := files(good)
	runs := []run{
		{"wrong domain", []string{"--cert", oc, "--key", ok}, other, "covers *.example.org, example.org, not *.brmartin.co.uk"},
		{"acme.json for another domain", []string{"--acme-json", acme}, other, "not *.brmartin.co.uk: pass --resolver NAME or --cert FILE --key FILE"},
		{"mismatched key", []string{"--cert", gc, "--key", ok}, other, "the key does not match the certificate CN=*.brmartin.co.uk"},
		{"expired", []string{"--cert", ec, "--key", ek}, expired, "expired on"},
	}
	for _, r := range runs {
		t.Run(r.name, func(t *testing.T) {
			for _, asJSON := range []bool{false, true} {
				args := r.args
				if asJSON {
					args = append(args, "--json")
				}
				out, errOut, code := runTLSSecret(t, dir, args...)
				all := out + errOut
				if code != exitFailed || !strings.Contains(all, r.want) {
					t.Fatalf("json=%v: exit %d\n%s\nwant exit 1 saying %q", asJSON, code, all, r.want)
				}
				if asJSON {
					var rep tlsSecretReport
					if err := json.Unmarshal([]byte(out), &rep); err != nil || rep.ExitCode != 1 || rep.Error == "" {
						t.Fatalf("--json: %+v (%v)\n%s", rep, err, out)
					}
				}
				for _, p := range []tlstest.Pair{r.pair, good, other, expired} {
					if strings.Contains(all, tlstest.KeyBody(t, p.KeyPEM)) || strings.Contains(all, base64.StdEncoding.EncodeToString(p.KeyPEM)[:40]) {
						t.Fatalf("the key appears in the output:\n%s", all)
					}
				}
			}
		})
	}
	// A valid certificate gets as far as the cluster and names the kubeconfig.
	out, errOut, code := runTLSSecret(t, dir, "--cert", gc, "--key", gk)
	if code != exitFailed || !strings.Contains(errOut, "/nonexistent/kubeconfig") || !strings.Contains(out, "SHA-256:") {
		t.Fatalf("no cluster: exit %d\n%s%s", code, out, errOut)
	}
}
