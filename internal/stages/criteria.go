package stages

import (
	"context"

	"migrate-tui/internal/checks"
)

// StageCriteria are the success-criteria checks (internal/checks IDs) a
// stage must also pass once applied: only those whose subject the stage
// completes (the services stage is the first with PoC workloads).
var StageCriteria = map[string][]string{
	"services": {"SC-001", "SC-003"},
}

// CriteriaVerifier runs a stage's success-criteria checks. Their status is
// kept as it is (one vocabulary); only a failure fails the stage.
type CriteriaVerifier struct {
	Deps func(ctx context.Context) (*checks.Deps, error)
	IDs  map[string][]string // default StageCriteria
	Opts checks.RunOptions
}

// Verify implements Verifier.
func (v CriteriaVerifier) Verify(ctx context.Context, s Stage) ([]CheckResult, error) {
	ids := v.IDs
	if ids == nil {
		ids = StageCriteria
	}
	if len(ids[s.Name]) == 0 {
		return nil, nil
	}
	d, err := v.Deps(ctx)
	if err != nil {
		return nil, err
	}
	rs, err := checks.RunIDs(ctx, ids[s.Name], d, v.Opts, nil)
	if err != nil {
		return nil, err
	}
	var out []CheckResult
	for _, r := range rs {
		out = append(out, CheckResult{ID: r.ID, Title: r.ID + " " + r.Title, Status: r.Status, Evidence: r.Evidence, Hint: r.Hint})
	}
	return out, nil
}

// Verifiers runs several verifiers and concatenates their results.
type Verifiers []Verifier

// Verify implements Verifier.
func (vs Verifiers) Verify(ctx context.Context, s Stage) ([]CheckResult, error) {
	var out []CheckResult
	for _, v := range vs {
		rs, err := v.Verify(ctx, s)
		if err != nil {
			return out, err
		}
		out = append(out, rs...)
	}
	return out, nil
}
