// Package faultpoint lets a test kill migrate-tui at a named point, to
// prove a rerun recovers: with MIGRATE_TUI_FAULT=<point> set, Hit(<point>)
// sends SIGKILL to the process itself (no deferred cleanup runs, as with a
// power cut or kill -9). Unset, Hit does nothing but compare a string. It is
// compiled in always so the binary under test is the one shipped.
package faultpoint

import (
	"os"
	"syscall"
)

// Env names the point to die at.
const Env = "MIGRATE_TUI_FAULT"

// Named points (the README lists what a rerun promises after each).
const (
	AtomicBeforeRename    = "atomicfile.before-rename"    // temp file written and synced, not yet renamed
	DecideBetweenWrites   = "decide.between-tfvars-state" // terraform.tfvars written, state.json not
	CutoverAfterSaveSpec  = "cutover.after-save-spec"     // spec and intent recorded, job not stopped
	CutoverAfterStop      = "cutover.after-stop"          // Nomad job stopped, not yet recorded
	StagesAfterCommitVars = "stages.after-commit-enabled" // enabled_stages written, apply not started
)

var point = os.Getenv(Env)

// Hit kills the process when name is the point MIGRATE_TUI_FAULT names.
func Hit(name string) {
	if point == "" || point != name {
		return
	}
	_ = syscall.Kill(os.Getpid(), syscall.SIGKILL)
	select {} // SIGKILL cannot be caught; never return into the next step
}
