package stages

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/zclconf/go-cty/cty"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"migrate-tui/internal/connect"
	"migrate-tui/internal/decisions"
	"migrate-tui/internal/decisions/decide"
	"migrate-tui/internal/faultpoint"
	"migrate-tui/internal/kubeconfigpath"
	"migrate-tui/internal/sshinstall"
	"migrate-tui/internal/state"
	"migrate-tui/internal/status"
	"migrate-tui/internal/tfvars"
)

// ClusterStage is the K3s cluster: installed over SSH (internal/sshinstall)
// or adopted from a kubeconfig; either way outside Terraform, with the Nomad
// guard before and after.
var ClusterStage = Stage{Name: "cluster", Title: "Cluster (K3s)", Blurb: "K3s on the nodes over SSH, or an existing cluster adopted"}

// KubeconfigKey is the variables.tf key the cluster stage owns.
const KubeconfigKey = "kubeconfig_path"

// Cluster modes.
const (
	ModeInstall = "install"
	ModeAdopt   = "adopt"
)

// Cluster runs the cluster stage for a repository.
type Cluster struct {
	RepoDir string
	Guard   Guard
	Record  Recorder // optional
	// RunSSH runs the SSH install (default sshinstall.RunCluster).
	RunSSH func(ctx context.Context, o sshinstall.ClusterOptions) ([]sshinstall.CheckResult, error)
	// NewClient builds the cluster client from a kubeconfig (default: client-go).
	NewClient func(kubeconfig string) (kubernetes.Interface, string, error)
}

// ClusterForRepo wires the cluster stage with the Nomad guard from the
// state's preflight baseline and the state recorder.
func ClusterForRepo(ctx context.Context, dir string) (*Cluster, error) {
	guard, err := nomadGuard(ctx, dir)
	if err != nil {
		return nil, err
	}
	return &Cluster{RepoDir: dir, Guard: guard, Record: StateRecorder{RepoDir: dir}}, nil
}

func (c *Cluster) tfvarsPath() string { return filepath.Join(c.RepoDir, tfvars.FileName) }

func (c *Cluster) record(res Result) error {
	if c.Record == nil {
		return nil
	}
	if res.At.IsZero() {
		res.At = time.Now()
	}
	return c.Record.RecordStage(res)
}

func (c *Cluster) guard(ctx context.Context, when string) error {
	r := &Runner{Guard: c.Guard}
	err := r.guard(ctx, when, ClusterStage.Name)
	var re *RegressionError
	if errors.As(err, &re) {
		_ = c.record(Result{Stage: ClusterStage.Name, Outcome: NomadHurt, Regressions: re.Regressions, Reason: when + " the stage"})
	}
	return err
}

// decided returns the cluster decisions from terraform.tfvars (defaults for
// keys not there).
func (c *Cluster) decided() (nodes []decisions.Node, mesh string, err error) {
	found, _, err := decide.FromTfvars(c.tfvarsPath())
	if err != nil {
		return nil, "", err
	}
	nodes, _ = decisions.Get("nodes").Default.([]decisions.Node)
	if v, ok := found["nodes"].([]decisions.Node); ok {
		nodes = v
	}
	mesh, _ = decisions.Get("service_mesh").Default.(string)
	if v, ok := found["service_mesh"].(string); ok {
		mesh = v
	}
	return nodes, mesh, nil
}

// writeKubeconfigPath sets kubeconfig_path in terraform.tfvars, the key this
// stage owns; every other line stays as it was.
func (c *Cluster) writeKubeconfigPath(p string) error {
	return tfvars.Update(c.tfvarsPath(), map[string]cty.Value{KubeconfigKey: cty.StringVal(p)}, []string{KubeconfigKey})
}

// finish writes kubeconfig_path, runs the guard after and records the
// stage done with its evidence.
func (c *Cluster) finish(ctx context.Context, res Result, kubeconfig string) error {
	if err := c.writeKubeconfigPath(kubeconfig); err != nil {
		res.Outcome, res.Reason = Failed, err.Error()
		_ = c.record(res)
		return fmt.Errorf("the cluster is ready but %s could not be written to %s: %w", KubeconfigKey, c.tfvarsPath(), err)
	}
	faultpoint.Hit(faultpoint.ClusterAdoptAfterTFVars)
	if err := c.guard(ctx, "after"); err != nil {
		return err
	}
	res.Outcome = Applied
	return c.record(res)
}

// Adopt makes an existing cluster (the sandbox's, or a K3s the operator
// already runs) the migration's cluster: the API must answer and every node
// be Ready; node names and architectures are compared with the nodes
// decision (a mismatch is a warning that says which). Nothing is installed.
func (c *Cluster) Adopt(ctx context.Context, kubeconfig string) ([]CheckResult, error) {
	if kubeconfig == "" {
		return nil, errors.New("adopting a cluster needs its kubeconfig: pass --kubeconfig PATH (the sandbox prints KUBECONFIG)")
	}
	abs, err := filepath.Abs(kubeconfigpath.Expand(kubeconfig))
	if err != nil {
		return nil, err
	}
	if err := c.guard(ctx, "before"); err != nil {
		return nil, err
	}
	nodes, mesh, err := c.decided()
	if err != nil {
		return nil, err
	}
	res := Result{Stage: ClusterStage.Name, Mode: ModeAdopt, Kubeconfig: abs, ServiceMesh: mesh}
	results := c.adoptChecks(ctx, abs, nodes, mesh)
	res.Checks = results
	var failed []CheckResult
	for _, r := range results {
		if r.Failed() {
			failed = append(failed, r)
		}
	}
	if len(failed) > 0 {
		res.Outcome = VerifyFail
		_ = c.record(res)
		return results, &VerifyError{Stage: ClusterStage.Name, Failed: failed}
	}
	return results, c.finish(ctx, res, abs)
}

func (c *Cluster) client(kubeconfig string) (kubernetes.Interface, string, error) {
	if c.NewClient != nil {
		return c.NewClient(kubeconfig)
	}
	// The cluster to adopt is named outright (not resolved): read it the
	// one way every command reads a kubeconfig.
	cfg, err := connect.Kubeconfig{Path: kubeconfig, Source: connect.Named}.RESTConfig(0)
	if err != nil {
		return nil, "", err
	}
	k, err := kubernetes.NewForConfig(cfg)
	return k, cfg.Host, err
}

func (c *Cluster) adoptChecks(ctx context.Context, kubeconfig string, decided []decisions.Node, mesh string) []CheckResult {
	api := CheckResult{ID: "cluster/api", Title: "Kubernetes API", Status: status.Fail}
	kube, host, err := c.client(kubeconfig)
	if err != nil {
		api.Evidence = err.Error()
		api.Hint = "pass the kubeconfig of a running cluster (the sandbox prints KUBECONFIG; K3s writes /etc/rancher/k3s/k3s.yaml on a server)"
		return []CheckResult{api}
	}
	v, err := kube.Discovery().ServerVersion()
	if err != nil {
		api.Evidence = fmt.Sprintf("the API server at %s (from %s) did not answer: %v", host, kubeconfig, err)
		api.Hint = "start the cluster (migrate-tui sandbox up, or systemctl start k3s on a server) and check the address and credentials in the kubeconfig"
		return []CheckResult{api}
	}
	api.Status = status.Pass
	api.Evidence = fmt.Sprintf("the API server at %s answers (Kubernetes %s)", host, v.GitVersion)
	out := []CheckResult{api}

	list, err := kube.CoreV1().Nodes().List(ctx, metav1.ListOptions{})
	ready := CheckResult{ID: "cluster/nodes-ready", Title: "Nodes Ready", Status: status.Fail}
	if err != nil {
		ready.Evidence = fmt.Sprintf("listing the nodes: %v", err)
		ready.Hint = "the kubeconfig's user must be allowed to list nodes (cluster-admin, as K3s's k3s.yaml is)"
		return append(out, ready)
	}
	if len(list.Items) == 0 {
		ready.Evidence = "the cluster has no nodes"
		ready.Hint = "join the nodes (or start the sandbox with its KWOK nodes) and adopt again"
		return append(out, ready)
	}
	var names, notReady []string
	for _, n := range list.Items {
		names = append(names, n.Name)
		if !nodeReady(n) {
			notReady = append(notReady, n.Name)
		}
	}
	sort.Strings(names)
	if len(notReady) > 0 {
		sort.Strings(notReady)
		ready.Evidence = fmt.Sprintf("%d of %d nodes are not Ready: %s", len(notReady), len(names), strings.Join(notReady, ", "))
		ready.Hint = "kubectl describe node " + notReady[0] + "; adopt again once every node is Ready"
	} else {
		ready.Status = status.Pass
		ready.Evidence = fmt.Sprintf("%d nodes Ready: %s", len(names), strings.Join(names, ", "))
	}
	out = append(out, ready)
	if mesh == "cilium" {
		out = append(out, ciliumPresent(ctx, kube))
	}
	return append(out, matchNodes(list.Items, decided))
}

// ciliumPresent: with service_mesh = cilium the install mode brings Cilium
// up with K3s (a HelmChart in the first server's auto-deploy directory) and
// the mesh stage does not apply it, so an adopted cluster must already run
// it. Its absence is a warning that says so, not a failure.
func ciliumPresent(ctx context.Context, kube kubernetes.Interface) CheckResult {
	cr := CheckResult{ID: "cluster/cni", Title: "Cilium, the CNI", Status: status.Pass}
	_, err := kube.AppsV1().DaemonSets("kube-system").Get(ctx, "cilium", metav1.GetOptions{})
	switch {
	case err == nil:
		cr.Evidence = "DaemonSet kube-system/cilium is there"
	case apierrors.IsNotFound(err):
		cr.Status = status.Warn
		cr.Evidence = "service_mesh = cilium but the cluster runs no DaemonSet kube-system/cilium; the mesh stage does not install Cilium (the install mode brings it up with K3s)"
		cr.Hint = "install Cilium on the adopted cluster (K3s with flannel-backend none and disable-kube-proxy), install K3s with migrate-tui instead, or choose another service_mesh"
	default:
		cr.Status = status.Unobservable
		cr.Evidence = fmt.Sprintf("could not read DaemonSet kube-system/cilium: %v", err)
	}
	return cr
}

func nodeReady(n corev1.Node) bool {
	for _, c := range n.Status.Conditions {
		if c.Type == corev1.NodeReady {
			return c.Status == corev1.ConditionTrue
		}
	}
	return false
}

// matchNodes compares the cluster's nodes with the nodes decision; any
// difference is a warning naming the nodes, never a failure (an adopted
// cluster may be named differently from Nomad's nodes).
func matchNodes(items []corev1.Node, decided []decisions.Node) CheckResult {
	cr := CheckResult{ID: "cluster/nodes-match", Title: "Nodes match the nodes decision", Status: status.Pass}
	arch := map[string]string{}
	for _, n := range items {
		arch[strings.ToLower(n.Name)] = n.Labels[corev1.LabelArchStable]
	}
	var problems []string
	want := map[string]bool{}
	for _, d := range decided {
		name := strings.ToLower(d.Name)
		want[name] = true
		got, ok := arch[name]
		switch {
		case !ok:
			problems = append(problems, fmt.Sprintf("%s is decided but not in the cluster", d.Name))
		case got != "" && d.Arch != "" && got != d.Arch:
			problems = append(problems, fmt.Sprintf("%s is %s in the cluster but %s in the nodes decision", d.Name, got, d.Arch))
		}
	}
	var extra []string
	for name := range arch {
		if !want[name] {
			extra = append(extra, name)
		}
	}
	slices.Sort(extra)
	for _, n := range extra {
		problems = append(problems, fmt.Sprintf("%s is in the cluster but not in the nodes decision", n))
	}
	if len(problems) == 0 {
		var names []string
		for _, d := range decided {
			names = append(names, d.Name+" "+d.Arch)
		}
		cr.Evidence = "names and architectures as decided: " + strings.Join(names, ", ")
		return cr
	}
	cr.Status = status.Warn
	cr.Evidence = strings.Join(problems, "; ")
	cr.Hint = "fix the nodes decision (migrate-tui decide --set nodes=...) if the cluster is right; node-specific checks use those names"
	return cr
}

// InstallOptions are what the SSH install needs beyond the repository.
type InstallOptions struct {
	Auth         sshinstall.Auth
	InstallerURL string
	Progress     func(sshinstall.Step)
	// Confirm is asked after the SSH preflight passed, before installing;
	// an error stops the stage with nothing installed.
	Confirm func(results []sshinstall.CheckResult) error
}

// Install installs K3s on the decided nodes over SSH (preflight first,
// then Confirm), writes the fetched kubeconfig to kubeconfig_path and that
// path to terraform.tfvars.
func (c *Cluster) Install(ctx context.Context, o InstallOptions) ([]sshinstall.CheckResult, error) {
	if err := c.guard(ctx, "before"); err != nil {
		return nil, err
	}
	_, mesh, err := c.decided()
	if err != nil {
		return nil, err
	}
	st, err := state.Load(c.RepoDir)
	if err != nil {
		return nil, err
	}
	co := sshinstall.ClusterOptions{RepoDir: c.RepoDir, Auth: o.Auth, InstallerURL: o.InstallerURL,
		Progress: o.Progress, Confirm: o.Confirm}
	if st != nil && st.Preflight != nil {
		co.Inventory = st.Preflight.Inventory
	}
	install := c.RunSSH
	if install == nil {
		install = sshinstall.RunCluster
	}
	results, err := install(ctx, co)
	res := Result{Stage: ClusterStage.Name, Mode: ModeInstall, ServiceMesh: mesh}
	for _, r := range results {
		res.Checks = append(res.Checks, CheckResult{ID: r.Node + "/" + r.ID, Title: r.Node + ": " + r.Title,
			Status: r.Status, Evidence: r.Evidence, Hint: r.Hint})
	}
	if err != nil {
		var pe *sshinstall.PreflightError
		switch {
		case errors.As(err, &pe):
			res.Outcome, res.Reason = Refused, err.Error()
		case errors.Is(err, ErrNotConfirmed):
			res.Outcome, res.Reason = Refused, err.Error()
		case errors.Is(err, context.Canceled):
			res.Outcome, res.Reason = Interrupted, "interrupted during the install; run the stage again (the install is idempotent)"
		default:
			res.Outcome, res.Reason = Failed, err.Error()
		}
		_ = c.record(res)
		return results, err
	}
	kc, err := kubeconfigpath.File(c.tfvarsPath())
	if err != nil { // the install read the same file a moment ago
		return results, err
	}
	res.Kubeconfig = kc
	return results, c.finish(ctx, res, kc)
}

// ErrNotConfirmed is what a Confirm returns when the operator said no.
var ErrNotConfirmed = errors.New("not confirmed: nothing was installed")
