// Package stages runs the platform stages (storage, mesh, vault, vpa,
// ingress, services): each is planned and applied through tfrunner with the
// stage added to enabled_stages in terraform.tfvars, then verified, with the
// Nomad guard before and after. The steps are separate calls so the TUI
// (stageui) and `migrate-tui apply` drive the same rules.
package stages

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"migrate-tui/internal/faultpoint"
	"migrate-tui/internal/status"
	"migrate-tui/internal/tfrunner"
)

// Stage is one Terraform-applied installation stage.
type Stage struct {
	Name  string
	Title string
	// What the stage installs, one line for the plan screen.
	Blurb string
}

// Platform lists the stages in the order they are applied (the order of
// enabled_stages in variables.tf). The cluster stage runs over SSH
// (internal/sshinstall) and is not here.
var Platform = []Stage{
	{Name: "mesh", Title: "Mesh", Blurb: "the service mesh / mTLS (Cilium came with the cluster)"},
	{Name: "storage", Title: "Storage", Blurb: "the storage class for PoC volumes"},
	{Name: "vault", Title: "Vault integration", Blurb: "the Kubernetes side of Vault: token reviewer, secret store"},
	{Name: "vpa", Title: "VPA", Blurb: "the Vertical Pod Autoscaler and its admission TLS"},
	{Name: "ingress", Title: "Ingress", Blurb: "Traefik on K3s behind the external Traefik"},
	{Name: "services", Title: "PoC services", Blurb: "whoami, echo and overseerr"},
}

// ByName returns the stage called name.
func ByName(name string) (Stage, bool) {
	for _, s := range Platform {
		if s.Name == name {
			return s, true
		}
	}
	return Stage{}, false
}

// Names lists the stage names in order.
func Names() []string {
	var n []string
	for _, s := range Platform {
		n = append(n, s.Name)
	}
	return n
}

// Terraform is the part of tfrunner a stage uses.
type Terraform interface {
	Init(ctx context.Context) error
	Plan(ctx context.Context, stage string) (*tfrunner.Plan, error)
	Apply(ctx context.Context, p *tfrunner.Plan, events chan<- tfrunner.Event) error
}

// Vars reads and writes enabled_stages in terraform.tfvars.
type Vars interface {
	EnabledStages() ([]string, error)
	SetEnabledStages([]string) error
}

// Regression is one way Nomad got worse than the preflight baseline.
type Regression struct {
	Job  string `json:"job"`
	What string `json:"what"`
}

// Guard compares Nomad now against the preflight baseline.
type Guard interface {
	Regressions(ctx context.Context) ([]Regression, error)
}

// CheckResult is one verify check's outcome, in the one result vocabulary
// (internal/status): a warning is Warn, not a pass with "warning:" in its
// text; what cannot be seen here (no Helm controller in the sandbox) is
// Unobservable, neither a pass nor a failure.
type CheckResult struct {
	ID       string        `json:"id"`
	Title    string        `json:"title"`
	Status   status.Status `json:"status"`
	Evidence string        `json:"evidence"`
	Hint     string        `json:"hint,omitempty"`
}

// Failed reports whether c fails its stage: a failure, or a status nobody
// set (a check that forgot to decide must not pass by default).
func (c CheckResult) Failed() bool { return c.Status == status.Fail || !c.Status.Known() }

// Verifier runs a stage's own checks after its apply.
type Verifier interface {
	Verify(ctx context.Context, s Stage) ([]CheckResult, error)
}

// Outcome is how a stage ended, as recorded.
type Outcome string

const (
	Applied     Outcome = "applied"
	Interrupted Outcome = "interrupted"
	Failed      Outcome = "failed"
	VerifyFail  Outcome = "verify-failed"
	Skipped     Outcome = "skipped"
	Refused     Outcome = "refused"
	RolledBack  Outcome = "rolled-back"
	NomadHurt   Outcome = "nomad-regression"
)

// Result is what is recorded about a stage run.
type Result struct {
	Stage       string           `json:"stage"`
	Outcome     Outcome          `json:"outcome"`
	Summary     tfrunner.Summary `json:"summary"`
	Checks      []CheckResult    `json:"checks,omitempty"`
	Regressions []Regression     `json:"regressions,omitempty"`
	LogPath     string           `json:"log,omitempty"`
	Reason      string           `json:"reason,omitempty"`
	At          time.Time        `json:"at"`
	// The cluster stage's own facts: how the cluster came to be (install
	// or adopt), its kubeconfig and the mesh K3s was set up for.
	Mode        string `json:"mode,omitempty"`
	Kubeconfig  string `json:"kubeconfig,omitempty"`
	ServiceMesh string `json:"service_mesh,omitempty"`
}

// Recorder stores stage results (internal/state).
type Recorder interface {
	RecordStage(r Result) error
}

// RegressionError stops the wizard: Nomad is worse than at preflight.
type RegressionError struct {
	When        string // "before" or "after" the stage
	Stage       string
	Regressions []Regression
}

func (e *RegressionError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "Nomad regressed %s stage %s compared with the preflight baseline:", e.When, e.Stage)
	for _, r := range e.Regressions {
		fmt.Fprintf(&b, "\n  - %s: %s", r.Job, r.What)
	}
	b.WriteString("\nStopped. Look at those jobs (nomad job status JOB); when Nomad is healthy again, run the stage again")
	if e.When == "after" {
		b.WriteString(" or roll it back")
	}
	b.WriteString(".")
	return b.String()
}

// VerifyError says which of the stage's checks failed.
type VerifyError struct {
	Stage  string
	Failed []CheckResult
}

func (e *VerifyError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "stage %s applied but %d check(s) did not pass:", e.Stage, len(e.Failed))
	for _, c := range e.Failed {
		fmt.Fprintf(&b, "\n  %s %s: %s", c.Status.Mark(), c.Title, c.Evidence)
		if c.Hint != "" {
			fmt.Fprintf(&b, "\n    hint: %s", c.Hint)
		}
	}
	b.WriteString("\nRetry the verification, skip the stage (recorded) or roll it back.")
	return b.String()
}

// PostApply is work a stage does outside Terraform after its apply (the
// vault stage's Vault side); it must be idempotent and returns what it changed.
type PostApply interface {
	Run(ctx context.Context) ([]string, error)
}

// PostApplyFunc adapts a function to PostApply.
type PostApplyFunc func(ctx context.Context) ([]string, error)

// Run calls f.
func (f PostApplyFunc) Run(ctx context.Context) ([]string, error) { return f(ctx) }

// PreApply is a stage's check before its plan, for what Terraform only
// refers to and cannot create (the ingress stage's TLS Secret).
type PreApply interface {
	Run(ctx context.Context) error
}

// PreApplyFunc adapts a function to PreApply.
type PreApplyFunc func(ctx context.Context) error

// Run calls f.
func (f PreApplyFunc) Run(ctx context.Context) error { return f(ctx) }

// PreCheckError is a stage refused before its plan: nothing was changed.
type PreCheckError struct {
	Stage string
	Err   error
}

func (e *PreCheckError) Error() string {
	return fmt.Sprintf("stage %s not planned: %v", e.Stage, e.Err)
}

func (e *PreCheckError) Unwrap() error { return e.Err }

// Runner carries one stage through its steps.
type Runner struct {
	TF     Terraform
	Vars   Vars
	Guard  Guard
	Checks Verifier
	Record Recorder // optional
	// Pre holds each stage's check before its plan, by stage name.
	Pre map[string]PreApply
	// Post holds each stage's work after its Terraform apply, by stage name.
	Post map[string]PostApply
	Now  func() time.Time
}

func (r *Runner) now() time.Time {
	if r.Now != nil {
		return r.Now()
	}
	return time.Now()
}

func (r *Runner) record(res Result) error {
	if r.Record == nil {
		return nil
	}
	res.At = r.now()
	return r.Record.RecordStage(res)
}

// guard runs the Nomad guard; a regression is a *RegressionError.
func (r *Runner) guard(ctx context.Context, when, stage string) error {
	if r.Guard == nil {
		return errors.New("no Nomad guard configured: migrate-tui applies a stage only while it can compare Nomad against the preflight baseline")
	}
	regs, err := r.Guard.Regressions(ctx)
	if err != nil {
		return fmt.Errorf("Nomad guard %s stage %s: %w", when, stage, err)
	}
	if len(regs) > 0 {
		return &RegressionError{When: when, Stage: stage, Regressions: regs}
	}
	return nil
}

// withStage returns enabled with s added, in Platform order.
func withStage(enabled []string, s string, add bool) []string {
	set := map[string]bool{}
	for _, e := range enabled {
		set[e] = true
	}
	set[s] = add
	var out []string
	for _, n := range Names() {
		if set[n] {
			out = append(out, n)
		}
	}
	return out
}

// Plan checks Nomad and the stage's pre-check, enables the stage in
// terraform.tfvars, inits and plans. A failed pre-check is a
// *PreCheckError; a plan that destroys outside the stage comes back with
// the refusal.
func (r *Runner) Plan(ctx context.Context, s Stage) (*tfrunner.Plan, error) {
	if err := r.guard(ctx, "before", s.Name); err != nil {
		var re *RegressionError
		if errors.As(err, &re) {
			_ = r.record(Result{Stage: s.Name, Outcome: NomadHurt, Regressions: re.Regressions, Reason: "before the stage"})
		}
		return nil, err
	}
	if pre := r.Pre[s.Name]; pre != nil {
		if err := pre.Run(ctx); err != nil {
			pe := &PreCheckError{Stage: s.Name, Err: err}
			_ = r.record(Result{Stage: s.Name, Outcome: Refused, Reason: pe.Error()})
			return nil, pe
		}
	}
	p, err := r.planWith(ctx, s.Name, true)
	var de *tfrunner.DestroyOutsideError
	if errors.As(err, &de) {
		res := Result{Stage: s.Name, Outcome: Refused, Reason: de.Error()}
		if p != nil {
			res.Summary, res.LogPath = p.Summary, p.LogPath
		}
		_ = r.record(res)
	}
	return p, err
}

// Apply applies the saved plan, forwarding progress events (events is closed
// when done). An interruption is recorded; the next run re-plans.
func (r *Runner) Apply(ctx context.Context, p *tfrunner.Plan, events chan<- tfrunner.Event) error {
	if p != nil && p.Refused == nil {
		if err := r.commitEnabled(p.Stage, true); err != nil {
			close(events)
			return err
		}
		faultpoint.Hit(faultpoint.StagesAfterCommitVars)
	}
	err := r.TF.Apply(ctx, p, events)
	if err == nil {
		faultpoint.Hit(faultpoint.StagesAfterApply)
	}
	switch {
	case errors.Is(err, tfrunner.ErrInterrupted):
		_ = r.record(Result{Stage: p.Stage, Outcome: Interrupted, Summary: p.Summary, LogPath: p.LogPath, Reason: "interrupted during apply; run the stage again to re-plan and continue"})
	case err != nil:
		_ = r.record(Result{Stage: p.Stage, Outcome: Failed, Summary: p.Summary, LogPath: p.LogPath, Reason: err.Error()})
	}
	return err
}

// Verify runs the Nomad guard and the stage's checks after an apply; it
// records the stage applied when both pass.
func (r *Runner) Verify(ctx context.Context, s Stage, p *tfrunner.Plan) ([]CheckResult, error) {
	res := Result{Stage: s.Name}
	if p != nil {
		res.Summary, res.LogPath = p.Summary, p.LogPath
		if !p.Summary.HasChanges() && p.Refused == nil {
			// Nothing to apply: the plan still said the stage belongs.
			if err := r.commitEnabled(s.Name, true); err != nil {
				return nil, err
			}
		}
	}
	if err := r.guard(ctx, "after", s.Name); err != nil {
		var re *RegressionError
		if errors.As(err, &re) {
			res.Outcome, res.Regressions = NomadHurt, re.Regressions
			_ = r.record(res)
		}
		return nil, err
	}
	var results []CheckResult
	if post := r.Post[s.Name]; post != nil {
		changes, err := post.Run(ctx)
		if err != nil {
			res.Outcome, res.Reason = Failed, err.Error()
			_ = r.record(res)
			return nil, fmt.Errorf("stage %s after its apply: %w", s.Name, err)
		}
		evidence := "nothing to change"
		if len(changes) > 0 {
			evidence = strings.Join(changes, "; ")
		}
		results = append(results, CheckResult{ID: s.Name + "/post", Title: s.Title + " outside Terraform", Status: status.Pass, Evidence: evidence})
	}
	if r.Checks != nil {
		more, err := r.Checks.Verify(ctx, s)
		if err != nil {
			return nil, fmt.Errorf("verifying stage %s: %w", s.Name, err)
		}
		results = append(results, more...)
	}
	res.Checks = results
	var failed []CheckResult
	for _, c := range results {
		if c.Failed() {
			failed = append(failed, c)
		}
	}
	if len(failed) > 0 {
		res.Outcome = VerifyFail
		_ = r.record(res)
		return results, &VerifyError{Stage: s.Name, Failed: failed}
	}
	res.Outcome = Applied
	faultpoint.Hit(faultpoint.StagesBeforeRecord)
	return results, r.record(res)
}

// Skip records that the operator moved on past a stage whose checks failed.
func (r *Runner) Skip(s Stage, reason string) error {
	return r.record(Result{Stage: s.Name, Outcome: Skipped, Reason: reason})
}

// PlanRollback removes the stage from enabled_stages and plans; the plan
// destroys only the stage's own resources (anything else is refused).
func (r *Runner) PlanRollback(ctx context.Context, s Stage) (*tfrunner.Plan, error) {
	return r.planWith(ctx, s.Name, false)
}

// planWith plans with stage added to (or removed from) enabled_stages and
// then puts terraform.tfvars back as it was: the saved plan carries the
// variables, and the file changes only once the operator confirmed
// (commitEnabled, from Apply and ApplyRollback). Before, a declined plan
// left the stage enabled, and the next stage's plan created it without its
// pre-checks.
func (r *Runner) planWith(ctx context.Context, stage string, add bool) (*tfrunner.Plan, error) {
	prev, err := r.Vars.EnabledStages()
	if err != nil {
		return nil, err
	}
	want := withStage(prev, stage, add)
	changed := !slices.Equal(want, prev)
	if changed {
		if err := r.Vars.SetEnabledStages(want); err != nil {
			return nil, err
		}
		faultpoint.Hit(faultpoint.StagesAfterSetEnabled)
	}
	p, err := r.planOnly(ctx, stage)
	faultpoint.Hit(faultpoint.StagesAfterPlan)
	if changed {
		if rerr := r.Vars.SetEnabledStages(prev); rerr != nil {
			return nil, fmt.Errorf("putting enabled_stages back after the plan: %w", rerr)
		}
	}
	return p, err
}

func (r *Runner) planOnly(ctx context.Context, stage string) (*tfrunner.Plan, error) {
	if err := r.TF.Init(ctx); err != nil {
		return nil, err
	}
	return r.TF.Plan(ctx, stage)
}

// commitEnabled writes the confirmed enabled_stages before an apply.
func (r *Runner) commitEnabled(stage string, add bool) error {
	prev, err := r.Vars.EnabledStages()
	if err != nil {
		return err
	}
	if want := withStage(prev, stage, add); !slices.Equal(want, prev) {
		return r.Vars.SetEnabledStages(want)
	}
	return nil
}

// ApplyRollback applies a rollback plan and records the stage rolled back.
func (r *Runner) ApplyRollback(ctx context.Context, p *tfrunner.Plan, events chan<- tfrunner.Event) error {
	if p != nil && p.Refused == nil {
		if err := r.commitEnabled(p.Stage, false); err != nil {
			close(events)
			return err
		}
	}
	if err := r.TF.Apply(ctx, p, events); err != nil {
		return err
	}
	return r.record(Result{Stage: p.Stage, Outcome: RolledBack, Summary: p.Summary, LogPath: p.LogPath})
}

// ForceUnlock releases a stale state lock through the Terraform runner, when
// it can (tfrunner.Runner refuses unless the holder is provably gone and
// the operator confirmed).
func (r *Runner) ForceUnlock(ctx context.Context, le *tfrunner.LockError, confirmed bool) error {
	fu, ok := r.TF.(interface {
		ForceUnlock(ctx context.Context, le *tfrunner.LockError, confirmed bool) error
	})
	if !ok {
		return errors.New("this Terraform runner cannot force-unlock")
	}
	return fu.ForceUnlock(ctx, le, confirmed)
}
