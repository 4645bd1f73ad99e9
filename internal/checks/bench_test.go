package checks_test

import (
	"context"
	"fmt"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	"migrate-tui/internal/checks"
)

// countingTransport counts the requests the API server answered. A 429
// (a CRD's storage still initialising, or priority and fairness pushing back)
// is retried by client-go after Retry-After: that is the server's pacing, not
// a read per object, so it is not counted.
type countingTransport struct {
	n    *atomic.Int64
	next http.RoundTripper
}

func (c countingTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	resp, err := c.next.RoundTrip(r)
	if err != nil || resp.StatusCode != http.StatusTooManyRequests {
		c.n.Add(1)
	}
	return resp, err
}

const benchServices = 300

var benchOnce sync.Once
var benchNS string

// createServices makes n Deployments (0 replicas) and Services in ns.
func createServices(tb testing.TB, ns string, n int) []string {
	zero := int32(0)
	sem := make(chan struct{}, 8)
	var wg sync.WaitGroup
	var names []string
	for i := 0; i < n; i++ {
		name := fmt.Sprintf("svc-%03d", i)
		names = append(names, name)
		l := labelsFor(name)
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			ctx := context.Background()
			_, err := world.Client.AppsV1().Deployments(ns).Create(ctx, &appsv1.Deployment{
				ObjectMeta: metav1.ObjectMeta{Name: name, Labels: l},
				Spec: appsv1.DeploymentSpec{Replicas: &zero, Selector: &metav1.LabelSelector{MatchLabels: l},
					Template: corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: l},
						Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: name, Image: "traefik/whoami:v1.10"}}}}},
			}, metav1.CreateOptions{})
			if err != nil {
				tb.Error(err)
			}
			_, err = world.Client.CoreV1().Services(ns).Create(ctx, &corev1.Service{
				ObjectMeta: metav1.ObjectMeta{Name: name, Labels: l},
				Spec:       corev1.ServiceSpec{Selector: l, Ports: []corev1.ServicePort{{Port: 80}}},
			}, metav1.CreateOptions{})
			if err != nil {
				tb.Error(err)
			}
		}()
	}
	wg.Wait()
	return names
}

// countingDeps returns Deps whose clients count their requests in n.
func countingDeps(ns string, services []string, n *atomic.Int64) *checks.Deps {
	cfg := rest.CopyConfig(world.RESTConfig)
	cfg.QPS, cfg.Burst = 1000, 1000
	cfg.WrapTransport = func(rt http.RoundTripper) http.RoundTripper { return countingTransport{n: n, next: rt} }
	dec := checks.DefaultDecisions()
	dec.PoCNamespace = ns
	dec.PoCServices = services
	return &checks.Deps{Kube: kubernetes.NewForConfigOrDie(cfg), Dynamic: dynamic.NewForConfigOrDie(cfg), Decisions: dec}
}

// The cost of a run does not grow with the number of services: one request
// per resource type, whether the namespace holds 3 services or 60.
func TestRequestsPerRunAreFlat(t *testing.T) {
	t.Parallel()
	sel, _ := checks.Select(checks.All(), nil, []string{"SC-005", "SC-006", "SC-007"})
	count := func(n int) int64 {
		ns := world.Namespace(t)
		names := createServices(t, ns, n)
		var c atomic.Int64
		checks.Run(context.Background(), sel, countingDeps(ns, names, &c), checks.RunOptions{Timeout: time.Minute}, nil)
		return c.Load()
	}
	few, many := count(3), count(60)
	t.Logf("requests per run: %d with 3 services, %d with 60", few, many)
	if few != many {
		t.Errorf("a run costs %d requests with 3 services but %d with 60: something reads per object", few, many)
	}
}

// BenchmarkCheckRun runs every Kubernetes-facing check against a namespace
// holding 300 services (Deployment + Service each, scaled to 0 so the shared
// machine is spared 300 simulated pods) and reports the API requests one run
// costs: it must not grow with the number of services.
func BenchmarkCheckRun(b *testing.B) {
	benchOnce.Do(func() {
		ns, err := world.Client.CoreV1().Namespaces().Create(context.Background(), &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{GenerateName: "bench-"}}, metav1.CreateOptions{})
		if err != nil {
			b.Fatal(err)
		}
		benchNS = ns.Name
		createServices(b, benchNS, benchServices)
	})
	var n atomic.Int64
	var names []string
	for i := 0; i < benchServices; i++ {
		names = append(names, fmt.Sprintf("svc-%03d", i))
	}
	d0 := countingDeps(benchNS, names, &n)
	sel, _ := checks.Select(checks.All(), nil, []string{"SC-005", "SC-006", "SC-007"})
	n.Store(0)
	b.ResetTimer()
	start := time.Now()
	for i := 0; i < b.N; i++ {
		rs := checks.Run(context.Background(), sel, d0, checks.RunOptions{Timeout: time.Minute}, nil)
		if len(rs) != len(sel) {
			b.Fatal("missing results")
		}
	}
	b.StopTimer()
	b.ReportMetric(float64(n.Load())/float64(b.N), "requests/op")
	b.ReportMetric(time.Since(start).Seconds()/float64(b.N), "s/run")
}
