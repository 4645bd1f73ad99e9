package checks

import (
	"migrate-tui/internal/nomadwatch"
	"migrate-tui/internal/state"
)

// NomadFromState builds the Nomad seams for a repository: job resources and
// node memory always, and SC-005's comparison when the preflight step stored
// a baseline in the state (else the returned error says how to get one).
func NomadFromState(repo string, c *nomadwatch.Client) (NomadWatch, error) {
	w := NomadWatch{N: c}
	st, err := state.Load(repo)
	if err != nil {
		return w, err
	}
	b, err := st.Baseline()
	if err != nil {
		return w, err
	}
	w.Baseline = &b
	return w, nil
}
