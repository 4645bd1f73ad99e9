package nomadwatch

import "migrate-tui/internal/nomadrecord"

// The records this package takes from a live Nomad live in
// internal/nomadrecord (plain data the state file stores without Nomad's
// client); these names keep this package's callers as they were.
type (
	Baseline   = nomadrecord.Baseline
	JobState   = nomadrecord.JobState
	GroupState = nomadrecord.GroupState
	AllocState = nomadrecord.AllocState
	TaskState  = nomadrecord.TaskState
	Node       = nomadrecord.Node
	Kind       = nomadrecord.Kind
	Regression = nomadrecord.Regression
)

// BaselineVersion is the schema version of Baseline's JSON.
const BaselineVersion = nomadrecord.BaselineVersion

// Kinds of regression (nomadrecord's).
const (
	KindJobMissing     = nomadrecord.KindJobMissing
	KindJobStopped     = nomadrecord.KindJobStopped
	KindJobDead        = nomadrecord.KindJobDead
	KindGroupDegraded  = nomadrecord.KindGroupDegraded
	KindAllocFailed    = nomadrecord.KindAllocFailed
	KindAllocLost      = nomadrecord.KindAllocLost
	KindAllocUnhealthy = nomadrecord.KindAllocUnhealthy
	KindTaskRestarted  = nomadrecord.KindTaskRestarted
	KindFailedCount    = nomadrecord.KindFailedCount
)

// Compare lists what got worse between two baselines (nomadrecord.Compare).
func Compare(before, after Baseline) []Regression { return nomadrecord.Compare(before, after) }
