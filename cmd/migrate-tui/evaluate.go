package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"migrate-tui/internal/checks"
	"migrate-tui/internal/connect"
	"migrate-tui/internal/evaluate"
	"migrate-tui/internal/rightsize"
)

// evaluateOptions are `migrate-tui evaluate`'s flags.
type evaluateOptions struct {
	g           *globalOptions
	JSON        bool
	Timeout     time.Duration
	Concurrency int
	Kubeconfig  string
	NomadAddr   string
	CAFile      string
	DialAddr    string
	CoreMHz     int
}

func newEvaluateCmd(g *globalOptions) *cobra.Command {
	o := &evaluateOptions{g: g}
	cmd := &cobra.Command{
		Use:   "evaluate",
		Short: "Gather the go/no-go evidence, propose GO or NO-GO and keep decision.md's evidence current",
		Long: `evaluate runs every success criterion (as check does), measures each node's
overhead of K3s and its platform beside Nomad's (SC-010), lists the services
a cutover moved and every service's VPA saving (as rightsize does), and
proposes GO or NO-GO: any criterion that fails proposes NO-GO; warnings,
skips and criteria that cannot be observed here are listed, never counted
as passes. The decision is yours.

It writes specs/003-nomad-to-kubernetes/decision.md: the whole draft when
there is none, otherwise only the section between its migrate-tui:evidence
markers, never a byte you wrote. A record without that section is left alone
(a draft goes to decision.draft.md beside it). Exits 1 when the proposal is
NO-GO.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			if ctx == nil {
				ctx = context.Background()
			}
			return o.Run(ctx)
		},
	}
	cmd.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return usage(err) })
	f := cmd.Flags()
	f.BoolVar(&o.JSON, "json", false, `print one JSON object: {"proposal":..., "checks":[...], "overhead":[...], "moved":[...], "rightsize":..., "decision":...}`)
	f.DurationVar(&o.Timeout, "timeout", 60*time.Second, "per-check timeout; a check without an answer by then fails as unreachable")
	f.IntVar(&o.Concurrency, "concurrency", 4, "checks run at once")
	f.StringVar(&o.Kubeconfig, "kubeconfig", "", connect.KubeconfigHelp)
	f.StringVar(&o.NomadAddr, "nomad-addr", "", connect.NomadAddrHelp)
	f.StringVar(&o.CAFile, "ca-file", "", "PEM CA bundle that ingress certificates must chain to (default: the system roots)")
	f.StringVar(&o.DialAddr, "dial", "", "host:port to connect to for every ingress host (default: $"+checks.IngressAddrEnv+", else the host on 443)")
	f.IntVar(&o.CoreMHz, "core-mhz", 0, "Nomad MHz of one core (1000m) for the VPA savings; default: the slowest Nomad node's per-core clock")
	return cmd
}

// Run builds check's dependencies, gathers and prints; only main exits.
func (o *evaluateOptions) Run(ctx context.Context) error {
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
	d, st, _, err := evaluate.ForRepo(ctx, repo, checks.RepoOptions{Kubeconfig: o.Kubeconfig, NomadAddr: o.NomadAddr,
		CAFile: o.CAFile, DialAddr: o.DialAddr, Timeout: o.Timeout})
	if err != nil {
		return usage(err)
	}
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt)
	defer stop()
	ev := evaluate.Gather(ctx, d, st, evaluate.Options{
		DecisionPath: evaluate.DecisionPath(repo),
		Run:          checks.RunOptions{Concurrency: o.Concurrency, Timeout: o.Timeout},
		Rightsize:    rightsize.Options{CoreMHz: o.CoreMHz, CoreMHzSource: coreSource(o.CoreMHz)},
	})
	if o.JSON {
		err = evaluate.WriteJSON(o.g.Out, ev)
	} else {
		err = evaluate.WriteText(o.g.Out, ev)
	}
	if err != nil {
		return err
	}
	if ev.Proposal.Verdict == checks.NoGo {
		return fmt.Errorf("NO-GO proposed: %s failed (see each one's next step above); the decision is yours, in %s", strings.Join(ev.Proposal.Failing, ", "), ev.Decision.Path)
	}
	return nil
}
