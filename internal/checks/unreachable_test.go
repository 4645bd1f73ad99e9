package checks_test

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"migrate-tui/internal/checks"
	"migrate-tui/internal/testworld"
)

// The API server dies in the middle of a run: every check that still needs
// it fails with "unreachable", nothing passes, and the run ends.
func TestAPIServerStoppedMidRun(t *testing.T) {
	t.Parallel()
	ctx := ctxT(t, 3*time.Minute)
	own, err := testworld.Start(ctx, testworld.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = own.Stop() })
	d := &checks.Deps{Kube: own.Client, Dynamic: own.Dynamic, Decisions: checks.DefaultDecisions()}
	// SC-001 runs first and alone; the server stops as soon as it reports.
	var once sync.Once
	stopper := checks.ObserverFunc(func(r checks.Result) {
		once.Do(func() {
			if err := own.StopAPIServer(); err != nil {
				t.Error(err)
			}
		})
	})
	rs := checks.Run(ctx, checks.All(), d, checks.RunOptions{Concurrency: 1, Timeout: 30 * time.Second}, stopper)
	mustSay := map[string]bool{"SC-002": true, "SC-004": true, "SC-008": true, "SC-009": true, "SC-010": true}
	for _, r := range rs {
		t.Logf("%s %s: %s", r.ID, r.Status, r.Evidence)
		if r.Status == checks.Pass {
			t.Errorf("%s passed with the API server gone", r.ID)
		}
		if mustSay[r.ID] && (r.Status != checks.Fail || !strings.Contains(r.Evidence, "unreachable")) {
			t.Errorf("%s: %s %q, want fail unreachable", r.ID, r.Status, r.Evidence)
		}
	}
}

// A cluster without the metrics API: SC-010 fails and says what is missing.
func TestSC010WithoutMetricsAPI(t *testing.T) {
	t.Parallel()
	ctx := ctxT(t, 3*time.Minute)
	own, err := testworld.Start(ctx, testworld.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = own.Stop() })
	d := &checks.Deps{Kube: own.Client, Dynamic: own.Dynamic, Decisions: checks.DefaultDecisions()}
	c, _ := checks.ByID("SC-010")
	r := checks.Run(context.Background(), []checks.Check{c}, d, checks.RunOptions{}, nil)[0]
	expect(t, r, checks.Fail, "node metrics (metrics.k8s.io)")
	if !strings.Contains(r.Hint, "kubectl top nodes") {
		t.Errorf("hint %q", r.Hint)
	}
}
