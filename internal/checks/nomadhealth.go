package checks

import (
	"migrate-tui/internal/nomadwatch"
	"migrate-tui/internal/state"
)

// NomadFromState builds the Nomad seams from a loaded state (nil: none):
// job resources and node memory always, and SC-005's comparison when the
// preflight step stored a baseline in the state (else the returned error
// says how to get one).
func NomadFromState(st *state.State, c *nomadwatch.Client) (NomadWatch, error) {
	w := NomadWatch{N: c}
	b, err := st.Baseline()
	if err != nil {
		return w, err
	}
	w.Baseline = &b
	return w, nil
}
