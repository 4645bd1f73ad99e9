package checks_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"migrate-tui/internal/checks"
)

// ForRepo is what check, the wizard's verify screen, cutover's gate and the
// stages' criteria build their dependencies with: the cluster by
// connect.KubeconfigPrecedence, KWOK seen on the nodes, Nomad only when an
// address is known, Terraform only beside a main.tf.
func TestForRepo(t *testing.T) {
	ctx := context.Background()
	t.Setenv("NOMAD_ADDR", "")
	t.Setenv(checks.IngressAddrEnv, "127.0.0.1:8443")

	// kubeconfig_path wins over $KUBECONFIG.
	repo := t.TempDir()
	os.WriteFile(filepath.Join(repo, "terraform.tfvars"), []byte("kubeconfig_path = \""+world.Kubeconfig+"\"\n"), 0o600)
	t.Setenv("KUBECONFIG", filepath.Join(repo, "not-this-one"))
	d, notes, err := checks.ForRepo(ctx, repo, checks.RepoOptions{Timeout: time.Minute})
	if err != nil {
		t.Fatalf("ForRepo: %v (notes %v)", err, notes)
	}
	if _, err := d.Kube.CoreV1().Namespaces().List(ctx, metav1.ListOptions{Limit: 1}); err != nil {
		t.Fatalf("the cluster from kubeconfig_path does not answer: %v", err)
	}
	nodes, err := world.Client.CoreV1().Nodes().List(ctx, metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if checks.IsSimulated(nodes.Items) && (d.Exec != nil || !d.TLS.SimulatedBackends) {
		t.Errorf("KWOK's nodes: Exec = %v, SimulatedBackends = %v; want no exec and simulated backends", d.Exec, d.TLS.SimulatedBackends)
	}
	if d.TLS.DialAddr != "127.0.0.1:8443" || d.TLS.Roots != nil {
		t.Errorf("TLS = %+v; want the sandbox's ingress address and the system roots (nil)", d.TLS)
	}
	if d.Nomad != nil || d.Terraform != nil || len(notes) != 0 {
		t.Errorf("no Nomad address and no main.tf: Nomad %v, Terraform %v, notes %v", d.Nomad, d.Terraform, notes)
	}

	// A Nomad address without a preflight baseline: Nomad is there for
	// SC-002/SC-010, SC-005 says why it cannot compare.
	t.Setenv("NOMAD_ADDR", "http://127.0.0.1:1")
	d, notes, err = checks.ForRepo(ctx, repo, checks.RepoOptions{Timeout: time.Minute, NoCluster: true})
	if err != nil {
		t.Fatal(err)
	}
	if d.Kube != nil || d.Nomad == nil || d.NomadHealth != nil || len(notes) != 1 || !strings.HasPrefix(notes[0], "SC-005: ") {
		t.Errorf("NoCluster with a Nomad address: Kube %v, Nomad %v, NomadHealth %v, notes %v", d.Kube, d.Nomad, d.NomadHealth, notes)
	}

	// No terraform.tfvars: $KUBECONFIG is next, and the note says the
	// defaults are used.
	bare := t.TempDir()
	t.Setenv("KUBECONFIG", world.Kubeconfig)
	t.Setenv("NOMAD_ADDR", "")
	d, notes, err = checks.ForRepo(ctx, bare, checks.RepoOptions{Timeout: time.Minute})
	if err != nil || d.Kube == nil || len(notes) != 1 || !strings.Contains(notes[0], "no terraform.tfvars") {
		t.Errorf("bare repository: %v, notes %v", err, notes)
	}

	// A missing kubeconfig stops it and names the file and where it came from.
	t.Setenv("KUBECONFIG", "")
	_, _, err = checks.ForRepo(ctx, bare, checks.RepoOptions{Kubeconfig: filepath.Join(bare, "missing"), Timeout: time.Minute})
	if err == nil || !strings.Contains(err.Error(), filepath.Join(bare, "missing")) || !strings.Contains(err.Error(), "--kubeconfig") {
		t.Errorf("missing kubeconfig: %v", err)
	}
}
