package rightsize_test

import (
	"context"
	"fmt"
	"os"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"

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

var gvrVPA = schema.GroupVersionResource{Group: "autoscaling.k8s.io", Version: "v1", Resource: "verticalpodautoscalers"}

func ctxT(t testing.TB, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}

// deploy creates a one-replica Deployment named like the service whose pod
// KWOK reports as using cpu and mem.
func deploy(t testing.TB, ns, name, cpu, mem string) {
	t.Helper()
	labels := map[string]string{"app.kubernetes.io/name": name}
	one := int32(1)
	dep := &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Name: name, Labels: labels},
		Spec: appsv1.DeploymentSpec{
			Replicas: &one,
			Selector: &metav1.LabelSelector{MatchLabels: labels},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: labels, Annotations: map[string]string{
					"kwok.x-k8s.io/usage-cpu": cpu, "kwok.x-k8s.io/usage-memory": mem}},
				Spec: corev1.PodSpec{
					Containers: []corev1.Container{{Name: name, Image: "traefik/whoami:v1.10",
						Resources: corev1.ResourceRequirements{Requests: corev1.ResourceList{
							corev1.ResourceCPU: resource.MustParse("50m"), corev1.ResourceMemory: resource.MustParse("64Mi")}}}},
					Tolerations: []corev1.Toleration{{Key: "kwok.x-k8s.io/node", Operator: corev1.TolerationOpExists, Effect: corev1.TaintEffectNoSchedule}},
				},
			},
		},
	}
	if _, err := world.Client.AppsV1().Deployments(ns).Create(ctxT(t, time.Minute), dep, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
}

// createVPA creates a VPA in mode Off for the Deployment name; a recommender
// name other than the default one means no recommendation ever comes.
func createVPA(t testing.TB, ns, name string, recommenders ...string) {
	t.Helper()
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
	u := &unstructured.Unstructured{Object: map[string]any{"apiVersion": "autoscaling.k8s.io/v1", "kind": "VerticalPodAutoscaler",
		"metadata": map[string]any{"name": name}, "spec": spec}}
	if _, err := world.Dynamic.Resource(gvrVPA).Namespace(ns).Create(ctxT(t, time.Minute), u, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
}

// waitTarget waits for the real recommender's target for the VPA name and
// returns it, read straight from the object (not through the package).
func waitTarget(t testing.TB, ns, name string) (cpu, mem resource.Quantity) {
	t.Helper()
	testworld.WaitFor(t, 4*time.Minute, "a VPA recommendation for "+name, func(ctx context.Context) (bool, error) {
		u, err := world.Dynamic.Resource(gvrVPA).Namespace(ns).Get(ctx, name, metav1.GetOptions{})
		if err != nil {
			return false, err
		}
		crs, _, _ := unstructured.NestedSlice(u.Object, "status", "recommendation", "containerRecommendations")
		if len(crs) == 0 {
			return false, nil
		}
		m := crs[0].(map[string]any)["target"].(map[string]any)
		cpu, mem = resource.MustParse(m["cpu"].(string)), resource.MustParse(m["memory"].(string))
		return true, nil
	})
	return cpu, mem
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
