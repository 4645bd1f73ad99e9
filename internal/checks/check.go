// Package checks holds migrate-tui's live checks: the spec's success criteria
// (SC-001..SC-010) as data, a runner that runs them concurrently with a bound
// and a per-check timeout, and renderers (table, JSON) for their results.
//
// A check is a value: an ID, a title, what it proves, a default hint and a
// Run function that looks at the cluster, Nomad or Terraform through the
// dependencies it is handed (Deps) and returns a status with evidence.
package checks

import (
	"context"
	"fmt"
	"time"

	"migrate-tui/internal/status"
)

// Status is the outcome of one check: the one vocabulary of internal/status.
type Status = status.Status

const (
	Pass         = status.Pass
	Fail         = status.Fail
	Warn         = status.Warn
	Skip         = status.Skip
	Unobservable = status.Unobservable
)

// Result is what a check found. The runner fills ID, Title and Duration.
type Result struct {
	ID       string        `json:"id"`
	Title    string        `json:"title"`
	Status   Status        `json:"status"`
	Evidence string        `json:"evidence"`
	Hint     string        `json:"hint"`
	Duration time.Duration `json:"-"`
}

// Check is one live check.
type Check struct {
	ID     string
	Title  string
	Proves string // what a pass proves, one sentence
	Hint   string // the default next step when it does not pass
	// Eventually marks a check whose subject converges (a rollout, a sync):
	// the runner re-runs it on a fresh snapshot until it passes or the
	// runner's Wait elapses, and reports the last result.
	Eventually bool
	// Final checks run after every other selected check and receive their
	// results in Deps.Prior (SC-010 summarises the others).
	Final bool
	Run   func(ctx context.Context, d *Deps) Result
}

// Outcome helpers keep Run functions short.
func pass(evidence string) Result { return Result{Status: Pass, Evidence: evidence} }
func fail(evidence, hint string) Result {
	return Result{Status: Fail, Evidence: evidence, Hint: hint}
}
func warn(evidence, hint string) Result {
	return Result{Status: Warn, Evidence: evidence, Hint: hint}
}
func skip(evidence, hint string) Result {
	return Result{Status: Skip, Evidence: evidence, Hint: hint}
}

// unobservable is for what this environment cannot run (the sandbox's
// simulated nodes): neither a pass nor a failure, counted apart.
func unobservable(evidence, hint string) Result {
	return Result{Status: Unobservable, Evidence: evidence, Hint: hint}
}

// All returns the success-criteria checks in ID order.
func All() []Check {
	return []Check{
		sc001(), sc002(), sc003(), sc004(), sc005(),
		sc006(), sc007(), sc008(), sc009(), sc010(),
	}
}

// ByID returns the check with id from All.
func ByID(id string) (Check, bool) {
	for _, c := range All() {
		if c.ID == id {
			return c, true
		}
	}
	return Check{}, false
}

// Select filters checks: only (if non-empty) keeps those IDs, skip drops them.
// Unknown IDs are returned so a caller can refuse them.
func Select(all []Check, only, skipIDs []string) (selected []Check, unknown []string) {
	known := map[string]bool{}
	for _, c := range all {
		known[c.ID] = true
	}
	want := map[string]bool{}
	for _, id := range only {
		if !known[id] {
			unknown = append(unknown, id)
		}
		want[id] = true
	}
	drop := map[string]bool{}
	for _, id := range skipIDs {
		if !known[id] {
			unknown = append(unknown, id)
		}
		drop[id] = true
	}
	for _, c := range all {
		if len(want) > 0 && !want[c.ID] {
			continue
		}
		if drop[c.ID] {
			continue
		}
		selected = append(selected, c)
	}
	return selected, unknown
}

// RunIDs runs the checks with these IDs (a stage's "verify"); an unknown ID
// is an error, not a silent skip.
func RunIDs(ctx context.Context, ids []string, d *Deps, o RunOptions, obs Observer) ([]Result, error) {
	var cs []Check
	for _, id := range ids {
		c, ok := ByID(id)
		if !ok {
			return nil, fmt.Errorf("unknown check %q (known: SC-001 … SC-010)", id)
		}
		cs = append(cs, c)
	}
	return Run(ctx, cs, d, o, obs), nil
}
