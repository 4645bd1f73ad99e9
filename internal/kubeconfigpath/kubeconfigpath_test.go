package kubeconfigpath

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	"migrate-tui/internal/tfvars"
)

// File is the one reader of kubeconfig_path for the cluster
// stage, apply's verifiers, check and cutover: the value, else variables.tf's
// default, "~/" expanded either way.
func TestFileReadsKubeconfigPath(t *testing.T) {
	home, err := os.UserHomeDir()
	if err != nil {
		t.Skip("no home directory:", err)
	}
	dir := t.TempDir()
	p := filepath.Join(dir, "terraform.tfvars")
	def := filepath.Join(home, ".kube", "k3s-poc.yaml")
	for _, tc := range []struct{ src, want string }{
		{"", def}, // no file
		{"domain = \"example.test\"\n", def},
		{"kubeconfig_path = \"/k/config\"\n", "/k/config"},
		{"kubeconfig_path = \"~/k3s.yaml\"\n", filepath.Join(home, "k3s.yaml")},
	} {
		if tc.src != "" {
			if err := os.WriteFile(p, []byte(tc.src), 0o600); err != nil {
				t.Fatal(err)
			}
		}
		if got, err := File(p); err != nil || got != tc.want {
			t.Errorf("%q: File = %q, %v; want %q", tc.src, got, err, tc.want)
		}
	}
}

// kubeconfig_path = 1 in terraform.tfvars panicked once (AsString without a
// type check); it is a *tfvars.TypeError naming the key, never the default
// in silence (the kubeconfig would be written to, or read from, the wrong
// file).
func TestKubeconfigPathWrongType(t *testing.T) {
	p := filepath.Join(t.TempDir(), "terraform.tfvars")
	for _, src := range []string{"kubeconfig_path = 1\n", "kubeconfig_path = false\n", "kubeconfig_path = [\"/a\"]\n"} {
		if err := os.WriteFile(p, []byte(src), 0o600); err != nil {
			t.Fatal(err)
		}
		_, err := File(p)
		var te *tfvars.TypeError
		if !errors.As(err, &te) || te.Key != "kubeconfig_path" {
			t.Errorf("%q: %v", src, err)
		}
	}
}
