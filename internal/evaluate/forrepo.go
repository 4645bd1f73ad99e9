package evaluate

import (
	"context"

	"migrate-tui/internal/checks"
	"migrate-tui/internal/state"
)

// ForRepo is checks.ForRepo with the repository's state and the decision
// record evaluate keeps (SC-010's evidence plus the services moved and their
// VPA savings), so `check`, `evaluate`, `rightsize` and the wizard's verify
// and go/no-go screens check the same cluster and write the same record.
func ForRepo(ctx context.Context, repo string, o checks.RepoOptions) (*checks.Deps, *state.State, []string, error) {
	d, notes, err := checks.ForRepo(ctx, repo, o)
	if err != nil {
		return nil, nil, notes, err
	}
	st, err := state.Load(repo)
	if err != nil {
		return nil, nil, notes, err
	}
	d.Decision = DecisionFile(d, st, DecisionPath(repo))
	return d, st, notes, nil
}
