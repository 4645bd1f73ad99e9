package stages

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/kubernetes/fake"

	"migrate-tui/internal/sshinstall"
	"migrate-tui/internal/status"
)

func fakeNode(name, arch string, ready bool) *corev1.Node {
	st := corev1.ConditionFalse
	if ready {
		st = corev1.ConditionTrue
	}
	return &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: name, Labels: map[string]string{corev1.LabelArchStable: arch}},
		Status: corev1.NodeStatus{Conditions: []corev1.NodeCondition{{Type: corev1.NodeReady, Status: st}}}}
}

type recorded []Result

func (r *recorded) RecordStage(res Result) error { *r = append(*r, res); return nil }

// A unit test of the adopt rules (the API itself is exercised end to end
// against the test world in internal/e2e).
func TestAdoptWarnsOnMismatchAndFailsOnNotReady(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "terraform.tfvars"), []byte("service_mesh = \"linkerd\"\n"), 0o644)
	kc := filepath.Join(dir, "kubeconfig")
	var rec recorded
	var regs []Regression
	c := &Cluster{RepoDir: dir, Record: &rec, Guard: GuardFunc(func(context.Context) ([]Regression, error) { return regs, nil })}
	nodes := []*corev1.Node{fakeNode("hestia", "amd64", true), fakeNode("heracles", "amd64", true), fakeNode("athena", "arm64", true)}
	c.NewClient = func(string) (kubernetes.Interface, string, error) {
		cs := fake.NewClientset()
		for _, n := range nodes {
			cs.CoreV1().Nodes().Create(context.Background(), n, metav1.CreateOptions{})
		}
		return cs, "https://127.0.0.1:6443", nil
	}
	checks, err := c.Adopt(context.Background(), kc)
	if err != nil {
		t.Fatal(err)
	}
	match := checks[len(checks)-1]
	for _, want := range []string{"heracles is amd64 in the cluster but arm64 in the nodes decision", "nyx is decided but not in the cluster", "athena is in the cluster but not in the nodes decision"} {
		if match.Status != status.Warn || !strings.Contains(match.Evidence, want) {
			t.Errorf("match check %+v lacks the warning %q", match, want)
		}
	}
	tfv, _ := os.ReadFile(filepath.Join(dir, "terraform.tfvars"))
	if !strings.Contains(string(tfv), "kubeconfig_path = \""+kc+"\"") || !strings.Contains(string(tfv), `service_mesh = "linkerd"`) {
		t.Fatalf("terraform.tfvars:\n%s", tfv)
	}
	if last := rec[len(rec)-1]; last.Outcome != Applied || last.Mode != ModeAdopt || last.ServiceMesh != "linkerd" {
		t.Fatalf("recorded %+v", last)
	}

	nodes = append(nodes, fakeNode("nyx", "arm64", false))
	var ve *VerifyError
	if _, err := c.Adopt(context.Background(), kc); !errors.As(err, &ve) || !strings.Contains(err.Error(), "1 of 4 nodes are not Ready: nyx") {
		t.Fatalf("with nyx not Ready: %v", err)
	}

	regs = []Regression{{Job: "whoami", What: "allocation failed"}}
	var re *RegressionError
	if _, err := c.Adopt(context.Background(), kc); !errors.As(err, &re) || rec[len(rec)-1].Outcome != NomadHurt {
		t.Fatalf("with a Nomad regression: %v", err)
	}
	called := false
	c.RunSSH = func(context.Context, sshinstall.ClusterOptions) ([]sshinstall.CheckResult, error) {
		called = true
		return nil, nil
	}
	if _, err := c.Install(context.Background(), InstallOptions{}); !errors.As(err, &re) || called {
		t.Fatalf("install with a Nomad regression: %v (ssh called %v)", err, called)
	}
}

// With service_mesh = cilium an adopted cluster must already run Cilium: the
// mesh stage no longer applies it (the install mode's K3s auto-deploy owns
// it). Without its DaemonSet the adoption warns and says what to do; with
// it, the check says so.
func TestAdoptWarnsWithoutCilium(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "terraform.tfvars"), []byte("service_mesh = \"cilium\"\n"), 0o644)
	none := GuardFunc(func(context.Context) ([]Regression, error) { return nil, nil })
	var objs []runtime.Object
	c := &Cluster{RepoDir: dir, Guard: none, NewClient: func(string) (kubernetes.Interface, string, error) {
		cs := fake.NewClientset(objs...)
		for _, n := range []string{"hestia", "heracles", "nyx"} {
			cs.CoreV1().Nodes().Create(context.Background(), fakeNode(n, "arm64", true), metav1.CreateOptions{})
		}
		return cs, "https://127.0.0.1:6443", nil
	}}
	find := func(rs []CheckResult) CheckResult {
		for _, r := range rs {
			if r.ID == "cluster/cni" {
				return r
			}
		}
		t.Fatalf("no cluster/cni check in %+v", rs)
		return CheckResult{}
	}
	rs, err := c.Adopt(context.Background(), filepath.Join(dir, "kubeconfig"))
	if err != nil {
		t.Fatal(err)
	}
	// A warning is Warn, said with its own mark, never a pass with
	// "warning:" in its text.
	if r := find(rs); r.Status != status.Warn || !strings.Contains(r.Evidence, "service_mesh = cilium but the cluster runs no DaemonSet kube-system/cilium") || strings.Contains(r.Evidence, "warning:") || r.Hint == "" {
		t.Fatalf("without Cilium: %+v", r)
	}
	objs = []runtime.Object{&appsv1.DaemonSet{ObjectMeta: metav1.ObjectMeta{Name: "cilium", Namespace: "kube-system"}}}
	rs, err = c.Adopt(context.Background(), filepath.Join(dir, "kubeconfig"))
	if err != nil {
		t.Fatal(err)
	}
	if r := find(rs); r.Status != status.Pass || strings.Contains(r.Evidence, "warning") {
		t.Fatalf("with Cilium: %+v", r)
	}
}
