package sshinstall

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"migrate-tui/internal/k3sconfig"
	"migrate-tui/internal/kubeconfigpath"
	"migrate-tui/internal/nomadrecord"
)

// ClusterOptions drive the whole cluster stage from the repository.
type ClusterOptions struct {
	RepoDir string
	Auth    Auth
	// InstallerURL overrides the K3s installer (tests, mirrors).
	InstallerURL string
	// Inventory is Nomad's node inventory from preflight (memory numbers).
	Inventory []nomadrecord.Node
	// ServerMemoryMB / AgentMemoryMB: what K3s needs left after Nomad
	// (defaults 1024 / 512, from the PoC's measured overhead with headroom).
	ServerMemoryMB, AgentMemoryMB int64
	Progress                      func(Step)
	// Uninstall removes K3s instead (the cluster stage's roll back).
	Uninstall bool
	// Confirm, when set, is asked after the preflight passed and before
	// anything is installed; an error stops the stage with nothing done.
	Confirm func(results []CheckResult) error
}

// PreflightError lists the checks that stopped the install.
type PreflightError struct{ Failed []CheckResult }

func (e *PreflightError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "preflight stopped the K3s install: %d check(s) failed; nothing was installed:", len(e.Failed))
	for _, f := range e.Failed {
		fmt.Fprintf(&b, "\n  %s %s: %s: %s", f.Status.Mark(), f.Node, f.Title, f.Evidence)
		if f.Hint != "" {
			fmt.Fprintf(&b, "\n    fix: %s", f.Hint)
		}
	}
	return b.String()
}

// RunCluster reads the cluster decisions from terraform.tfvars, renders every
// node's files, connects to all nodes (host keys checked), runs the
// preflight and, when nothing failed, installs K3s and writes the
// kubeconfig to kubeconfig_path. It returns the preflight results too.
func RunCluster(ctx context.Context, o ClusterOptions) ([]CheckResult, error) {
	path := filepath.Join(o.RepoDir, "terraform.tfvars")
	src, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w; make the decisions first", path, err)
	}
	d, err := k3sconfig.FromTFVars(src, path, o.InstallerURL)
	if err != nil {
		return nil, err
	}
	files, err := k3sconfig.Render(d)
	if err != nil {
		return nil, err
	}
	clients := map[string]*Client{}
	defer func() {
		for _, c := range clients {
			c.Close()
		}
	}()
	for _, n := range d.Nodes {
		c, err := Dial(ctx, n.Name, n.Address, o.Auth)
		if err != nil {
			return nil, err
		}
		clients[n.Name] = c
	}
	io := InstallOptions{Files: files, Clients: clients, InstallerURL: o.InstallerURL, Progress: o.Progress}
	if o.Uninstall {
		return nil, Uninstall(ctx, io)
	}
	e := &Env{Nodes: NodesFrom(d, o.Inventory), Clients: clients, ServerMemoryMB: o.ServerMemoryMB, AgentMemoryMB: o.AgentMemoryMB, Mesh: d.ServiceMesh}
	if e.ServerMemoryMB == 0 {
		e.ServerMemoryMB = 1024
	}
	if e.AgentMemoryMB == 0 {
		e.AgentMemoryMB = 512
	}
	results := Preflight(ctx, e)
	if failed := Failed(results); len(failed) > 0 {
		return results, &PreflightError{Failed: failed}
	}
	if o.Confirm != nil {
		if err := o.Confirm(results); err != nil {
			return results, err
		}
	}
	if io.KubeconfigPath, err = kubeconfigpath.OrDefault(path); err != nil {
		return results, err
	}
	return results, Install(ctx, io)
}
