package checks_test

import (
	"context"
	"testing"

	"migrate-tui/internal/checks"
	"migrate-tui/internal/nomadwatch"
)

func TestSC005(t *testing.T) {
	t.Parallel()
	sim, nc := startNomad(t)
	base, err := nomadwatch.TakeBaseline(context.Background(), nc)
	must(t, err)
	d := &checks.Deps{NomadHealth: checks.NomadWatch{N: nc, Baseline: &base}}
	expect(t, runOne(t, "SC-005", d, checks.RunOptions{}), checks.Pass, "jobs as in the baseline")

	must(t, sim.FailAllocation("whoami"))
	expect(t, runOne(t, "SC-005", d, checks.RunOptions{}), checks.Fail, "regression(s) since the baseline", "whoami")

	t.Run("no baseline", func(t *testing.T) {
		expect(t, runOne(t, "SC-005", &checks.Deps{}, checks.RunOptions{}), checks.Skip)
	})
	t.Run("Nomad gone", func(t *testing.T) {
		sim2, nc2 := startNomad(t)
		b2, err := nomadwatch.TakeBaseline(context.Background(), nc2)
		must(t, err)
		must(t, sim2.Close())
		expect(t, runOne(t, "SC-005", &checks.Deps{NomadHealth: checks.NomadWatch{N: nc2, Baseline: &b2}}, checks.RunOptions{}), checks.Fail, "unreachable")
	})
}
