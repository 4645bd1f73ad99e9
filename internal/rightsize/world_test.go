package rightsize_test

import (
	"context"
	"testing"
	"time"

	"migrate-tui/internal/checks"
	"migrate-tui/internal/nomadsim"
	"migrate-tui/internal/nomadwatch"
	"migrate-tui/internal/testworld"
)

// world is the package's test world with metrics and the real VPA
// recommender, started once in TestMain.
var world *testworld.World

func TestMain(m *testing.M) {
	testworld.Main(m, "rightsize", testworld.Options{Controllers: true, KWOK: true, Metrics: true, VPARecommender: true, CRDs: true}, &world)
}

func deps(ns string, services ...string) *checks.Deps {
	dec := checks.DefaultDecisions()
	dec.PoCNamespace = ns
	dec.PoCServices = services
	return &checks.Deps{Kube: world.Client, Dynamic: world.Dynamic, Decisions: dec}
}

// startNomad starts the Nomad simulator (its seeded homelab jobs) on loopback.
func startNomad(t testing.TB) *nomadwatch.Client {
	t.Helper()
	_, c := nomadsim.StartT(t, nomadsim.Options{Token: "rightsize-test-token"})
	return c
}

func ctxT(t testing.TB, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}
