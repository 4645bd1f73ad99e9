// Package status is migrate-tui's one result vocabulary: every check —
// a success criterion (internal/checks), a stage's verify
// (internal/stages), the cutover gate (internal/cutover) — ends in one of
// these, shown with one mark and one style wherever it is printed.
//
// Unobservable is its own outcome, not a kind of pass or failure: what a
// check needs cannot be seen from here (the sandbox's simulated nodes run
// no mesh data plane, no Helm controller). It is counted apart, never
// shown as a pass, and does not fail a run by itself.
package status

// Status is the outcome of one check. Its string is the JSON spelling.
type Status string

const (
	Pass         Status = "pass"
	Warn         Status = "warn" // the operator must know; it does not fail
	Fail         Status = "fail"
	Skip         Status = "skip" // not run (deselected, nothing to check)
	Unobservable Status = "unobservable"
)

// All lists the statuses in the order summaries count them.
var All = []Status{Pass, Warn, Fail, Skip, Unobservable}

// String is the JSON spelling.
func (s Status) String() string { return string(s) }

// Mark is the status as one character, the same in every table, screen
// and log line.
func (s Status) Mark() string {
	switch s {
	case Pass:
		return "✓"
	case Warn:
		return "!"
	case Fail:
		return "✗"
	case Unobservable:
		return "?"
	case Skip:
		return "-"
	}
	return "·"
}

// OK reports whether s lets a run go on: a pass or a warning. Skip and
// Unobservable are neither; callers decide whether they block.
func (s Status) OK() bool { return s == Pass || s == Warn }

// Known reports whether s is one of All (for decoding).
func (s Status) Known() bool {
	for _, k := range All {
		if s == k {
			return true
		}
	}
	return false
}
