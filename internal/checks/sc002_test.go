package checks_test

import (
	"context"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"migrate-tui/internal/checks"
	"migrate-tui/internal/nomadsim"
	"migrate-tui/internal/nomadwatch"
)

var gvrVPA = schema.GroupVersionResource{Group: "autoscaling.k8s.io", Version: "v1", Resource: "verticalpodautoscalers"}

func vpa(name string, recommenders ...string) map[string]any {
	spec := map[string]any{
		"targetRef":    map[string]any{"apiVersion": "apps/v1", "kind": "Deployment", "name": name},
		"updatePolicy": map[string]any{"updateMode": "Off"},
	}
	if len(recommenders) > 0 {
		var rs []any
		for _, r := range recommenders {
			rs = append(rs, map[string]any{"name": r})
		}
		spec["recommenders"] = rs
	}
	return map[string]any{"apiVersion": "autoscaling.k8s.io/v1", "kind": "VerticalPodAutoscaler",
		"metadata": map[string]any{"name": name}, "spec": spec}
}

// startNomad starts the Nomad simulator on loopback.
func startNomad(t testing.TB) (*nomadsim.Server, *nomadwatch.Client) {
	t.Helper()
	s, c := nomadsim.StartT(t, nomadsim.Options{Token: "sc-test-token"})
	return s, c
}

func TestSC002(t *testing.T) {
	t.Parallel()
	ns := world.Namespace(t)
	_, nc := startNomad(t)
	deploy(t, ns, svcSpec{name: "whoami"})
	deploy(t, ns, svcSpec{name: "echo"})
	deploy(t, ns, svcSpec{name: "overseerr"})
	createU(t, gvrVPA, ns, vpa("whoami"))
	// Served by a recommender that does not run: never gets a recommendation.
	createU(t, gvrVPA, ns, vpa("echo", "not-running"))
	waitRolledOut(t, ns, "whoami")

	// The real recommender needs a few metric samples.
	waitFor(t, "a recommendation for whoami", 4*time.Minute, func(ctx context.Context) (bool, error) {
		u, err := world.Dynamic.Resource(gvrVPA).Namespace(ns).Get(ctx, "whoami", metav1.GetOptions{})
		if err != nil {
			return false, err
		}
		crs, _, _ := unstructured.NestedSlice(u.Object, "status", "recommendation", "containerRecommendations")
		return len(crs) > 0, nil
	})

	t.Run("pass with Nomad resources beside", func(t *testing.T) {
		d := deps(ns, "whoami")
		d.Nomad = checks.NomadWatch{N: nc}
		r := runOne(t, "SC-002", d, checks.RunOptions{})
		expect(t, r, checks.Pass, "whoami/whoami: target cpu", "requests cpu 50m mem 64Mi", "Nomad whoami/whoami cpu 50 MHz mem 32 MB")
	})
	t.Run("warming up", func(t *testing.T) {
		r := runOne(t, "SC-002", deps(ns, "whoami", "echo"), checks.RunOptions{})
		expect(t, r, checks.Warn, "echo/echo: VPA echo has no recommendation yet")
	})
	t.Run("no recommendation after 24h", func(t *testing.T) {
		d := deps(ns, "whoami", "echo")
		d.Now = func() time.Time { return time.Now().Add(25 * time.Hour) }
		r := runOne(t, "SC-002", d, checks.RunOptions{})
		expect(t, r, checks.Fail, "echo/echo: VPA echo has no recommendation yet")
	})
	t.Run("no VPA", func(t *testing.T) {
		r := runOne(t, "SC-002", deps(ns, "whoami", "overseerr"), checks.RunOptions{})
		expect(t, r, checks.Fail, "overseerr: no VerticalPodAutoscaler targets Deployment overseerr")
	})
}
