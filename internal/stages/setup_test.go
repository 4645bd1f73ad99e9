package stages

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	"migrate-tui/internal/tfvars"
)

// kubeconfig_path = 1 in terraform.tfvars panicked here (AsString without a
// type check); it is a *tfvars.TypeError now.
func TestKubeconfigPathWrongType(t *testing.T) {
	p := filepath.Join(t.TempDir(), "terraform.tfvars")
	for _, src := range []string{"kubeconfig_path = 1\n", "kubeconfig_path = false\n", "kubeconfig_path = [\"/a\"]\n"} {
		if err := os.WriteFile(p, []byte(src), 0o600); err != nil {
			t.Fatal(err)
		}
		_, err := kubeconfigPath(p)
		var te *tfvars.TypeError
		if !errors.As(err, &te) || te.Key != "kubeconfig_path" {
			t.Errorf("%q: %v", src, err)
		}
	}
	os.WriteFile(p, []byte("kubeconfig_path = \"/k/config\"\n"), 0o600)
	if got, err := kubeconfigPath(p); err != nil || got != "/k/config" {
		t.Errorf("string: %q %v", got, err)
	}
}
