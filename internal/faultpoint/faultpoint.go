// Package faultpoint lets a test kill migrate-tui at a named point, to
// prove a rerun recovers: with MIGRATE_TUI_FAULT=<point> set, Hit(<point>)
// sends SIGKILL to the process itself (no deferred cleanup runs, as with a
// power cut or kill -9). Unset, Hit does nothing but compare a string. It is
// compiled in always so the binary under test is the one shipped.
//
// A test knows the point was reached (not some earlier crash) from the
// marker: with MIGRATE_TUI_FAULT_MARKER=<file>, Hit appends the point's name
// and a newline to that file, synced, before the signal. With
// MIGRATE_TUI_FAULT_SIGNAL=INT, Hit sends SIGINT (an operator's Ctrl+C)
// instead and returns, so the run's own interrupt handling is what is
// tested.
package faultpoint

import (
	"context"
	"os"
	"sync/atomic"
	"syscall"
)

// Env names the point to die at; MarkerEnv the file the point's name is
// appended to when reached; SignalEnv "INT" for SIGINT instead of SIGKILL.
const (
	Env       = "MIGRATE_TUI_FAULT"
	MarkerEnv = "MIGRATE_TUI_FAULT_MARKER"
	SignalEnv = "MIGRATE_TUI_FAULT_SIGNAL"
)

// Named points (the README lists what a rerun promises after each).
const (
	AtomicBeforeRename    = "atomicfile.before-rename"    // temp file written and synced, not yet renamed
	DecideBetweenWrites   = "decide.between-tfvars-state" // terraform.tfvars written, state.json not
	CutoverAfterSaveSpec  = "cutover.after-save-spec"     // spec and intent recorded, job not stopped
	CutoverAfterStop      = "cutover.after-stop"          // Nomad job stopped, not yet recorded
	StagesAfterCommitVars = "stages.after-commit-enabled" // enabled_stages written, apply not started

	PreflightBeforeSave      = "preflight.before-save"            // checks done, nothing saved
	ClusterAdoptAfterTFVars  = "cluster.adopt-after-tfvars"       // kubeconfig_path written, stage not recorded
	StagesAfterSetEnabled    = "stages.after-set-enabled"         // enabled_stages widened for the plan, plan not run
	StagesAfterPlan          = "stages.after-plan"                // plan saved, enabled_stages not put back
	TFBeforeInit             = "tfrunner.before-init"             // nothing run yet
	TFAfterInit              = "tfrunner.after-init"              // init done, no plan
	TFBeforeApply            = "tfrunner.before-apply"            // plan saved, apply not started
	TFDuringApply            = "tfrunner.during-apply"            // apply running: its first resource event seen
	TFAfterApply             = "tfrunner.after-apply"             // apply done, its result not seen by the stage
	StagesAfterApply         = "stages.after-apply-before-verify" // applied, not verified or recorded
	StagesBeforeRecord       = "stages.before-record-applied"     // verified, not recorded
	VaultAfterAuthEnable     = "vaultsetup.after-auth-enable"     // auth mount there, not configured
	VaultAfterConfig         = "vaultsetup.after-config"          // auth configured, no policies or roles
	TLSAfterNamespace        = "tlssecret.after-namespace"        // namespace there, Secret not
	CutoverAfterRecordStop   = "cutover.after-record-stopped"     // job stopped and recorded, other jobs not guarded
	CutoverBeforeRouting     = "cutover.before-routing"           // verified, the traffic switch not made
	CutoverAfterSwitch       = "cutover.after-switch"             // traffic switched by the router, not recorded
	CutoverStopWait          = "cutover.stop-wait"                // stop sent, waiting for the allocations
	RollbackAfterMarkRolling = "cutover.rollback-after-mark"      // rolling-back recorded, nothing registered
	RollbackAfterRegister    = "cutover.rollback-after-register"  // spec registered again, not waited for or recorded
	RollbackBeforeRecord     = "cutover.rollback-before-record"   // job runs again, not recorded
	RollbackBeforeUnswitch   = "cutover.rollback-before-unswitch" // job runs again and recorded, route not removed
)

var (
	point  = os.Getenv(Env)
	marker = os.Getenv(MarkerEnv)
	sigint = os.Getenv(SignalEnv) == "INT"
	fired  atomic.Bool // SIGINT mode: sent once
)

// Hit kills the process when name is the point MIGRATE_TUI_FAULT names
// (or, with MIGRATE_TUI_FAULT_SIGNAL=INT, interrupts it once and returns).
func Hit(name string) {
	if point == "" || point != name || (sigint && !fired.CompareAndSwap(false, true)) {
		return
	}
	if marker != "" {
		if f, err := os.OpenFile(marker, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600); err == nil {
			_, _ = f.WriteString(name + "\n")
			_ = f.Sync()
			_ = f.Close()
		}
	}
	if sigint {
		_ = syscall.Kill(os.Getpid(), syscall.SIGINT)
		return
	}
	_ = syscall.Kill(os.Getpid(), syscall.SIGKILL)
	select {} // SIGKILL cannot be caught; never return into the next step
}

// HitCtx is Hit at a point inside a wait that ctx bounds. With
// MIGRATE_TUI_FAULT_SIGNAL=INT it sends SIGINT and returns only once ctx is
// done, so the wait deterministically sees the interruption the run's own
// SIGINT handling caused (a run that does not handle SIGINT dies of it,
// which the test sees too).
func HitCtx(ctx context.Context, name string) {
	if point == "" || point != name {
		return
	}
	Hit(name)
	if sigint {
		<-ctx.Done()
	}
}
