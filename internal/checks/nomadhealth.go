package checks

import (
	"errors"
	"fmt"

	nomadapi "github.com/hashicorp/nomad/api"

	"migrate-tui/internal/state"
)

// NomadHealthFromState builds SC-005's comparison from the baseline the
// preflight step stored in the repository's state.
func NomadHealthFromState(repo string, c *nomadapi.Client) (NomadHealth, error) {
	st, err := state.Load(repo)
	if err != nil {
		return nil, err
	}
	if st == nil || st.Preflight == nil || len(st.Preflight.Baseline) == 0 {
		return nil, errors.New("no Nomad baseline in the state: run the wizard's preflight step first")
	}
	return nil, fmt.Errorf("baseline found but this build cannot compare it yet")
}
