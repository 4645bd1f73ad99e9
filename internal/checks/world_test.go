package checks_test

import (
	"context"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"migrate-tui/internal/checks"
	"migrate-tui/internal/testworld"
)

// world is the package's one test world (API server, controllers, KWOK
// nodes, metrics, the VPA recommender, CRDs), started in TestMain.
var world *testworld.World

func TestMain(m *testing.M) {
	testworld.Main(m, "checks", testworld.Options{Controllers: true, KWOK: true, Metrics: true, VPARecommender: true, CRDs: true}, &world)
}

func ctxT(t testing.TB, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}

// svcSpec describes a PoC-like service for the test world.
type svcSpec struct {
	name         string
	replicas     int32
	nodeSelector map[string]string
	containers   []string // names; default one named like the service
	podAnnots    map[string]string
	secretEnv    string // Secret referenced by envFrom
}

func labelsFor(name string) map[string]string {
	return map[string]string{"app.kubernetes.io/name": name, "app.kubernetes.io/instance": "poc"}
}

// deploy creates a Deployment and a Service for s in ns.
func deploy(t testing.TB, ns string, s svcSpec) {
	t.Helper()
	ctx := ctxT(t, time.Minute)
	if s.replicas == 0 {
		s.replicas = 1
	}
	if len(s.containers) == 0 {
		s.containers = []string{s.name}
	}
	annots := map[string]string{"kwok.x-k8s.io/usage-cpu": "120m", "kwok.x-k8s.io/usage-memory": "100Mi"}
	for k, v := range s.podAnnots {
		annots[k] = v
	}
	var cs []corev1.Container
	for _, c := range s.containers {
		ct := corev1.Container{Name: c, Image: "traefik/whoami:v1.10", Ports: []corev1.ContainerPort{{ContainerPort: 80}},
			Resources: corev1.ResourceRequirements{Requests: corev1.ResourceList{
				corev1.ResourceCPU: resource.MustParse("50m"), corev1.ResourceMemory: resource.MustParse("64Mi")}}}
		if s.secretEnv != "" {
			ct.EnvFrom = []corev1.EnvFromSource{{SecretRef: &corev1.SecretEnvSource{LocalObjectReference: corev1.LocalObjectReference{Name: s.secretEnv}}}}
		}
		cs = append(cs, ct)
	}
	dep := &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Name: s.name, Labels: labelsFor(s.name)},
		Spec: appsv1.DeploymentSpec{
			Replicas: &s.replicas,
			Selector: &metav1.LabelSelector{MatchLabels: labelsFor(s.name)},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: labelsFor(s.name), Annotations: annots},
				Spec: corev1.PodSpec{Containers: cs, NodeSelector: s.nodeSelector,
					Tolerations: []corev1.Toleration{{Key: "kwok.x-k8s.io/node", Operator: corev1.TolerationOpExists, Effect: corev1.TaintEffectNoSchedule}}},
			},
		},
	}
	if _, err := world.Client.AppsV1().Deployments(ns).Create(ctx, dep, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	svc := &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Name: s.name, Labels: labelsFor(s.name)},
		Spec:       corev1.ServiceSpec{Selector: labelsFor(s.name), Ports: []corev1.ServicePort{{Port: 80}}},
	}
	if _, err := world.Client.CoreV1().Services(ns).Create(ctx, svc, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
}

// waitFor polls cond until it holds or the test's patience ends.
func waitFor(t testing.TB, what string, d time.Duration, cond func(ctx context.Context) (bool, error)) {
	t.Helper()
	testworld.WaitFor(t, d, what, cond)
}

func waitRolledOut(t testing.TB, ns, name string) {
	waitFor(t, "deployment "+ns+"/"+name, 2*time.Minute, func(ctx context.Context) (bool, error) {
		d, err := world.Client.AppsV1().Deployments(ns).Get(ctx, name, metav1.GetOptions{})
		if err != nil {
			return false, err
		}
		return d.Spec.Replicas != nil && d.Status.ReadyReplicas == *d.Spec.Replicas, nil
	})
}

func deps(ns string, services ...string) *checks.Deps {
	dec := checks.DefaultDecisions()
	dec.PoCNamespace = ns
	dec.PoCServices = services
	return &checks.Deps{Kube: world.Client, Dynamic: world.Dynamic, Decisions: dec}
}

// runOne runs the check id with d and returns its result.
func runOne(t testing.TB, id string, d *checks.Deps, o checks.RunOptions) checks.Result {
	t.Helper()
	c, ok := checks.ByID(id)
	if !ok {
		t.Fatalf("no check %s", id)
	}
	if o.Timeout == 0 {
		o.Timeout = 2 * time.Minute
	}
	r := checks.Run(context.Background(), []checks.Check{c}, d, o, nil)[0]
	t.Logf("%s %s:\n%s\nhint: %s", r.ID, r.Status, r.Evidence, r.Hint)
	return r
}

func expect(t testing.TB, r checks.Result, status checks.Status, evidence ...string) {
	t.Helper()
	if r.Status != status {
		t.Errorf("%s: status %s, want %s; evidence: %s", r.ID, r.Status, status, r.Evidence)
	}
	for _, e := range evidence {
		if !strings.Contains(r.Evidence, e) {
			t.Errorf("%s: evidence lacks %q: %s", r.ID, e, r.Evidence)
		}
	}
	if status != checks.Pass && r.Hint == "" {
		t.Errorf("%s: %s without a hint", r.ID, r.Status)
	}
}

func createU(t testing.TB, gvr schema.GroupVersionResource, ns string, obj map[string]any) *unstructured.Unstructured {
	t.Helper()
	u := &unstructured.Unstructured{Object: obj}
	var err error
	ctx := ctxT(t, time.Minute)
	if ns == "" {
		u, err = world.Dynamic.Resource(gvr).Create(ctx, u, metav1.CreateOptions{})
	} else {
		u, err = world.Dynamic.Resource(gvr).Namespace(ns).Create(ctx, u, metav1.CreateOptions{})
	}
	if err != nil {
		t.Fatalf("create %s: %v", gvr.Resource, err)
	}
	return u
}

func setStatus(t testing.TB, gvr schema.GroupVersionResource, u *unstructured.Unstructured, status map[string]any) {
	t.Helper()
	u.Object["status"] = status
	ctx := ctxT(t, time.Minute)
	var err error
	if u.GetNamespace() == "" {
		_, err = world.Dynamic.Resource(gvr).UpdateStatus(ctx, u, metav1.UpdateOptions{})
	} else {
		_, err = world.Dynamic.Resource(gvr).Namespace(u.GetNamespace()).UpdateStatus(ctx, u, metav1.UpdateOptions{})
	}
	if err != nil {
		t.Fatalf("status of %s: %v", u.GetName(), err)
	}
}

func ingress(t testing.TB, ns string, hosts ...string) {
	t.Helper()
	var rules []networkingv1.IngressRule
	for _, h := range hosts {
		rules = append(rules, networkingv1.IngressRule{Host: h})
	}
	_, err := world.Client.NetworkingV1().Ingresses(ns).Create(ctxT(t, time.Minute), &networkingv1.Ingress{
		ObjectMeta: metav1.ObjectMeta{Name: "poc"}, Spec: networkingv1.IngressSpec{Rules: rules}}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
}
