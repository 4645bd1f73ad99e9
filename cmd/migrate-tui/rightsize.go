package main

import (
	"context"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"migrate-tui/internal/checks"
	"migrate-tui/internal/connect"
	"migrate-tui/internal/rightsize"
	"migrate-tui/internal/state"
)

// rightsizeOptions are `migrate-tui rightsize`'s flags.
type rightsizeOptions struct {
	g          *globalOptions
	JSON       bool
	CoreMHz    int
	Kubeconfig string
	NomadAddr  string
	Timeout    time.Duration
	services   []string
}

func newRightsizeCmd(g *globalOptions) *cobra.Command {
	o := &rightsizeOptions{g: g}
	cmd := &cobra.Command{
		Use:   "rightsize [SERVICE...]",
		Short: "Set each service's VPA target beside its Nomad job's cpu/memory, with the saving and a jobspec diff",
		Long: `rightsize reads each service's VPA recommendation (the VPA objects in the
PoC namespace, as check SC-002 does) and the Nomad job's task resources, and
prints the target in Nomad's units, the saving, and for a service still on
Nomad the change to its jobspec's resources block as a unified diff.
One core (1000m) is the slowest Nomad node's per-core MHz unless --core-mhz
says otherwise. Without SERVICE: the PoC services, the services a cutover
moved and every workload a VPA targets. Nothing is changed.`,
		RunE: func(cmd *cobra.Command, args []string) error {
			o.services = args
			ctx := cmd.Context()
			if ctx == nil {
				ctx = context.Background()
			}
			return o.Run(ctx)
		},
	}
	cmd.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return usage(err) })
	f := cmd.Flags()
	f.BoolVar(&o.JSON, "json", false, "print one JSON object: {core_mhz, services:[...], total_saving}")
	f.IntVar(&o.CoreMHz, "core-mhz", 0, "Nomad MHz of one core (1000m); default: the slowest Nomad node's per-core clock")
	f.StringVar(&o.Kubeconfig, "kubeconfig", "", connect.KubeconfigHelp)
	f.StringVar(&o.NomadAddr, "nomad-addr", "", connect.NomadAddrHelp)
	f.DurationVar(&o.Timeout, "timeout", 60*time.Second, "bound on the cluster and Nomad requests")
	return cmd
}

// Run builds the cluster and Nomad connections as `check` does and prints
// the report; only main exits.
func (o *rightsizeOptions) Run(ctx context.Context) error {
	if o.CoreMHz < 0 {
		return usage(fmt.Errorf("--core-mhz must be positive, got %d", o.CoreMHz))
	}
	if o.Timeout <= 0 {
		return usage(fmt.Errorf("--timeout must be positive, got %s", o.Timeout))
	}
	repo, err := o.g.RepoDir()
	if err != nil {
		return usage(err)
	}
	// The same dependencies as check's.
	d, _, err := checks.ForRepo(ctx, repo, checks.RepoOptions{Kubeconfig: o.Kubeconfig, NomadAddr: o.NomadAddr, Timeout: o.Timeout})
	if err != nil {
		return usage(err)
	}
	ctx, cancel := context.WithTimeout(ctx, o.Timeout)
	defer cancel()
	st, err := state.Load(repo)
	if err != nil {
		return err
	}
	if d.Nomad == nil && !o.JSON {
		fmt.Fprintln(o.g.Err, "Nomad is not configured (NOMAD_ADDR or preflight): nothing to compare the VPA targets with")
	}
	r, err := rightsize.FromDeps(ctx, d, st, o.services, rightsize.Options{CoreMHz: o.CoreMHz, CoreMHzSource: coreSource(o.CoreMHz)})
	if err != nil {
		return err
	}
	if o.JSON {
		return rightsize.WriteJSON(o.g.Out, r)
	}
	return rightsize.WriteText(o.g.Out, r)
}

func coreSource(mhz int) string {
	if mhz > 0 {
		return "--core-mhz"
	}
	return ""
}
