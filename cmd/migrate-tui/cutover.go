package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"migrate-tui/internal/checks"
	"migrate-tui/internal/connect"
	"migrate-tui/internal/cutover"
	"migrate-tui/internal/state"
)

// cutoverOptions are `migrate-tui cutover`'s flags.
type cutoverOptions struct {
	g *globalOptions

	Service, NomadJob, NomadNS string
	Yes, JSON, List, Rollback  bool
	RoutingDone, AcceptUnobs   bool
	Kubeconfig, DialAddr       string
	ConfirmJob                 string
	CAFile, NomadAddr          string
	Wait                       time.Duration

	repo  string
	dec   checks.Decisions
	flow  cutover.Flow
	stdin *bufio.Reader
}

func newCutoverCmd(g *globalOptions) *cobra.Command {
	o := &cutoverOptions{g: g}
	cmd := &cobra.Command{
		Use:   "cutover",
		Short: "Move one service from Nomad to Kubernetes (readiness gate, stop the Nomad job, guard the others), or roll it back",
		Long: `cutover moves one service off Nomad once its Kubernetes copy is healthy:
it checks readiness (the Kubernetes copy, the Nomad job, separate Litestream
buckets), saves the Nomad job's spec in .migrate-tui/state.json, stops the job
(not purged), checks every other Nomad job is unaffected, and tells you the
external Traefik change to make. --rollback registers the saved job again.
A blocking readiness gate and a declined confirmation both exit 3 (nothing
changed).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			if ctx == nil {
				ctx = context.Background()
			}
			if err := o.Validate(); err != nil {
				return usage(err)
			}
			if o.List {
				return o.runList()
			}
			// A missing --dir is bad usage: the lock must not create it.
			repo, err := o.g.RepoDir()
			if err != nil {
				return err
			}
			lock, err := state.Acquire(repo, "cutover")
			if err != nil {
				return err // held: exit 4 (exitcodes.go)
			}
			defer lock.Release()
			if err := o.Complete(ctx); err != nil {
				return usage(err)
			}
			return o.Run(ctx)
		},
	}
	cmd.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return usage(err) })
	f := cmd.Flags()
	f.StringVar(&o.Service, "service", "", "the service to cut over (its Kubernetes workload name)")
	f.StringVar(&o.NomadJob, "nomad-job", "", "the Nomad job that runs it (default: the service name)")
	f.StringVar(&o.NomadNS, "nomad-namespace", "default", "the Nomad job's namespace")
	f.StringVar(&o.ConfirmJob, "confirm-nomad-job", "", "confirm by name a --nomad-job that is not named after the service and registers no Consul service of its name")
	f.BoolVar(&o.Yes, "yes", false, "stop the Nomad job without asking (the gate must still pass)")
	f.BoolVar(&o.JSON, "json", false, "print one JSON object (the job spec is never printed)")
	f.BoolVar(&o.List, "list", false, "list services and where they run")
	f.BoolVar(&o.Rollback, "rollback", false, "register the saved Nomad job again and wait until it runs")
	f.BoolVar(&o.RoutingDone, "routing-done", false, "you have made the external Traefik change (required to finish without a terminal)")
	f.BoolVar(&o.AcceptUnobs, "accept-unobserved", false, "let checks that cannot be observed from here warn instead of block")
	f.StringVar(&o.Kubeconfig, "kubeconfig", "", connect.KubeconfigHelp)
	f.StringVar(&o.DialAddr, "dial", "", "host:port of the K3s Traefik (e.g. hestia:32443) for the HTTPS check; without it HTTPS cannot be observed")
	f.StringVar(&o.CAFile, "ca-file", "", "PEM CA bundle the ingress certificate must chain to (default: the system roots)")
	f.StringVar(&o.NomadAddr, "nomad-addr", "", connect.NomadAddrHelp)
	f.DurationVar(&o.Wait, "wait", 5*time.Minute, "how long to wait for Nomad to stop or run the job")
	return cmd
}

func mustRepo(o *cutoverOptions) string {
	r, err := o.g.RepoDir()
	if err != nil {
		return o.g.Dir
	}
	return r
}

// Validate refuses flag combinations that cannot work.
func (o *cutoverOptions) Validate() error {
	if o.List {
		if o.Service != "" || o.Rollback {
			return errors.New("--list takes no --service or --rollback")
		}
		return nil
	}
	if o.Service == "" {
		return errors.New("--service is required (migrate-tui cutover --list shows the services)")
	}
	if o.Wait <= 0 {
		return fmt.Errorf("--wait must be positive, got %s", o.Wait)
	}
	return nil
}

func (o *cutoverOptions) decisions() (checks.Decisions, error) {
	repo, err := o.g.RepoDir()
	if err != nil {
		return checks.Decisions{}, err
	}
	o.repo = repo
	dec, err := checks.LoadDecisions(filepath.Join(repo, "terraform.tfvars"))
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return dec, err
	}
	return dec, nil
}

func (o *cutoverOptions) runList() error {
	dec, err := o.decisions()
	if err != nil {
		return usage(err)
	}
	st, err := state.Load(o.repo)
	if err != nil {
		return err
	}
	es := cutover.List(st, dec.PoCServices)
	if o.JSON {
		enc := json.NewEncoder(o.g.Out)
		enc.SetIndent("", "  ")
		return enc.Encode(map[string]any{"services": es})
	}
	fmt.Fprintf(o.g.Out, "%-14s %-14s %-14s %s\n", "SERVICE", "NOMAD JOB", "RUNS ON", "ROUTING")
	for _, e := range es {
		fmt.Fprintf(o.g.Out, "%-14s %-14s %-14s %s\n", e.Service, e.NomadJob, e.Phase, routingWord(e))
	}
	return nil
}

func routingWord(e cutover.Entry) string {
	switch {
	case e.Phase == state.CutoverOnNomad:
		return "Consul catalog (Nomad)"
	case e.Routing:
		return "confirmed to Kubernetes"
	default:
		return "NOT confirmed"
	}
}

// Complete builds the clients and the flow.
func (o *cutoverOptions) Complete(ctx context.Context) error {
	dec, err := o.decisions()
	if err != nil {
		return err
	}
	o.dec = dec
	st, err := state.Load(o.repo)
	if err != nil {
		return err
	}
	nc, err := connect.Nomad(o.NomadAddr, st)
	if err != nil {
		return err
	}
	// The same dependencies as check's (checks.ForRepo); a rollback needs no cluster.
	d, _, err := checks.ForRepo(ctx, o.repo, checks.RepoOptions{Kubeconfig: o.Kubeconfig, NomadAddr: o.NomadAddr,
		CAFile: o.CAFile, DialAddr: o.DialAddr, Timeout: time.Minute, NoCluster: o.Rollback})
	if err != nil {
		return err
	}
	o.stdin = bufio.NewReader(o.g.In)
	var backends []string
	for _, n := range dec.NodeNames {
		backends = append(backends, n+":"+strconv.Itoa(dec.TraefikHTTPSPort))
	}
	o.flow = cutover.Flow{
		Repo: o.repo,
		Gate: cutover.GateInput{Target: cutover.Target{Service: o.Service, NomadJob: o.NomadJob, Namespace: o.NomadNS},
			Nomad: cutover.FromClient(nc), Deps: d, AcceptUnobserved: o.AcceptUnobs, ConfirmedJob: o.ConfirmJob,
			RunOptions: checks.RunOptions{Timeout: time.Minute}},
		Routing: cutover.Routing{Service: o.Service, Host: o.Service + "." + dec.Domain, Backends: backends},
		Wait:    o.Wait,
		Prompts: cutover.Prompts{ConfirmStop: o.confirmStop, ConfirmRouting: o.confirmRouting, ConfirmRollback: o.confirmRollback},
	}
	return nil
}

func (o *cutoverOptions) interactive() bool {
	f, ok := o.g.In.(*os.File)
	if !ok || o.JSON {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

func (o *cutoverOptions) ask(q string) bool {
	fmt.Fprint(o.g.Err, q+" [y/N] ")
	line, _ := o.stdin.ReadString('\n')
	a := strings.ToLower(strings.TrimSpace(line))
	return a == "y" || a == "yes"
}

func (o *cutoverOptions) confirmStop(g cutover.Gate) bool {
	if !o.JSON {
		writeGate(o.g.Out, g)
	}
	if o.Yes {
		return true
	}
	if !o.interactive() {
		fmt.Fprintln(o.g.Err, "not stopping the Nomad job: no terminal to confirm on; pass --yes")
		return false
	}
	return o.ask(fmt.Sprintf("Stop Nomad job %s now (its spec is saved for --rollback)?", g.NomadJob))
}

func (o *cutoverOptions) confirmRollback(what string) bool {
	if !o.JSON {
		fmt.Fprintln(o.g.Out, what)
	}
	if o.Yes {
		return true
	}
	if !o.interactive() {
		fmt.Fprintln(o.g.Err, "not registering the Nomad job: no terminal to confirm on; pass --yes")
		return false
	}
	return o.ask("Register it now?")
}

func (o *cutoverOptions) confirmRouting(change string) (bool, string) {
	if !o.JSON {
		fmt.Fprintln(o.g.Out, "\n"+change)
	}
	if o.RoutingDone {
		return true, "--routing-done"
	}
	if !o.interactive() {
		return false, ""
	}
	if o.ask("Have you made this change to the external Traefik?") {
		return true, "interactive"
	}
	return false, ""
}

func writeGate(w interface{ Write([]byte) (int, error) }, g cutover.Gate) {
	fmt.Fprintf(w, "Readiness of %s (Nomad job %s):\n", g.Service, g.NomadJob)
	for _, c := range g.Checks {
		fmt.Fprintf(w, "  %s %-12s %-18s %s\n         found: %s\n", c.Status.Mark(), c.Status, c.ID, c.Checked, c.Found)
		if c.Next != "" && c.Status != cutover.Pass {
			fmt.Fprintf(w, "         next: %s\n", c.Next)
		}
	}
}

// Run runs the cutover or rollback and prints the outcome.
func (o *cutoverOptions) Run(ctx context.Context) error {
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt)
	defer stop()
	var out cutover.Outcome
	var err error
	if o.Rollback {
		out, err = o.flow.Rollback(ctx)
	} else {
		out, err = o.flow.Cutover(ctx)
	}
	if o.JSON {
		res := map[string]any{"outcome": out}
		if err != nil {
			res["error"] = err.Error()
		}
		enc := json.NewEncoder(o.g.Out)
		enc.SetIndent("", "  ")
		if e := enc.Encode(res); e != nil {
			return e
		}
	} else {
		if out.Gate != nil && (errors.Is(err, cutover.ErrNotReady)) {
			writeGate(o.g.Out, *out.Gate)
		}
		for _, s := range out.Steps {
			fmt.Fprintf(o.g.Out, "%s %-5s %-13s %s\n", s.Status.Mark(), s.Status, s.Name, s.Detail)
		}
		for _, r := range out.Regressions {
			fmt.Fprintf(o.g.Out, "      regression: %s\n", r.Message)
		}
		if o.Rollback && err == nil {
			fmt.Fprintln(o.g.Out, "\n"+out.Routing)
		}
	}
	switch {
	case err == nil:
		return nil
	// The exit code follows the cause (exitCode's table); only the wording
	// is this command's.
	case errors.Is(err, cutover.ErrNotReady):
		return reword(err, fmt.Sprintf("%s is not ready to cut over: %d check(s) block; nothing was changed", o.Service, len(out.Gate.Blockers())))
	case errors.Is(err, cutover.ErrDeclined) && o.Rollback:
		return reword(err, "the Nomad job was not registered again (not confirmed); nothing was changed")
	case errors.Is(err, cutover.ErrDeclined):
		return reword(err, "the Nomad job was not stopped (not confirmed); nothing was changed")
	case errors.Is(err, cutover.ErrRegressions):
		return reword(err, fmt.Sprintf("%s was cut over, but %d regression(s) in other Nomad jobs since the baseline (listed above)", o.Service, len(out.Regressions)))
	case errors.Is(err, cutover.ErrRouting):
		return reword(err, fmt.Sprintf("Nomad job %s is stopped but the external Traefik change is not confirmed: make it, then run again with --routing-done, or migrate-tui cutover --rollback --service %s", out.NomadJob, o.Service))
	case ctx.Err() != nil: // Ctrl+C during a Nomad wait: the state says how far it got
		return withExit(exitInterrupt, fmt.Errorf("interrupted: %w; run the same command again to continue", err))
	default:
		return err
	}
}
