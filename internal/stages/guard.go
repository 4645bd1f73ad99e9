package stages

import (
	"context"

	"migrate-tui/internal/nomadwatch"
)

// NomadGuard compares Nomad now with the preflight baseline.
type NomadGuard struct {
	Nomad    nomadwatch.Nomad
	Baseline nomadwatch.Baseline
}

// Regressions takes a fresh baseline and lists what got worse.
func (g NomadGuard) Regressions(ctx context.Context) ([]Regression, error) {
	now, err := nomadwatch.TakeBaseline(ctx, g.Nomad)
	if err != nil {
		return nil, err
	}
	var out []Regression
	for _, r := range nomadwatch.Compare(g.Baseline, now) {
		out = append(out, Regression{Job: r.Job, What: r.Message})
	}
	return out, nil
}
