package main

import (
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/spf13/cobra"

	"migrate-tui/internal/connect"
	"migrate-tui/internal/tlssecret/tlstest"
	"migrate-tui/internal/tui"
)

// Every command that takes --kubeconfig or --nomad-addr says the one
// precedence (internal/connect) in its help. apply's --kubeconfig is not a
// connection flag: it names the cluster the cluster stage adopts.
func TestConnectionFlagsSayThePrecedence(t *testing.T) {
	root := newRootCmd(strings.NewReader(""), io.Discard, io.Discard)
	var kube, nomad []string
	var walk func(c *cobra.Command)
	walk = func(c *cobra.Command) {
		if f := c.Flags().Lookup("kubeconfig"); f != nil && c.Name() != "apply" {
			kube = append(kube, c.Name())
			if f.Usage != connect.KubeconfigHelp {
				t.Errorf("%s --kubeconfig says %q, not connect.KubeconfigHelp", c.Name(), f.Usage)
			}
		}
		if f := c.Flags().Lookup("nomad-addr"); f != nil {
			nomad = append(nomad, c.Name())
			if f.Usage != connect.NomadAddrHelp {
				t.Errorf("%s --nomad-addr says %q, not connect.NomadAddrHelp", c.Name(), f.Usage)
			}
		}
		for _, sub := range c.Commands() {
			walk(sub)
		}
	}
	walk(root)
	for _, want := range []string{"check", "cutover", "tls-secret"} {
		if !slices.Contains(kube, want) {
			t.Errorf("%s takes no --kubeconfig (found it on %v)", want, kube)
		}
	}
	for _, want := range []string{"check", "cutover", "scaffold"} {
		if !slices.Contains(nomad, want) {
			t.Errorf("%s takes no --nomad-addr (found it on %v)", want, nomad)
		}
	}
}

// One resolver, seen from outside: with kubeconfig_path in terraform.tfvars
// and another file in $KUBECONFIG, check, cutover, tls-secret and the
// wizard's verify screen all go for kubeconfig_path's file (neither exists,
// so each says which it looked for).
func TestEveryCommandResolvesTheSameKubeconfig(t *testing.T) {
	repo := t.TempDir()
	fromTfvars := filepath.Join(repo, "kubeconfig-from-tfvars")
	fromEnv := filepath.Join(repo, "kubeconfig-from-env")
	if err := os.WriteFile(filepath.Join(repo, "terraform.tfvars"),
		[]byte("domain = \"brmartin.co.uk\"\nkubeconfig_path = \""+fromTfvars+"\"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("KUBECONFIG", fromEnv)
	cert, key := tlstest.Valid(t, "brmartin.co.uk").Files(t, t.TempDir())
	for _, args := range [][]string{
		{"check"},
		{"cutover", "--service", "whoami"},
		{"tls-secret", "--cert", cert, "--key", key},
	} {
		_, errOut, code := runCmd(t, "", append([]string{"--dir", repo}, args...)...)
		if code == 0 || !strings.Contains(errOut, fromTfvars) || strings.Contains(errOut, fromEnv) {
			t.Errorf("%s: exit %d, want an error naming %s (not $KUBECONFIG's file):\n%s", args[0], code, fromTfvars, errOut)
		}
	}
	c := tui.NewCommon(tui.Options{RepoDir: repo})
	m := verifyScreen(c, *c.Plan.Get("verify.criteria"))
	m, _ = m.Update(m.Init()())
	if v := m.View(); !strings.Contains(v, "kubeconfig-from-tfvars") || strings.Contains(v, "kubeconfig-from-env") {
		t.Errorf("verify screen looked elsewhere:\n%s", v)
	}
}
