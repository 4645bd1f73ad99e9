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
	Check, Step                bool
	RoutingDone, AcceptUnobs   bool
	Kubeconfig, DialAddr       string
	ConfirmJob                 string
	CAFile, NomadAddr          string
	Wait                       time.Duration
	SSHUser                    string
	SSHKeys, KnownHosts        []string
	Parity                     cutover.ParitySettings
	Spot                       cutover.SpotCommands

	repo  string
	dec   checks.Decisions
	flow  cutover.Machine
	md    *machineDeps
	stdin *bufio.Reader
}

func newCutoverCmd(g *globalOptions) *cobra.Command {
	o := &cutoverOptions{g: g}
	cmd := &cobra.Command{
		Use:   "cutover [SERVICE]",
		Short: "Move one service from Nomad to Kubernetes, one checked state at a time, or roll it back",
		Long: `cutover moves one service off Nomad through its states, each transition
gated by its checks (--check shows the next one's, changing nothing):
on-nomad-only -> scaffolded (its module exists) -> deployed (its Kubernetes
objects exist beside Nomad) -> verified (the readiness gate: the Kubernetes
copy, the Nomad job, separate Litestream buckets; parity, data,
data-volumes, secrets) -> traffic-switched (the external Traefik sends its
host to Kubernetes: with traefik_route_dir set, migrate-tui writes its
file-provider route there and proves it; else the change is printed) ->
nomad-stopped (after-switch checked first; the job's
spec saved in .migrate-tui/state.json, the job stopped, not purged) -> done
(every other Nomad job as healthy as at preflight).
It goes as far as it can (--step: one transition); a rerun resumes where
the state file says. --rollback undoes in reverse from any state: the saved
job registered again, then the route removed. --list shows every Nomad job
with its state and next action. A blocking check and a declined
confirmation both exit 3 (nothing changed).`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			if ctx == nil {
				ctx = context.Background()
			}
			if len(args) == 1 {
				if o.Service != "" && o.Service != args[0] {
					return usage(fmt.Errorf("SERVICE %q and --service %q differ; give one", args[0], o.Service))
				}
				o.Service = args[0]
			}
			if err := o.Validate(); err != nil {
				return usage(err)
			}
			if o.List {
				return o.runList(ctx)
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
	f.BoolVar(&o.Yes, "yes", false, "stop the Nomad job, or roll back, without asking (the checks must still pass)")
	f.BoolVar(&o.JSON, "json", false, "print one JSON object (the job spec is never printed)")
	f.BoolVar(&o.List, "list", false, "list every Nomad job with its cutover state and next action")
	f.BoolVar(&o.Check, "check", false, "run the next transition's checks and change nothing (exit 1 when one blocks)")
	f.BoolVar(&o.Step, "step", false, "make one transition only (default: as far as the checks allow)")
	f.BoolVar(&o.Rollback, "rollback", false, "go back to on-nomad-only from any state: the saved Nomad job registered again (if stopped), then the route removed")
	f.BoolVar(&o.RoutingDone, "routing-done", false, "you have made the printed external Traefik change (required to finish without a terminal; unused when traefik_route_dir is set: the route file is written and proved)")
	f.BoolVar(&o.AcceptUnobs, "accept-unobserved", false, "let checks that cannot be observed from here warn instead of block")
	f.StringVar(&o.Kubeconfig, "kubeconfig", "", connect.KubeconfigHelp)
	f.StringVar(&o.DialAddr, "dial", "", "host:port of the K3s Traefik (e.g. hestia:32443) for the HTTPS check; without it HTTPS cannot be observed")
	f.StringVar(&o.CAFile, "ca-file", "", "PEM CA bundle the ingress certificate must chain to (default: the system roots)")
	f.StringVar(&o.NomadAddr, "nomad-addr", "", connect.NomadAddrHelp)
	f.DurationVar(&o.Wait, "wait", 5*time.Minute, "how long to wait for Nomad to stop or run the job")
	f.StringVar(&o.SSHUser, "ssh-user", "", "SSH user on traefik_route_node, where the route file goes (default $USER)")
	f.StringArrayVar(&o.SSHKeys, "ssh-key", nil, "a private key file for traefik_route_node (repeatable; default the ssh-agent)")
	f.StringArrayVar(&o.KnownHosts, "known-hosts", nil, "known_hosts file checked for traefik_route_node (repeatable; default ~/.ssh/known_hosts)")
	f.StringVar(&o.Parity.Path, "parity-path", "", "path of the parity request asked of both copies (default: the Nomad job's HTTP check path, else /)")
	f.StringArrayVar(&o.Parity.Headers, "parity-header", nil, "a response header that must be equal on both copies (repeatable; default Content-Type)")
	f.BoolVar(&o.Parity.BodyDigest, "parity-body", false, "the parity request's bodies must be equal too (sha256)")
	f.StringVar(&o.Spot.What, "spot-what", "", "what the data spot check compares, in words (e.g. \"rows in media_request\")")
	f.StringVar(&o.Spot.Nomad, "spot-nomad", "", "data spot check: a shell command printing the value on the Nomad instance (e.g. nomad alloc exec ... sqlite3 ...)")
	f.StringVar(&o.Spot.Kubernetes, "spot-kubernetes", "", "data spot check: a shell command printing the value on the Kubernetes copy (e.g. kubectl exec ... sqlite3 ...)")
	f.StringVar(&o.Spot.Copy, "spot-replica", "", "data spot check: a shell command printing the value from the restored replica, whose path is $1 (e.g. sqlite3 \"$1\" 'SELECT count(*) FROM t')")
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
		if o.Service != "" || o.Rollback || o.Check || o.Step {
			return errors.New("--list takes no SERVICE, --rollback, --check or --step")
		}
		return nil
	}
	if o.Service == "" {
		return errors.New("a SERVICE is required: migrate-tui cutover SERVICE (or --service; migrate-tui cutover --list shows them)")
	}
	if o.Rollback && (o.Check || o.Step) {
		return errors.New("--rollback goes back to on-nomad-only in one run; it takes no --check or --step")
	}
	if o.Check && o.Step {
		return errors.New("--check changes nothing; it takes no --step")
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

func (o *cutoverOptions) runList(ctx context.Context) error {
	if _, err := o.decisions(); err != nil {
		return usage(err)
	}
	st, err := state.Load(o.repo)
	if err != nil {
		return err
	}
	nc, err := connect.Nomad(o.NomadAddr, st)
	if err != nil {
		return err
	}
	es, err := cutover.ListNomad(ctx, nc, st, o.repo)
	if err != nil {
		return err
	}
	if o.JSON {
		enc := json.NewEncoder(o.g.Out)
		enc.SetIndent("", "  ")
		return enc.Encode(map[string]any{"services": es})
	}
	fmt.Fprintf(o.g.Out, "%-16s %-16s %-18s %-17s %s\n", "SERVICE", "NOMAD JOB", "NOMAD", "STATE", "NEXT")
	for _, e := range es {
		fmt.Fprintf(o.g.Out, "%-16s %-16s %-18s %-17s %s\n", e.Service, e.NomadJob, orDash(e.NomadStatus), e.State, e.Next)
	}
	return nil
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// Complete builds the clients and the machine.
func (o *cutoverOptions) Complete(ctx context.Context) error {
	dec, err := o.decisions()
	if err != nil {
		return err
	}
	o.dec = dec
	md, err := newMachineDeps(ctx, o.repo, dec, machineFlags{NomadAddr: o.NomadAddr, DialAddr: o.DialAddr, CAFile: o.CAFile,
		Kubeconfig: o.Kubeconfig, NoCluster: o.Rollback, AcceptUnobserved: o.AcceptUnobs, Wait: o.Wait,
		SSHUser: o.SSHUser, SSHKeys: o.SSHKeys, KnownHosts: o.KnownHosts, Parity: o.Parity, Spot: o.Spot})
	if err != nil {
		return err
	}
	o.stdin = bufio.NewReader(o.g.In)
	o.md = md
	o.flow = md.machine(cutover.Target{Service: o.Service, NomadJob: o.NomadJob, Namespace: o.NomadNS}, o.ConfirmJob,
		cutover.Prompts{ConfirmStop: o.confirmStop, ConfirmRouting: o.confirmRouting, ConfirmRollback: o.confirmRollback})
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
	if o.Check {
		return o.runCheck(ctx)
	}
	var out cutover.Outcome
	var err error
	switch {
	case o.Rollback:
		out, err = o.flow.Rollback(ctx)
	case o.Step:
		out, err = o.flow.Advance(ctx)
	default:
		out, err = o.flow.Run(ctx, cutover.Done)
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
		if out.Gate != nil && (errors.Is(err, cutover.ErrNotReady) || errors.Is(err, cutover.ErrRegressions)) {
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
		fmt.Fprintf(o.g.Out, "%s is %s; next: %s\n", o.Service, out.State, cutover.NextAction(out.State, o.Service, out.NomadJob))
	}
	switch {
	case err == nil:
		return nil
	// The exit code follows the cause (exitCode's table); only the wording
	// is this command's.
	case errors.Is(err, cutover.ErrNotReady):
		return reword(err, fmt.Sprintf("%s stays %s: %d check(s) of the next transition block (listed above); nothing was changed", o.Service, out.State, len(out.Gate.Blockers())))
	case errors.Is(err, cutover.ErrDeclined) && o.Rollback:
		return reword(err, "the Nomad job was not registered again (not confirmed); nothing was changed")
	case errors.Is(err, cutover.ErrDeclined):
		return reword(err, "the Nomad job was not stopped (not confirmed); nothing was changed")
	case errors.Is(err, cutover.ErrRegressions):
		return reword(err, fmt.Sprintf("Nomad job %s is stopped, but %d regression(s) in other Nomad jobs since the baseline (listed above) keep %s from done: look at them, then run again, or migrate-tui cutover %s --rollback", out.NomadJob, len(out.Regressions), o.Service, o.Service))
	case errors.Is(err, cutover.ErrRouting):
		return reword(err, fmt.Sprintf("%s stays %s: the external Traefik change is not confirmed (Nomad job %s still runs): make it, then run again with --routing-done, or migrate-tui cutover %s --rollback", o.Service, out.State, out.NomadJob, o.Service))
	case ctx.Err() != nil: // Ctrl+C during a Nomad wait: the state says how far it got
		return withExit(exitInterrupt, fmt.Errorf("interrupted: %w; run the same command again to continue", err))
	default:
		return err
	}
}

// runCheck prints the next transition's checks; nothing changes. A
// blocking check fails the run (exit 1), as in migrate-tui check.
func (o *cutoverOptions) runCheck(ctx context.Context) error {
	from, to, g, err := o.flow.Check(ctx)
	if err != nil {
		return err
	}
	rs := o.md.rightsize(ctx, o.Service)
	if o.JSON {
		enc := json.NewEncoder(o.g.Out)
		enc.SetIndent("", "  ")
		if err := enc.Encode(map[string]any{"service": o.Service, "state": from, "next_state": to, "ready": g.Ready(), "checks": g.Checks, "rightsizing": rs}); err != nil {
			return err
		}
	} else {
		if to == "" {
			fmt.Fprintf(o.g.Out, "%s is %s: no transition left (--rollback puts it back on Nomad)\n", o.Service, from)
		} else {
			fmt.Fprintf(o.g.Out, "%s is %s; checks before %s:\n", o.Service, from, to)
			writeGate(o.g.Out, g)
		}
		fmt.Fprintf(o.g.Out, "Right-sizing: %s %s\n", rs.Status, rs.Evidence)
		for _, tk := range rs.Tasks {
			fmt.Fprintf(o.g.Out, "  task %s: Nomad %d MHz %d MB, VPA target %s %s (saving %d MHz %d MB)\n", tk.Task, tk.Nomad.CPUMHz, tk.Nomad.MemoryMB, tk.TargetCPU, tk.TargetMemory, tk.Saving.CPUMHz, tk.Saving.MemoryMB)
		}
	}
	if !g.Ready() {
		return fmt.Errorf("%s cannot move %s -> %s: %d check(s) block (listed above); nothing was changed", o.Service, from, to, len(g.Blockers()))
	}
	return nil
}
