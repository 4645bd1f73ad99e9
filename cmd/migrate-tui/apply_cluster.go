package main

import (
	"context"
	"errors"
	"fmt"

	"migrate-tui/internal/sshinstall"
	"migrate-tui/internal/stages"
	"migrate-tui/internal/status"
)

// applyClusterStage builds the cluster stage for `apply`; tests replace it.
var applyClusterStage = func(ctx context.Context, o *applyOptions) (*stages.Cluster, error) {
	return stages.ClusterForRepo(ctx, o.dir)
}

// clusterLine is a JSON line of the cluster stage before its result.
type clusterLine struct {
	Kind       string                   `json:"kind"` // "node_preflight" or "progress"
	Stage      string                   `json:"stage"`
	NodeChecks []sshinstall.CheckResult `json:"node_checks,omitempty"`
	Step       *sshinstall.Step         `json:"step,omitempty"`
}

// runCluster adopts the cluster of --kubeconfig, or installs K3s over SSH.
func (o *applyOptions) runCluster(ctx context.Context) error {
	c, err := o.newCluster(ctx, o)
	if err != nil {
		return o.finish(nil, nil, err)
	}
	if o.Kubeconfig != "" {
		checks, err := c.Adopt(ctx, o.Kubeconfig)
		o.showChecks(checks)
		return o.finish(nil, checks, err)
	}
	io := o.SSH.Install(
		func(s sshinstall.Step) {
			if o.JSON {
				o.emit(clusterLine{Kind: "progress", Stage: o.Stage, Step: &s})
				return
			}
			mark := "…"
			if s.Done {
				mark = status.Pass.Mark()
			}
			fmt.Fprintf(o.g.Out, "%s %s: %s\n", mark, s.Node, s.What)
		},
		func(results []sshinstall.CheckResult) error {
			o.showNodeChecks(results)
			if o.Yes {
				return nil
			}
			fmt.Fprintf(o.g.Out, "Install K3s on these nodes now? Nomad keeps running beside it. Only 'yes' is accepted: ")
			if o.answer() != "yes" {
				return stages.ErrNotConfirmed
			}
			return nil
		})
	results, err := c.Install(ctx, io)
	var pe *sshinstall.PreflightError
	if errors.As(err, &pe) {
		o.showNodeChecks(results) // Confirm was not reached: show why
	}
	if err == nil && !o.JSON {
		fmt.Fprintf(o.g.Out, "K3s is installed; kubeconfig_path is now in terraform.tfvars.\n")
	}
	return o.finish(nil, nil, err)
}

func (o *applyOptions) showChecks(checks []stages.CheckResult) {
	if o.JSON {
		return
	}
	for _, c := range checks {
		fmt.Fprintf(o.g.Out, "%s %s: %s\n", c.Status.Mark(), c.Title, c.Evidence)
		if c.Status != status.Pass && c.Hint != "" {
			fmt.Fprintf(o.g.Out, "    hint: %s\n", c.Hint)
		}
	}
}

func (o *applyOptions) showNodeChecks(results []sshinstall.CheckResult) {
	if o.JSON {
		o.emit(clusterLine{Kind: "node_preflight", Stage: o.Stage, NodeChecks: results})
		return
	}
	for _, r := range results {
		fmt.Fprintf(o.g.Out, "%s %s: %s: %s\n", r.Status.Mark(), r.Node, r.Title, r.Evidence)
	}
}
