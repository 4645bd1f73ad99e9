package tfrunner

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/hashicorp/go-version"
	"github.com/hashicorp/terraform-exec/tfexec"
	tfjson "github.com/hashicorp/terraform-json"

	"migrate-tui/internal/faultpoint"
)

// Options configure a Runner.
type Options struct {
	// Dir is the Terraform working directory (the repository root with main.tf).
	Dir string
	// Binary is the tofu/terraform executable; empty means FindBinary("").
	Binary string
	// StateDir is migrate-tui's own directory (.migrate-tui under Dir by
	// default); logs go to StateDir/logs, saved plans to StateDir/plans.
	StateDir string
	// PluginCacheDir is TF_PLUGIN_CACHE_DIR; empty means the user cache
	// directory's migrate-tui/plugin-cache.
	PluginCacheDir string
	// Env adds to (and overrides) the process environment for Terraform,
	// e.g. TF_CLI_CONFIG_FILE.
	Env map[string]string
	// GracePeriod is how long Terraform gets after SIGINT before it is
	// killed (default 60 s).
	GracePeriod time.Duration
	// LockTimeout is Terraform's -lock-timeout (default 0s: fail at once
	// and explain).
	LockTimeout string
	// StatePath is the local state file, for diagnosing a held lock
	// (default Dir/terraform.tfstate).
	StatePath string
	// Now is the clock (tests).
	Now func() time.Time
}

// Runner runs one Terraform working directory. It is not safe for
// concurrent use: one plan or apply at a time.
type Runner struct {
	o       Options
	tf      *tfexec.Terraform
	Version *version.Version
}

// ErrInterrupted is wrapped by errors from a plan or apply stopped by ctx
// cancellation (Ctrl+C); Terraform got SIGINT and a grace period.
var ErrInterrupted = errors.New("interrupted")

// DiagnosticsError is a failed Terraform command with its error diagnostics.
type DiagnosticsError struct {
	Op          string
	Diagnostics []Diagnostic
	LogPath     string
	Err         error
}

func (e *DiagnosticsError) Error() string {
	var msgs []string
	for _, d := range e.Diagnostics {
		if d.Severity != "error" {
			continue
		}
		m := d.Summary
		if d.Address != "" {
			m = d.Address + ": " + m
		}
		if d.Detail != "" {
			m += " (" + strings.Join(strings.Fields(d.Detail), " ") + ")"
		}
		msgs = append(msgs, m)
	}
	if len(msgs) == 0 && e.Err != nil {
		msgs = append(msgs, strings.TrimSpace(e.Err.Error()))
	}
	s := fmt.Sprintf("%s failed: %s", e.Op, strings.Join(msgs, "; "))
	if e.LogPath != "" {
		s += "; the full log is " + e.LogPath
	}
	return s
}
func (e *DiagnosticsError) Unwrap() error { return e.Err }

// New checks the binary and its version and prepares a Runner.
func New(ctx context.Context, o Options) (*Runner, error) {
	if o.Dir == "" {
		return nil, errors.New("tfrunner: no working directory given")
	}
	dir, err := filepath.Abs(o.Dir)
	if err != nil {
		return nil, err
	}
	o.Dir = dir
	if o.Binary == "" {
		if o.Binary, err = FindBinary(""); err != nil {
			return nil, err
		}
	}
	if o.StateDir == "" {
		o.StateDir = filepath.Join(dir, ".migrate-tui")
	}
	if o.PluginCacheDir == "" {
		c, err := os.UserCacheDir()
		if err != nil {
			c = os.TempDir()
		}
		o.PluginCacheDir = filepath.Join(c, "migrate-tui", "plugin-cache")
	}
	if o.GracePeriod == 0 {
		o.GracePeriod = 60 * time.Second
	}
	if o.LockTimeout == "" {
		o.LockTimeout = "0s"
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	for _, d := range []string{o.PluginCacheDir, filepath.Join(o.StateDir, "logs"), filepath.Join(o.StateDir, "plans")} {
		if err := os.MkdirAll(d, 0o700); err != nil {
			return nil, fmt.Errorf("creating %s: %w", d, err)
		}
	}
	tf, err := tfexec.NewTerraform(dir, o.Binary)
	if err != nil {
		return nil, err
	}
	env := map[string]string{}
	for _, kv := range os.Environ() {
		k, v, _ := strings.Cut(kv, "=")
		env[k] = v
	}
	for k, v := range o.Env {
		env[k] = v
	}
	env["TF_PLUGIN_CACHE_DIR"] = o.PluginCacheDir
	env["CHECKPOINT_DISABLE"] = "1"
	if err := tf.SetEnv(tfexec.CleanEnv(env)); err != nil {
		return nil, err
	}
	if err := tf.SetWaitDelay(o.GracePeriod); err != nil {
		return nil, err
	}
	r := &Runner{o: o, tf: tf}
	if r.Version, err = checkVersion(ctx, tf, o.Binary); err != nil {
		return nil, err
	}
	return r, nil
}

// Binary is the executable the runner uses.
func (r *Runner) Binary() string { return r.o.Binary }

// LogDir is where the per-stage logs are written.
func (r *Runner) LogDir() string { return filepath.Join(r.o.StateDir, "logs") }

// Init runs `init` (plugins from the cache), logging to logs/init.log.
func (r *Runner) Init(ctx context.Context) error {
	f, err := os.OpenFile(filepath.Join(r.LogDir(), "init.log"), os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o600)
	if err != nil {
		return err
	}
	defer f.Close()
	r.tf.SetStdout(f)
	r.tf.SetStderr(f)
	defer r.tf.SetStdout(nil)
	defer r.tf.SetStderr(nil)
	faultpoint.Hit(faultpoint.TFBeforeInit)
	if err := r.tf.Init(ctx, tfexec.Upgrade(false)); err != nil {
		if ctx.Err() != nil {
			return fmt.Errorf("%s init: %w", Product(r.o.Binary), ErrInterrupted)
		}
		return fmt.Errorf("%s init in %s failed: %s; the full log is %s", Product(r.o.Binary), r.o.Dir, firstLine(err), f.Name())
	}
	faultpoint.Hit(faultpoint.TFAfterInit)
	return nil
}

func firstLine(err error) string {
	s := strings.TrimSpace(err.Error())
	for _, l := range strings.Split(s, "\n") {
		if l = strings.TrimSpace(l); l != "" && !strings.HasPrefix(l, "exit status") {
			return l
		}
	}
	return s
}

// Plan is a saved plan for one stage.
type Plan struct {
	Stage   string
	File    string // the saved plan (0600, removed after apply)
	LogPath string
	Summary Summary
	JSON    *tfjson.Plan
	// Refused is set when the plan destroys outside the stage; it cannot be applied.
	Refused *DestroyOutsideError
}

// Plan runs `plan -out` for stage, decodes the saved plan and checks it
// destroys nothing outside the stage. A refused plan is returned together
// with a *DestroyOutsideError.
func (r *Runner) Plan(ctx context.Context, stage string) (*Plan, error) {
	now := r.o.Now()
	p := &Plan{
		Stage:   stage,
		File:    filepath.Join(r.o.StateDir, "plans", stage+".tfplan"),
		LogPath: filepath.Join(r.LogDir(), fmt.Sprintf("%s-%s.log", stage, now.UTC().Format("20060102T150405Z"))),
	}
	logf, err := os.OpenFile(p.LogPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return nil, fmt.Errorf("opening the stage log: %w", err)
	}
	defer logf.Close()
	dec := &decoder{stage: stage, start: now, now: r.o.Now}
	lw := &lineWriter{log: func(b []byte) { logf.Write(b) }, line: dec.line}
	r.tf.SetStderr(logf)
	defer r.tf.SetStdout(nil)
	defer r.tf.SetStderr(nil)
	_, err = r.tf.PlanJSON(ctx, lw, tfexec.Out(p.File), tfexec.LockTimeout(r.o.LockTimeout))
	lw.flush()
	r.tf.SetStdout(nil)
	if err != nil {
		return nil, r.commandError(ctx, "plan of stage "+stage, dec.diags, p.LogPath, err)
	}
	_ = os.Chmod(p.File, 0o600)
	if p.JSON, err = r.tf.ShowPlanFile(ctx, p.File); err != nil {
		return nil, fmt.Errorf("reading the saved plan %s: %w", p.File, err)
	}
	p.Summary = Summarize(p.JSON)
	if err := CheckScope(stage, p.Summary); err != nil {
		p.Refused = err.(*DestroyOutsideError)
		os.Remove(p.File)
		return p, err
	}
	return p, nil
}

func (r *Runner) commandError(ctx context.Context, op string, diags []Diagnostic, logPath string, err error) error {
	if ctx.Err() != nil {
		return fmt.Errorf("%s: %w (Terraform was sent SIGINT and stopped; the log is %s)", op, ErrInterrupted, logPath)
	}
	for _, d := range diags {
		if d.Severity == "error" && strings.Contains(d.Summary, lockSummary) {
			return lockErrorFrom(d, r.o.Dir, r.o.StatePath)
		}
	}
	return &DiagnosticsError{Op: op, Diagnostics: diags, LogPath: logPath, Err: err}
}

// Apply applies the saved plan, sending typed progress events on events
// (which it closes when done; the caller must keep reading until then).
// Cancelling ctx sends Terraform SIGINT and waits up to the grace period; the
// error then wraps ErrInterrupted and the stage must be planned again.
func (r *Runner) Apply(ctx context.Context, p *Plan, events chan<- Event) (err error) {
	var once sync.Once
	closeEvents := func() { once.Do(func() { close(events) }) }
	defer closeEvents()
	if p == nil || p.Refused != nil {
		if p != nil {
			return p.Refused
		}
		return errors.New("no plan to apply")
	}
	defer os.Remove(p.File) // a saved plan is stale after any apply attempt
	logf, err := os.OpenFile(p.LogPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return fmt.Errorf("opening the stage log: %w", err)
	}
	defer logf.Close()
	start := r.o.Now()
	dec := &decoder{stage: p.Stage, start: start, total: p.Summary.Steps, now: r.o.Now,
		emit: func(e Event) { faultpoint.Hit(faultpoint.TFDuringApply); events <- e }}
	events <- Event{Kind: EventApplyStart, Stage: p.Stage, Time: start, Total: p.Summary.Steps}
	lw := &lineWriter{log: func(b []byte) { logf.Write(b) }, line: dec.line}
	r.tf.SetStderr(logf)
	defer r.tf.SetStdout(nil)
	defer r.tf.SetStderr(nil)
	faultpoint.Hit(faultpoint.TFBeforeApply)
	err = r.tf.ApplyJSON(ctx, lw, tfexec.DirOrPlan(p.File), tfexec.LockTimeout(r.o.LockTimeout))
	lw.flush()
	if err != nil {
		err = r.commandError(ctx, "apply of stage "+p.Stage, dec.diags, p.LogPath, err)
	} else {
		faultpoint.Hit(faultpoint.TFAfterApply)
	}
	done := Event{Kind: EventApplyDone, Stage: p.Stage, Time: r.o.Now(), Done: dec.done, Failed: dec.failed, Total: dec.total}
	done.Elapsed = done.Time.Sub(start)
	if err != nil {
		done.Err = err.Error()
	}
	events <- done
	return err
}

// ForceUnlock releases a lock whose holder is provably gone. confirmed must
// come from the operator; without it, or for a live holder, it refuses.
func (r *Runner) ForceUnlock(ctx context.Context, le *LockError, confirmed bool) error {
	if le == nil || !le.Stale() {
		return errors.New("force-unlock refused: the lock's holder is not provably gone")
	}
	if !confirmed {
		return errors.New("force-unlock refused: not confirmed")
	}
	if err := r.tf.ForceUnlock(ctx, le.Info.ID); err != nil {
		return fmt.Errorf("force-unlock of lock %s: %s", le.Info.ID, firstLine(err))
	}
	return nil
}

// WriteLog is a helper for callers that want a line in the stage log.
func WriteLog(path, line string) error {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return err
	}
	defer f.Close()
	_, err = io.WriteString(f, line+"\n")
	return err
}

// State reads the current state (`show -json`), for verifying a stage's objects.
func (r *Runner) State(ctx context.Context) (*tfjson.State, error) {
	defer r.tf.SetStdout(nil)
	s, err := r.tf.Show(ctx)
	if err != nil {
		return nil, fmt.Errorf("reading the Terraform state in %s: %s", r.o.Dir, firstLine(err))
	}
	return s, nil
}

// Outputs reads the root module's outputs (`output -json`) as raw JSON
// values; sensitive outputs are left out.
func (r *Runner) Outputs(ctx context.Context) (map[string]json.RawMessage, error) {
	defer r.tf.SetStdout(nil)
	outs, err := r.tf.Output(ctx)
	if err != nil {
		return nil, fmt.Errorf("reading the Terraform outputs in %s: %s", r.o.Dir, firstLine(err))
	}
	m := map[string]json.RawMessage{}
	for k, v := range outs {
		if v.Sensitive {
			continue
		}
		m[k] = v.Value
	}
	return m, nil
}
