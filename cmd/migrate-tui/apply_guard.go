package main

import (
	"context"
	"errors"

	"migrate-tui/internal/stages"
)

// nomadGuard compares Nomad with the preflight baseline kept in the state.
func nomadGuard(ctx context.Context, dir string) (stages.Guard, error) {
	return nil, errors.New("the Nomad guard needs the preflight baseline (run the wizard's preflight step first); not wired in this build yet")
}
