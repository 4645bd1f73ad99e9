package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"migrate-tui/internal/checks"
	"migrate-tui/internal/connect"
	"migrate-tui/internal/evaluate"
)

// checkOptions are `migrate-tui check`'s flags and what Complete builds.
type checkOptions struct {
	g *globalOptions

	JSON         bool
	Only, Skip   []string
	Timeout      time.Duration
	Wait         time.Duration
	Concurrency  int
	Kubeconfig   string
	CAFile       string
	DialAddr     string
	NomadAddr    string
	TFBinary     string
	RestartProof bool
	Verbose      bool
	Assess       string
	AssessNote   string

	selected []checks.Check
	deps     *checks.Deps
	repo     string
}

func newCheckCmd(g *globalOptions) *cobra.Command {
	o := &checkOptions{g: g}
	cmd := &cobra.Command{
		Use:   "check",
		Short: "Check the success criteria SC-001..SC-010 live against the cluster, Nomad and Terraform",
		Long: `check runs the PoC's success criteria against the cluster (kubeconfig),
Nomad (NOMAD_ADDR, NOMAD_TOKEN) and Terraform (the repository in --dir).
The kubeconfig is ` + connect.KubeconfigPrecedence + `.
Nomad: ` + connect.NomadPrecedence + `.
It exits 0 when no selected check fails (warnings allowed; a check marked ?
cannot be observed here, e.g. on the sandbox's simulated nodes, and is
counted apart: never a pass, not a failure), 1 when any fails, 2 when the
checks could not run (bad flags, no kubeconfig).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			if ctx == nil {
				ctx = context.Background()
			}
			if err := o.Complete(ctx); err != nil {
				return usage(err)
			}
			if err := o.Validate(); err != nil {
				return usage(err)
			}
			return o.Run(ctx)
		},
	}
	// Bad flags mean the checks could not run: exit 2, not 1.
	cmd.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return usage(err) })
	f := cmd.Flags()
	f.BoolVar(&o.JSON, "json", false, `print one JSON object: {"checks":[...],"summary":{...}}`)
	f.StringSliceVar(&o.Only, "only", nil, "run only these check IDs (e.g. SC-001,SC-004)")
	f.StringSliceVar(&o.Skip, "skip", nil, "skip these check IDs")
	f.DurationVar(&o.Timeout, "timeout", 60*time.Second, "per-check timeout; a check without an answer by then fails as unreachable")
	f.DurationVar(&o.Wait, "wait", 0, "retry checks that converge (rollouts, secret sync) for up to this long while they fail")
	f.IntVar(&o.Concurrency, "concurrency", 4, "checks run at once")
	f.StringVar(&o.Kubeconfig, "kubeconfig", "", connect.KubeconfigHelp)
	f.StringVar(&o.CAFile, "ca-file", "", "PEM CA bundle that ingress certificates must chain to (default: the system roots)")
	f.StringVar(&o.DialAddr, "dial", "", "host:port to connect to for every ingress host, with the host as SNI (default: $"+checks.IngressAddrEnv+", else the host on 443)")
	f.StringVar(&o.NomadAddr, "nomad-addr", "", connect.NomadAddrHelp)
	f.StringVar(&o.TFBinary, "tf-binary", "", "tofu or terraform executable (default: $MIGRATE_TUI_TF_BINARY, tofu, terraform)")
	f.BoolVar(&o.RestartProof, "restart-proof", false, "let SC-003 write a marker, delete the stateful pod and read the marker back")
	f.BoolVarP(&o.Verbose, "verbose", "v", false, "show evidence for passing checks too")
	f.StringVar(&o.Assess, "assess", "", "record your SC-007 answer (yes, partly or no) before checking")
	f.StringVar(&o.AssessNote, "assess-note", "", "a sentence to keep with --assess")
	return cmd
}

// Complete selects the checks and builds their dependencies through
// checks.ForRepo, as the wizard's verify screen does.
func (o *checkOptions) Complete(ctx context.Context) error {
	repo, err := o.g.RepoDir()
	if err != nil {
		return err
	}
	o.repo = repo
	var unknown []string
	o.selected, unknown = checks.Select(checks.All(), upper(o.Only), upper(o.Skip))
	if len(unknown) > 0 {
		return fmt.Errorf("unknown check ID(s) %s; known: SC-001 … SC-010", strings.Join(unknown, ", "))
	}
	d, _, notes, err := evaluate.ForRepo(ctx, repo, checks.RepoOptions{Kubeconfig: o.Kubeconfig, NomadAddr: o.NomadAddr,
		TFBinary: o.TFBinary, CAFile: o.CAFile, DialAddr: o.DialAddr, Timeout: o.Timeout, AllowRestart: o.RestartProof})
	if !o.JSON {
		for _, n := range notes {
			fmt.Fprintln(o.g.Err, n)
		}
	}
	if err != nil {
		return err
	}
	if o.Assess != "" {
		if err := checks.AssessmentsFor(repo).Record(o.Assess, o.AssessNote, time.Now()); err != nil {
			return err
		}
	}
	o.deps = d
	return nil
}

// Validate refuses flag values that cannot work.
func (o *checkOptions) Validate() error {
	if o.Timeout <= 0 {
		return fmt.Errorf("--timeout must be positive, got %s", o.Timeout)
	}
	if o.Wait < 0 || o.Wait >= o.Timeout {
		return fmt.Errorf("--wait (%s) must be at least 0 and shorter than --timeout (%s)", o.Wait, o.Timeout)
	}
	if len(o.selected) == 0 {
		return errors.New("--only and --skip leave no check to run")
	}
	return nil
}

// Run runs the checks and prints them; only main exits.
func (o *checkOptions) Run(ctx context.Context) error {
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt)
	defer stop()
	rs := checks.Run(ctx, o.selected, o.deps, checks.RunOptions{Concurrency: o.Concurrency, Timeout: o.Timeout, Wait: o.Wait}, nil)
	var err error
	if o.JSON {
		err = checks.WriteJSON(o.g.Out, rs)
	} else {
		err = checks.WriteTable(o.g.Out, rs, o.Verbose)
	}
	if err != nil {
		return usage(err)
	}
	var failed []string
	for _, r := range rs {
		if r.Status == checks.Fail {
			failed = append(failed, r.ID)
		}
	}
	if len(failed) > 0 {
		return fmt.Errorf("%d check(s) failed: %s", len(failed), strings.Join(failed, ", "))
	}
	return nil
}

func upper(ids []string) []string {
	out := make([]string, 0, len(ids))
	for _, id := range ids {
		if id = strings.ToUpper(strings.TrimSpace(id)); id != "" {
			out = append(out, id)
		}
	}
	return out
}
