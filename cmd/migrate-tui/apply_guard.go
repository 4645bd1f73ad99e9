package main

import (
	"context"
	"os"

	"migrate-tui/internal/nomadwatch"
	"migrate-tui/internal/stages"
	"migrate-tui/internal/state"
)

// nomadGuard compares Nomad with the preflight baseline kept in the state.
// The address is NOMAD_ADDR, else the one preflight used; the token comes
// only from the environment (NOMAD_TOKEN), never from the state.
func nomadGuard(ctx context.Context, dir string) (stages.Guard, error) {
	st, err := state.Load(dir)
	if err != nil {
		return nil, err
	}
	base, err := st.Baseline()
	if err != nil {
		return nil, err
	}
	addr := os.Getenv("NOMAD_ADDR")
	if addr == "" && st.Preflight != nil {
		addr = st.Preflight.NomadAddr
	}
	nc, err := nomadwatch.NewClient(addr, "")
	if err != nil {
		return nil, err
	}
	return stages.NomadGuard{Nomad: nc, Baseline: base}, nil
}
