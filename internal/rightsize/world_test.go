package rightsize_test

import (
	"context"
	"fmt"
	"os"
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
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	w, err := testworld.Start(ctx, testworld.Options{Controllers: true, KWOK: true, Metrics: true, VPARecommender: true, CRDs: true})
	cancel()
	if err != nil {
		fmt.Fprintln(os.Stderr, "rightsize tests need the test world:", err)
		os.Exit(1)
	}
	world = w
	code := m.Run()
	if err := w.Stop(); err != nil {
		fmt.Fprintln(os.Stderr, "stopping the test world:", err)
	}
	os.Exit(code)
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
	s := nomadsim.New(nomadsim.Options{Token: "rightsize-test-token"})
	if err := s.Start("127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	c, err := nomadwatch.NewClient(s.URL(), s.Token())
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func ctxT(t testing.TB, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}
