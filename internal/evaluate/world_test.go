package evaluate_test

import (
	"testing"

	"migrate-tui/internal/nomadsim"
	"migrate-tui/internal/nomadwatch"
	"migrate-tui/internal/testworld"
)

// world is the package's test world with metrics and the real VPA
// recommender, started once in TestMain.
var world *testworld.World

func TestMain(m *testing.M) {
	testworld.Main(m, "evaluate", testworld.Options{Controllers: true, KWOK: true, Metrics: true, VPARecommender: true, CRDs: true}, &world)
}

// startNomad starts the Nomad simulator (its seeded homelab jobs) on loopback.
func startNomad(t testing.TB) *nomadwatch.Client {
	t.Helper()
	_, c := nomadsim.StartT(t, nomadsim.Options{Token: "evaluate-test-token"})
	return c
}
