package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"

	"migrate-tui/internal/checks"
	"migrate-tui/internal/evaluate"
	"migrate-tui/internal/nomadwatch"
	"migrate-tui/internal/sshinstall"
	"migrate-tui/internal/state"
	"migrate-tui/internal/tfrunner"
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
	f.StringVar(&o.Kubeconfig, "kubeconfig", "", "kubeconfig of the cluster (default: $KUBECONFIG, else kubeconfig_path from terraform.tfvars)")
	f.StringVar(&o.CAFile, "ca-file", "", "PEM CA bundle that ingress certificates must chain to (default: the system roots)")
	f.StringVar(&o.DialAddr, "dial", "", "host:port to connect to for every ingress host, with the host as SNI (default: $"+checks.IngressAddrEnv+", else the host on 443)")
	f.StringVar(&o.NomadAddr, "nomad-addr", "", "Nomad API address (default: $NOMAD_ADDR, else the one preflight recorded; the token comes from $NOMAD_TOKEN)")
	f.StringVar(&o.TFBinary, "tf-binary", "", "tofu or terraform executable (default: $MIGRATE_TUI_TF_BINARY, tofu, terraform)")
	f.BoolVar(&o.RestartProof, "restart-proof", false, "let SC-003 write a marker, delete the stateful pod and read the marker back")
	f.BoolVarP(&o.Verbose, "verbose", "v", false, "show evidence for passing checks too")
	f.StringVar(&o.Assess, "assess", "", "record your SC-007 answer (yes, partly or no) before checking")
	f.StringVar(&o.AssessNote, "assess-note", "", "a sentence to keep with --assess")
	return cmd
}

// Complete builds the dependencies from flags, environment and the repository.
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
	dec, err := checks.LoadDecisions(filepath.Join(repo, "terraform.tfvars"))
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	if errors.Is(err, os.ErrNotExist) && !o.JSON {
		fmt.Fprintf(o.g.Err, "no terraform.tfvars in %s: checking against variables.tf's defaults\n", repo)
	}
	d := &checks.Deps{Decisions: dec, AllowRestart: o.RestartProof}

	kc, err := clusterKubeconfig(o.Kubeconfig, repo)
	if err != nil {
		return err
	}
	if _, err := os.Stat(kc); err != nil {
		return fmt.Errorf("no kubeconfig: %s (%v); pass --kubeconfig, set KUBECONFIG, or run the cluster stage that writes kubeconfig_path", kc, err)
	}
	cfg, err := clientcmd.BuildConfigFromFlags("", kc)
	if err != nil {
		return fmt.Errorf("kubeconfig %s: %w", kc, err)
	}
	cfg.Timeout = o.Timeout
	if d.Kube, err = kubernetes.NewForConfig(cfg); err != nil {
		return err
	}
	if d.Dynamic, err = dynamic.NewForConfig(cfg); err != nil {
		return err
	}
	// KWOK's nodes run no processes: there is nothing to exec into there.
	// Every node, not the first: IsSimulated needs all of them (one real
	// node means real behaviour). The request is bounded by --timeout
	// (cfg.Timeout), not a window of its own a busy API server could miss.
	if nodes, err := d.Kube.CoreV1().Nodes().List(ctx, metav1.ListOptions{}); err == nil && len(nodes.Items) > 0 {
		if !checks.IsSimulated(nodes.Items) {
			d.Exec = checks.PodExec{Config: cfg, Kube: d.Kube}
		} else {
			d.TLS.SimulatedBackends = true
		}
	}

	d.TLS.DialAddr = o.DialAddr
	if d.TLS.DialAddr == "" {
		// The sandbox exports its Traefik's websecure address.
		d.TLS.DialAddr = os.Getenv(checks.IngressAddrEnv)
	}
	if d.TLS.Roots, err = checks.LoadCAFile(o.CAFile); err != nil {
		return err
	}

	// One read of the state: preflight's Nomad address (as cutover and
	// apply use it) and its baseline for SC-005.
	st, stErr := state.Load(repo)
	if addr := st.NomadAddr(o.NomadAddr); addr != "" {
		nc, err := nomadwatch.NewClient(addr, os.Getenv("NOMAD_TOKEN"))
		if err != nil {
			return fmt.Errorf("nomad client for %s: %w", addr, err)
		}
		w, err := checks.NomadFromState(st, nc)
		if stErr != nil {
			err = stErr
		}
		d.Nomad = w
		if err != nil {
			if !o.JSON {
				fmt.Fprintf(o.g.Err, "SC-005: %v\n", err)
			}
		} else {
			d.NomadHealth = w
		}
	}

	if _, err := os.Stat(filepath.Join(repo, "main.tf")); err == nil {
		if bin, err := tfrunner.FindBinary(o.TFBinary); err == nil {
			d.Terraform = checks.TerraformExec{Dir: repo, Binary: bin}
		} else if !o.JSON {
			fmt.Fprintf(o.g.Err, "SC-006: %v\n", err)
		}
	}
	assess := checks.FileAssessments{Path: filepath.Join(repo, ".migrate-tui", "assessment.json")}
	d.Assessor = assess
	// The same record evaluate keeps: SC-010's evidence with the services
	// moved and their VPA savings.
	d.Decision = evaluate.DecisionFile(d, st, evaluate.DecisionPath(repo))
	if o.Assess != "" {
		if err := assess.Record(o.Assess, o.AssessNote, time.Now()); err != nil {
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

// clusterKubeconfig is the kubeconfig check and cutover use: flag when
// set, else $KUBECONFIG, else kubeconfig_path from terraform.tfvars (or its
// default), "~/" expanded.
func clusterKubeconfig(flag, repo string) (string, error) {
	if flag != "" {
		return flag, nil
	}
	if kc := os.Getenv("KUBECONFIG"); kc != "" {
		return kc, nil
	}
	return sshinstall.KubeconfigFile(filepath.Join(repo, "terraform.tfvars"))
}
