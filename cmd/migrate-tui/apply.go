package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"sort"
	"strings"
	"syscall"

	"github.com/spf13/cobra"

	"migrate-tui/internal/connect"
	"migrate-tui/internal/kubeconfigpath"
	"migrate-tui/internal/sshinstall"
	"migrate-tui/internal/stages"
	"migrate-tui/internal/state"
	"migrate-tui/internal/status"
	"migrate-tui/internal/tfrunner"
)

// Exit codes of `migrate-tui apply`: names for rows of the one table
// (exitcodes.go).
const (
	exitApplyError       = exitFailed    // plan or apply failed
	exitApplyRefused     = exitDeclined  // destroys outside the stage, a pre-check, or not confirmed
	exitApplyLocked      = exitLocked    // the state lock is held
	exitApplyInterrupted = exitInterrupt // Ctrl+C: run again to re-plan and continue
	exitApplyVerify      = exitVerify    // applied, but the stage's checks failed
	exitApplyNomad       = exitRegressed // Nomad regressed against the preflight baseline
)

type applyOptions struct {
	g        *globalOptions
	Stage    string
	Yes      bool
	JSON     bool
	TFBinary string
	// The cluster stage: adopt the cluster of Kubeconfig, or install K3s over SSH.
	Kubeconfig string
	SSH        stages.SSHOptions

	stage stages.Stage
	dir   string
	in    *bufio.Reader // one reader, so no answer is lost to buffering
	// newRunner builds the stage runner; tests replace it.
	newRunner func(ctx context.Context, o *applyOptions) (*stages.Runner, error)
	// newCluster builds the cluster stage; tests replace it.
	newCluster func(ctx context.Context, o *applyOptions) (*stages.Cluster, error)
}

func newApplyCmd(g *globalOptions) *cobra.Command {
	o := &applyOptions{g: g, newRunner: applyStageRunner, newCluster: applyClusterStage}
	cmd := &cobra.Command{
		Use:   "apply --stage NAME",
		Short: "Install the cluster, or plan, confirm, apply and verify one platform stage, with the Nomad guard",
		Long: `The cluster stage installs K3s on the decided nodes over SSH (preflight on
every node, confirmation, install, kubeconfig fetched to kubeconfig_path), or
with --kubeconfig PATH adopts a running cluster instead (the sandbox's, or a
K3s you already have): the API must answer and every node be Ready, node
names and architectures are compared with the nodes decision (a mismatch is
a warning), and nothing is installed. Either way kubeconfig_path is written
to terraform.tfvars.

Plan one platform stage (` + strings.Join(stages.Names(), ", ") + `) with
Terraform/OpenTofu, show what it would add, change and destroy, apply the
saved plan after confirmation with live progress, then verify the stage.
Nomad is compared with the preflight baseline before and after.

The platform stages verify the cluster Terraform applies to: kubeconfig_path
in terraform.tfvars, else its default (` + kubeconfigpath.Default + `); $KUBECONFIG
alone is refused, since Terraform does not read it. The Nomad guard uses
$NOMAD_ADDR, else the address preflight recorded (token from $NOMAD_TOKEN).
Vault (the vault stage's Vault side, the services stage's bucket
credentials): ` + connect.VaultPrecedence + `.

A plan that would destroy anything outside the stage is refused. Ctrl+C stops
Terraform gracefully; run the command again to re-plan and continue.

Refused (exit 3) includes, for the cluster, an SSH preflight check that
failed (nothing installed); for an adopted cluster, checks failed (exit 6)
means the API or a node is not Ready.

After an apply, objects still rolling out get up to 3m to become ready
($MIGRATE_TUI_VERIFY_WAIT, e.g. 30s or 10m) before the stage counts as failed.`,
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := o.Complete(); err != nil {
				return usage(err)
			}
			if err := o.Validate(); err != nil {
				return usage(err)
			}
			ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			return o.Run(ctx)
		},
	}
	cmd.Flags().StringVar(&o.Stage, "stage", "", "the stage to apply: cluster, "+strings.Join(stages.Names(), ", "))
	cmd.Flags().StringVar(&o.Kubeconfig, "kubeconfig", "", "cluster stage: adopt the running cluster of this kubeconfig instead of installing K3s (nothing is installed)")
	addSSHFlags(cmd.Flags(), &o.SSH, "cluster stage install: ")
	cmd.Flags().BoolVar(&o.Yes, "yes", false, "apply without asking for confirmation")
	cmd.Flags().BoolVar(&o.JSON, "json", false, "print progress as JSON lines (requires --yes)")
	cmd.Flags().StringVar(&o.TFBinary, "tf-binary", "", "tofu or terraform executable (default $"+tfrunner.BinaryEnv+", else tofu, else terraform on PATH)")
	return cmd
}

func (o *applyOptions) Complete() error {
	dir, err := o.g.RepoDir()
	if err != nil {
		return err
	}
	o.dir = dir
	return nil
}

func (o *applyOptions) Validate() error {
	all := "cluster, " + strings.Join(stages.Names(), ", ")
	if o.Stage == "" {
		return fmt.Errorf("--stage is required: one of %s", all)
	}
	st, ok := stages.ByName(o.Stage)
	if o.Stage == stages.ClusterStage.Name {
		st, ok = stages.ClusterStage, true
	}
	if !ok {
		return fmt.Errorf("unknown stage %q: choose one of %s", o.Stage, all)
	}
	o.stage = st
	isCluster := o.Stage == stages.ClusterStage.Name
	if !isCluster && (o.Kubeconfig != "" || o.SSH.Set()) {
		return fmt.Errorf("--kubeconfig, --ssh-user, --ssh-key, --known-hosts and --k3s-installer-url belong to --stage cluster, not %s", o.Stage)
	}
	if isCluster && o.Kubeconfig != "" && o.SSH.Set() {
		return errors.New("--kubeconfig adopts a running cluster and installs nothing: drop the SSH flags, or drop --kubeconfig to install K3s over SSH")
	}
	adopting := isCluster && o.Kubeconfig != ""
	if o.JSON && !o.Yes && !adopting {
		return errors.New("--json cannot ask for confirmation: add --yes")
	}
	if _, err := os.Stat(filepath.Join(o.dir, "variables.tf")); err != nil {
		return fmt.Errorf("%s has no variables.tf: run migrate-tui in the repository (or pass --dir)", o.dir)
	}
	return nil
}

// applyLine is the non-event JSON line kinds: the plan and the final result.
type applyLine struct {
	Kind        string                    `json:"kind"`
	Stage       string                    `json:"stage"`
	Summary     *tfrunner.Summary         `json:"summary,omitempty"`
	LogPath     string                    `json:"log,omitempty"`
	Outcome     stages.Outcome            `json:"outcome,omitempty"`
	Checks      []stages.CheckResult      `json:"checks,omitempty"`
	Regressions []stages.Regression       `json:"regressions,omitempty"`
	Lock        *tfrunner.LockInfo        `json:"lock,omitempty"`
	Holder      *tfrunner.Holder          `json:"holder,omitempty"`
	Refused     []string                  `json:"refused,omitempty"`
	Error       string                    `json:"error,omitempty"`
	ExitCode    int                       `json:"exit_code"`
	Modules     map[string]map[string]int `json:"-"`
}

func (o *applyOptions) emit(v any) {
	b, _ := json.Marshal(v)
	fmt.Fprintln(o.g.Out, string(b))
}

// finish reports the outcome and maps it to an exit code.
func (o *applyOptions) finish(p *tfrunner.Plan, checks []stages.CheckResult, err error) error {
	line := applyLine{Kind: "result", Stage: o.Stage, Checks: checks}
	if p != nil {
		line.LogPath = p.LogPath
	}
	code := 0
	var (
		de  *tfrunner.DestroyOutsideError
		le  *tfrunner.LockError
		re  *stages.RegressionError
		ve  *stages.VerifyError
		pe  *sshinstall.PreflightError
		sle *state.LockedError
		pce *stages.PreCheckError
	)
	switch {
	case err == nil:
		line.Outcome = stages.Applied
	case errors.As(err, &de):
		code, line.Outcome, line.Refused = exitApplyRefused, stages.Refused, de.Addresses
	case errors.Is(err, errNotConfirmed), errors.Is(err, stages.ErrNotConfirmed):
		code, line.Outcome = exitApplyRefused, stages.Refused
	case errors.As(err, &pe), errors.As(err, &pce):
		code, line.Outcome = exitApplyRefused, stages.Refused
	case errors.As(err, &le):
		code, line.Lock, line.Holder = exitApplyLocked, &le.Info, &le.Holder
		line.Outcome = stages.Failed
	case errors.As(err, &sle):
		code, line.Outcome = exitApplyLocked, stages.Failed
	case errors.Is(err, tfrunner.ErrInterrupted):
		code, line.Outcome = exitApplyInterrupted, stages.Interrupted
	case errors.As(err, &ve):
		code, line.Outcome = exitApplyVerify, stages.VerifyFail
	case errors.As(err, &re):
		code, line.Outcome, line.Regressions = exitApplyNomad, stages.NomadHurt, re.Regressions
	default:
		code, line.Outcome = exitApplyError, stages.Failed
	}
	if err != nil {
		line.Error = err.Error()
	}
	line.ExitCode = code
	if o.JSON {
		o.emit(line)
		if code == 0 {
			return nil
		}
		return withExit(code, errors.New("")) // the JSON line carries the message
	}
	if code == 0 {
		unobserved := 0
		for _, c := range checks {
			if c.Status == status.Unobservable {
				unobserved++
			}
		}
		if unobserved > 0 {
			fmt.Fprintf(o.g.Out, "%s stage %s applied and verified, except %d object(s) marked %s that cannot be observed here\n", status.Pass.Mark(), o.Stage, unobserved, status.Unobservable.Mark())
			return nil
		}
		fmt.Fprintf(o.g.Out, "%s stage %s applied and verified\n", status.Pass.Mark(), o.Stage)
		return nil
	}
	return withExit(code, err)
}

var errNotConfirmed = errors.New("not confirmed: nothing was applied")

func (o *applyOptions) Run(ctx context.Context) error {
	lock, err := state.Acquire(o.dir, "apply --stage "+o.Stage)
	if err != nil {
		return o.finish(nil, nil, err)
	}
	defer lock.Release()
	if o.Stage == stages.ClusterStage.Name {
		return o.runCluster(ctx)
	}
	r, err := o.newRunner(ctx, o)
	if err != nil {
		return o.finish(nil, nil, err)
	}
	p, err := r.Plan(ctx, o.stage)
	if o.offerForceUnlock(ctx, r, err) {
		p, err = r.Plan(ctx, o.stage)
	}
	if p != nil {
		o.showPlan(p)
	}
	if err != nil {
		return o.finish(p, nil, err)
	}
	if !p.Summary.HasChanges() {
		if !o.JSON {
			fmt.Fprintln(o.g.Out, "No changes to apply; verifying the stage.")
		}
	} else {
		if !o.Yes && !o.confirm() {
			return o.finish(p, nil, errNotConfirmed)
		}
		events := make(chan tfrunner.Event)
		errc := make(chan error, 1)
		go func() { errc <- r.Apply(ctx, p, events) }()
		for e := range events {
			o.showEvent(e)
		}
		if err := <-errc; err != nil {
			return o.finish(p, nil, err)
		}
	}
	checks, err := r.Verify(ctx, o.stage, p)
	if !o.JSON {
		for _, c := range checks {
			fmt.Fprintf(o.g.Out, "%s %s: %s\n", c.Status.Mark(), c.Title, c.Evidence)
		}
	}
	return o.finish(p, checks, err)
}

func (o *applyOptions) confirm() bool {
	fmt.Fprintf(o.g.Out, "Apply this plan to stage %s? Only 'yes' is accepted: ", o.Stage)
	return o.answer() == "yes"
}

func (o *applyOptions) showPlan(p *tfrunner.Plan) {
	if o.JSON {
		o.emit(applyLine{Kind: "plan", Stage: p.Stage, Summary: &p.Summary, LogPath: p.LogPath})
		return
	}
	writePlan(o.g.Out, p)
}

// writePlan prints the plan summary grouped by module, destroys first.
func writePlan(w io.Writer, p *tfrunner.Plan) {
	s := p.Summary
	fmt.Fprintf(w, "Plan for stage %s: %s\n", p.Stage, s)
	mods := s.Modules()
	sort.Strings(mods)
	for _, m := range mods {
		ms := s.ByModule[m]
		name := m
		if name == "" {
			name = "(root)"
		}
		fmt.Fprintf(w, "  %-40s +%d ~%d -%d\n", name, ms.Add, ms.Change, ms.Destroy)
	}
	if len(s.Destroys) > 0 {
		fmt.Fprintln(w, "Destroys:")
		for _, a := range s.Destroys {
			fmt.Fprintf(w, "  - %s\n", a)
		}
	}
	fmt.Fprintf(w, "Log: %s\n", p.LogPath)
}

func (o *applyOptions) showEvent(e tfrunner.Event) {
	if o.JSON {
		o.emit(e)
		return
	}
	if s := eventLine(e); s != "" {
		fmt.Fprintln(o.g.Out, s)
	}
}

// eventLine renders one progress event as a line of text.
func eventLine(e tfrunner.Event) string {
	prog := fmt.Sprintf("[%d/%d %s]", e.Done, e.Total, e.Elapsed.Round(1e9))
	switch e.Kind {
	case tfrunner.EventResourceStart:
		return fmt.Sprintf("%s %s: %s…", prog, e.Address, e.Action)
	case tfrunner.EventResourceDone:
		return fmt.Sprintf("%s %s: %s done", prog, e.Address, e.Action)
	case tfrunner.EventResourceErrored:
		return fmt.Sprintf("%s %s: %s FAILED", prog, e.Address, e.Action)
	case tfrunner.EventResourceProgess:
		return fmt.Sprintf("%s %s: still %s (%s)", prog, e.Address, e.Action, e.ResourceElapsed.Round(1e9))
	case tfrunner.EventDiagnostic:
		d := e.Diagnostic
		s := fmt.Sprintf("%s %s: %s", prog, d.Severity, d.Summary)
		if d.Address != "" {
			s += " (" + d.Address + ")"
		}
		return s
	}
	return ""
}

// applyStageRunner builds the stage runner for `apply`; tests replace it.
var applyStageRunner = defaultStageRunner

// forceUnlocker is the runner's force-unlock (tfrunner.Runner has it).
type forceUnlocker interface {
	ForceUnlock(ctx context.Context, le *tfrunner.LockError, confirmed bool) error
}

// offerForceUnlock asks, interactively only, to release a lock whose holder
// is provably gone; it reports whether the lock was released.
func (o *applyOptions) offerForceUnlock(ctx context.Context, r *stages.Runner, err error) bool {
	var le *tfrunner.LockError
	if o.JSON || !errors.As(err, &le) || !le.Stale() {
		return false
	}
	fu, ok := r.TF.(forceUnlocker)
	if !ok {
		return false
	}
	fmt.Fprintf(o.g.Out, "%s\nForce-unlock lock %s? Only 'yes' is accepted: ", le.Error(), le.Info.ID)
	if o.answer() != "yes" {
		return false
	}
	if err := fu.ForceUnlock(ctx, le, true); err != nil {
		fmt.Fprintln(o.g.Out, err)
		return false
	}
	fmt.Fprintln(o.g.Out, "Lock released; planning again.")
	return true
}

func (o *applyOptions) answer() string {
	if o.in == nil {
		o.in = bufio.NewReader(o.g.In)
	}
	line, _ := o.in.ReadString('\n')
	return strings.TrimSpace(line)
}
