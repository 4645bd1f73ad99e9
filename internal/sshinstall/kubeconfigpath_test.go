package sshinstall

import (
	"os"
	"path/filepath"
	"testing"
)

// KubeconfigFile is the one reader of kubeconfig_path for check, cutover
// and the cluster stage: the value when it is a string, else variables.tf's
// default, "~/" expanded either way.
func TestKubeconfigFile(t *testing.T) {
	home, err := os.UserHomeDir()
	if err != nil {
		t.Skip("no home directory:", err)
	}
	dir := t.TempDir()
	p := filepath.Join(dir, "terraform.tfvars")
	def := filepath.Join(home, ".kube", "k3s-poc.yaml")
	for _, tc := range []struct{ src, want string }{
		{"", def}, // no file
		{"kubeconfig_path = \"/k/config\"\n", "/k/config"},
		{"kubeconfig_path = \"~/k3s.yaml\"\n", filepath.Join(home, "k3s.yaml")},
		{"kubeconfig_path = 1\n", def},
	} {
		if tc.src != "" {
			if err := os.WriteFile(p, []byte(tc.src), 0o600); err != nil {
				t.Fatal(err)
			}
		}
		if got := KubeconfigFile(p); got != tc.want {
			t.Errorf("%q: KubeconfigFile = %q, want %q", tc.src, got, tc.want)
		}
	}
}
