package cutover_test

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/nomad/api"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"migrate-tui/internal/checks"
	"migrate-tui/internal/cutover"
	"migrate-tui/internal/nomadsim"
	"migrate-tui/internal/nomadwatch"
	"migrate-tui/internal/state"
	"migrate-tui/internal/testworld"
)

var world *testworld.World

func TestMain(m *testing.M) {
	testworld.Main(m, "cutover", testworld.Options{Controllers: true, KWOK: true}, &world)
}

func ctxT(t testing.TB, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}

// sim starts the Nomad simulator on loopback and returns a client for it.
func sim(t *testing.T) (*nomadsim.Server, *nomadwatch.Client) {
	t.Helper()
	s, c := nomadsim.StartT(t, nomadsim.Options{Token: "cutover-test-token"})
	return s, c
}

// repo is a repository whose state holds a preflight baseline of n.
func repo(t *testing.T, n nomadwatch.Nomad) string {
	t.Helper()
	dir := t.TempDir()
	b, err := nomadwatch.TakeBaseline(ctxT(t, time.Minute), n)
	if err != nil {
		t.Fatal(err)
	}
	st := state.New(time.Now())
	st.Preflight = &state.Preflight{NomadAddr: n.Address(), Baseline: &b}
	if err := state.Save(dir, st, time.Now()); err != nil {
		t.Fatal(err)
	}
	// whoami's hand-written module, as in this repository: "scaffolded".
	if err := os.MkdirAll(filepath.Join(dir, "modules-k8s", "whoami"), 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

func labels(name string) map[string]string { return map[string]string{"app.kubernetes.io/name": name} }

var kwokToleration = []corev1.Toleration{{Key: "kwok.x-k8s.io/node", Operator: corev1.TolerationOpExists, Effect: corev1.TaintEffectNoSchedule}}

// whoami creates a whoami Deployment and Service; a not-ready one asks for
// a node that does not exist, so its pod stays Pending.
func whoami(t *testing.T, ns string, ready bool) { t.Helper(); deploy(t, ns, "whoami", ready) }

// deploy creates a Deployment and Service named name as a module of the
// services stage would (image whoami's: KWOK runs no process anyway).
func deploy(t *testing.T, ns, name string, ready bool) {
	t.Helper()
	ctx := ctxT(t, 3*time.Minute) // two shared cores: the controllers can be slow
	one := int32(1)
	spec := corev1.PodSpec{Containers: []corev1.Container{{Name: "whoami", Image: "traefik/whoami:v1.10", Ports: []corev1.ContainerPort{{ContainerPort: 80}}}},
		Tolerations: kwokToleration}
	if !ready {
		spec.NodeSelector = map[string]string{"kubernetes.io/hostname": "no-such-node"}
	}
	dep := &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Name: name, Labels: labels(name)},
		Spec: appsv1.DeploymentSpec{Replicas: &one, Selector: &metav1.LabelSelector{MatchLabels: labels(name)},
			Template: corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: labels(name)}, Spec: spec}}}
	if _, err := world.Client.AppsV1().Deployments(ns).Create(ctx, dep, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	svc := &corev1.Service{ObjectMeta: metav1.ObjectMeta{Name: name},
		Spec: corev1.ServiceSpec{Selector: labels(name), Ports: []corev1.ServicePort{{Port: 80}}}}
	if _, err := world.Client.CoreV1().Services(ns).Create(ctx, svc, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	if !ready {
		return
	}
	for {
		d, err := world.Client.AppsV1().Deployments(ns).Get(ctx, name, metav1.GetOptions{})
		if err == nil && d.Status.ReadyReplicas == 1 {
			eps, err := world.Client.DiscoveryV1().EndpointSlices(ns).List(ctx, metav1.ListOptions{LabelSelector: "kubernetes.io/service-name=" + name})
			if err == nil && len(eps.Items) > 0 && len(eps.Items[0].Endpoints) > 0 {
				return
			}
		}
		select {
		case <-ctx.Done():
			t.Fatalf("%s Deployment in %s never became ready: %v", name, ns, ctx.Err())
		case <-time.After(200 * time.Millisecond):
		}
	}
}

func deps(ns string) *checks.Deps {
	d := checks.DefaultDecisions()
	d.PoCNamespace = ns
	return &checks.Deps{Kube: world.Client, Dynamic: world.Dynamic, Decisions: d}
}

func gateInput(ns string, n cutover.Nomad, svc string, accept bool) cutover.GateInput {
	return cutover.GateInput{Target: cutover.Target{Service: svc}, Nomad: n, Deps: deps(ns), AcceptUnobserved: accept,
		RunOptions: checks.RunOptions{Timeout: 30 * time.Second}}
}

func byID(g cutover.Gate, id string) cutover.GateCheck {
	for _, c := range g.Checks {
		if c.ID == id {
			return c
		}
	}
	return cutover.GateCheck{ID: id, Status: "missing"}
}

func TestGateBlocksWithTheReason(t *testing.T) {
	_, c := sim(t)
	n := cutover.FromClient(c)

	t.Run("k8s copy not ready", func(t *testing.T) {
		ns := world.Namespace(t)
		whoami(t, ns, false)
		g := cutover.Readiness(ctxT(t, time.Minute), gateInput(ns, n, "whoami", true))
		if g.Ready() {
			t.Fatalf("gate passed with a Pending pod: %+v", g)
		}
		sc1 := byID(g, "SC-001")
		if sc1.Status != cutover.Block || !strings.Contains(sc1.Found, "0 of 1 replicas ready") {
			t.Errorf("SC-001 = %+v, want a block naming 0 of 1 replicas ready", sc1)
		}
		if nj := byID(g, "nomad-job"); nj.Status != cutover.Pass {
			t.Errorf("nomad-job = %+v, want pass (the seeded whoami runs)", nj)
		}
	})

	t.Run("TLS unobserved blocks unless accepted", func(t *testing.T) {
		ns := world.Namespace(t)
		whoami(t, ns, true)
		g := cutover.Readiness(ctxT(t, time.Minute), gateInput(ns, n, "whoami", false))
		bl := g.Blockers()
		if len(bl) != 1 || bl[0].ID != "SC-004" || bl[0].Status != cutover.Unobservable || !strings.Contains(bl[0].Found, "cannot be observed here") {
			t.Fatalf("blockers = %+v, want only SC-004 cannot be observed here", bl)
		}
		g = cutover.Readiness(ctxT(t, time.Minute), gateInput(ns, n, "whoami", true))
		if !g.Ready() || byID(g, "SC-004").Status != cutover.Warn || byID(g, "SC-001").Status != cutover.Pass {
			t.Fatalf("with --accept-unobserved: %+v", g)
		}
	})

	t.Run("the gate judges only its own service", func(t *testing.T) {
		ns := world.Namespace(t)
		whoami(t, ns, true)
		in := gateInput(ns, n, "whoami", true)
		// Another scaffolded service enabled in tfvars, not deployed here.
		in.Deps.Decisions.Scaffolded = []string{"plex"}
		sc1 := byID(cutover.Readiness(ctxT(t, time.Minute), in), "SC-001")
		if sc1.Status != cutover.Pass || strings.Contains(sc1.Found, "plex") {
			t.Fatalf("whoami's SC-001 = %+v, want a pass that says nothing of plex", sc1)
		}
	})

	t.Run("missing and stopped Nomad job", func(t *testing.T) {
		s, c := sim(t)
		n := cutover.FromClient(c)
		ns := world.Namespace(t)
		in := gateInput(ns, n, "whoami", true)
		in.Target.NomadJob = "no-such-job"
		if nj := byID(cutover.Readiness(ctxT(t, time.Minute), in), "nomad-job"); nj.Status != cutover.Block || !strings.Contains(nj.Found, "has no job no-such-job") {
			t.Errorf("missing job: %+v", nj)
		}
		if err := s.FailAllocation("whoami"); err != nil {
			t.Fatal(err)
		}
		if nj := byID(cutover.Readiness(ctxT(t, time.Minute), gateInput(ns, n, "whoami", true)), "nomad-job"); nj.Status != cutover.Block || !strings.Contains(nj.Found, "failed") {
			t.Errorf("failed allocation: %+v", nj)
		}
	})
}

// overseerr creates a StatefulSet shaped like the overseerr module's: a
// litestream sidecar replicating with litestream.yml (bucket), an init
// container restoring with litestream.yml or seed.yml (the Nomad copy's
// bucket, read only), both at Litestream tag.
func overseerr(t *testing.T, ns, bucket, tag string) {
	t.Helper()
	ctx := ctxT(t, time.Minute)
	cfg := func(b string) string {
		return "dbs:\n  - path: /app/config/db/db.sqlite3\n    replicas:\n      - type: s3\n        bucket: \"" + b + "\"\n        path: overseerr\n"
	}
	cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "overseerr-litestream"},
		Data: map[string]string{"litestream.yml": cfg(bucket), "seed.yml": cfg("overseerr-litestream")}}
	if _, err := world.Client.CoreV1().ConfigMaps(ns).Create(ctx, cm, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	one := int32(1)
	mounts := []corev1.VolumeMount{{Name: "litestream-config", MountPath: "/etc/litestream"}}
	sts := &appsv1.StatefulSet{ObjectMeta: metav1.ObjectMeta{Name: "overseerr", Labels: labels("overseerr")},
		Spec: appsv1.StatefulSetSpec{Replicas: &one, ServiceName: "overseerr", Selector: &metav1.LabelSelector{MatchLabels: labels("overseerr")},
			Template: corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: labels("overseerr")}, Spec: corev1.PodSpec{
				Tolerations: kwokToleration,
				Volumes:     []corev1.Volume{{Name: "litestream-config", VolumeSource: corev1.VolumeSource{ConfigMap: &corev1.ConfigMapVolumeSource{LocalObjectReference: corev1.LocalObjectReference{Name: "overseerr-litestream"}}}}},
				InitContainers: []corev1.Container{
					{Name: "litestream-restore", Image: "litestream/litestream:" + tag, Command: []string{"/bin/sh", "-ec"},
						Args: []string{"litestream restore -config /etc/litestream/litestream.yml -if-db-not-exists -if-replica-exists /app/config/db/db.sqlite3\n" +
							"[ -e /app/config/db/db.sqlite3 ] || litestream restore -config /etc/litestream/seed.yml -if-db-not-exists -if-replica-exists /app/config/db/db.sqlite3"},
						VolumeMounts: mounts},
				},
				Containers: []corev1.Container{
					{Name: "overseerr", Image: "sctx/overseerr:1.33.2"},
					{Name: "litestream", Image: "litestream/litestream:" + tag, Args: []string{"replicate", "-config", "/etc/litestream/litestream.yml"}, VolumeMounts: mounts},
				}}}}}
	if _, err := world.Client.AppsV1().StatefulSets(ns).Create(ctx, sts, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
}

// TestGateLitestreamBuckets: the gate blocks two writers on one bucket (the
// init container's read-only seed from the Nomad bucket is not a writer)
// and a Litestream version that cannot read the Nomad job's (0.5) replica.
func TestGateLitestreamBuckets(t *testing.T) {
	_, c := sim(t)
	n := cutover.FromClient(c)
	for _, tc := range []struct {
		bucket, tag   string
		want, version cutover.Status
		found         string
	}{
		{"overseerr-litestream", "0.5", cutover.Block, cutover.Pass, "both copies replicate to overseerr-litestream"},
		{"overseerr-k8s-litestream", "0.5", cutover.Pass, cutover.Pass, "Nomad: overseerr-litestream; Kubernetes (StatefulSet"},
		{"overseerr-k8s-litestream", "0.3.13", cutover.Pass, cutover.Block, "Nomad: overseerr-litestream; Kubernetes (StatefulSet"},
	} {
		t.Run(tc.bucket+"@"+tc.tag, func(t *testing.T) {
			ns := world.Namespace(t)
			overseerr(t, ns, tc.bucket, tc.tag)
			g := cutover.Readiness(ctxT(t, time.Minute), gateInput(ns, n, "overseerr", true))
			lb := byID(g, "litestream-bucket")
			if lb.Status != tc.want || !strings.Contains(lb.Found, tc.found) {
				t.Errorf("litestream-bucket = %+v, want %s with %q", lb, tc.want, tc.found)
			}
			if lv := byID(g, "litestream-version"); lv.Status != tc.version {
				t.Errorf("litestream-version = %+v, want %s", lv, tc.version)
			}
			if ds := byID(g, "data-sync-order"); ds.Status != cutover.Warn || !strings.Contains(ds.Next, "1) stop Nomad writes") {
				t.Errorf("data-sync-order = %+v", ds)
			}
		})
	}
}

func yes(cutover.Gate) bool { return true }

func flow(dir, ns string, n cutover.Nomad) cutover.Flow {
	return cutover.Flow{Repo: dir, Gate: gateInput(ns, n, "whoami", true),
		Routing: cutover.Routing{Service: "whoami", Host: "whoami.brmartin.co.uk", Backends: []string{"hestia:32443"}},
		Prompts: cutover.Prompts{ConfirmStop: yes, ConfirmRouting: func(string) (bool, string) { return true, "test" },
			ConfirmRollback: func(string) bool { return true }},
		Wait: time.Minute}
}

// comparable drops what Nomad sets on registration.
func comparable(t *testing.T, j *api.Job) *api.Job {
	t.Helper()
	b, _ := json.Marshal(j)
	var c api.Job
	if err := json.Unmarshal(b, &c); err != nil {
		t.Fatal(err)
	}
	c.Stop, c.Status, c.StatusDescription = nil, nil, nil
	c.Version, c.CreateIndex, c.ModifyIndex, c.JobModifyIndex, c.SubmitTime, c.Stable = nil, nil, nil, nil, nil, nil
	return &c
}

func TestCutoverThenRollback(t *testing.T) {
	s, c := sim(t)
	n := cutover.FromClient(c)
	dir := repo(t, c)
	ns := world.Namespace(t)
	whoami(t, ns, true)
	before, err := n.ReadJob(ctxT(t, time.Minute), "default", "whoami")
	if err != nil {
		t.Fatal(err)
	}

	out, err := flow(dir, ns, n).Cutover(ctxT(t, 2*time.Minute))
	if err != nil {
		t.Fatalf("cutover: %v; %+v", err, out)
	}
	if out.Phase != state.CutoverOnKubernetes {
		t.Errorf("phase %s", out.Phase)
	}
	// exactly whoami stopped, every other job still running
	after, _ := nomadwatch.TakeBaseline(ctxT(t, time.Minute), c)
	for _, id := range nomadsim.HomelabJobIDs() {
		j, ok := after.Job(id)
		if !ok {
			t.Fatalf("job %s gone (purged?)", id)
		}
		if j.Stopped != (id == "whoami") {
			t.Errorf("job %s stopped=%v", id, j.Stopped)
		}
	}
	st, err := state.Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	co := st.Cutovers["whoami"]
	if co.Phase != state.CutoverOnKubernetes || len(co.JobSpec) == 0 || co.RoutingSource != "test" || co.StoppedAt == nil {
		t.Errorf("state cutover = phase %s spec %d bytes routing %q", co.Phase, len(co.JobSpec), co.RoutingSource)
	}
	// The stage guard and SC-005 read st.Baseline(): the cut-over job is left out.
	b, _ := st.Baseline()
	if _, ok := b.Job("whoami"); ok {
		t.Error("st.Baseline() still holds the cut-over whoami job")
	}
	if regs := nomadwatch.Compare(b, after); len(regs) != 0 {
		t.Errorf("guard after cutover: %v", regs)
	}
	full, _ := st.FullBaseline()
	if regs := nomadwatch.Compare(full, after); len(regs) == 0 {
		t.Error("the full baseline should see whoami stopped (test cannot fail otherwise)")
	}
	_ = s

	// a second cutover refuses
	if _, err := flow(dir, ns, n).Cutover(ctxT(t, time.Minute)); err == nil || !strings.Contains(err.Error(), "already cut over") {
		t.Errorf("second cutover: %v", err)
	}

	rb, err := flow(dir, ns, n).Rollback(ctxT(t, 2*time.Minute))
	if err != nil {
		t.Fatalf("rollback: %v; %+v", err, rb)
	}
	now, err := n.ReadJob(ctxT(t, time.Minute), "default", "whoami")
	if err != nil {
		t.Fatal(err)
	}
	if deref(now.Stop) || deref(now.Status) != "running" {
		t.Errorf("after rollback whoami stop=%v status=%s", deref(now.Stop), deref(now.Status))
	}
	if !reflect.DeepEqual(comparable(t, before), comparable(t, now)) {
		a, _ := json.Marshal(comparable(t, before))
		b, _ := json.Marshal(comparable(t, now))
		t.Errorf("re-registered spec differs:\nbefore %s\nafter  %s", a, b)
	}
	st, _ = state.Load(dir)
	if st.Cutovers["whoami"].Phase != state.CutoverOnNomad || st.IntentionallyStopped("default", "whoami") {
		t.Errorf("after rollback: %+v", st.Cutovers["whoami"].Phase)
	}
	b, _ = st.Baseline()
	if _, ok := b.Job("whoami"); !ok {
		t.Error("after rollback whoami is guarded again")
	}
	final, _ := nomadwatch.TakeBaseline(ctxT(t, time.Minute), c)
	if regs := nomadwatch.Compare(b, final); len(regs) != 0 {
		t.Errorf("guard after rollback: %v", regs)
	}
}

// failing stops the job like Nomad, and meanwhile another job fails.
type failing struct {
	cutover.Nomad
	s     *nomadsim.Server
	other string
}

func (f failing) Stop(ctx context.Context, ns, id string) error {
	if err := f.s.FailAllocation(f.other); err != nil {
		return err
	}
	return f.Nomad.Stop(ctx, ns, id)
}

func TestCutoverReportsAnotherJobFailing(t *testing.T) {
	s, c := sim(t)
	dir := repo(t, c)
	ns := world.Namespace(t)
	whoami(t, ns, true)
	n := failing{Nomad: cutover.FromClient(c), s: s, other: "plex"}
	out, err := flow(dir, ns, n).Cutover(ctxT(t, 2*time.Minute))
	if !errors.Is(err, cutover.ErrRegressions) {
		t.Fatalf("err = %v, want ErrRegressions", err)
	}
	if len(out.Regressions) == 0 {
		t.Fatal("no regression reported")
	}
	for _, r := range out.Regressions {
		if r.Job != "plex" {
			t.Errorf("regression of %s (%s): only plex failed", r.Job, r.Message)
		}
	}
	if out.Phase != state.CutoverOnKubernetes {
		t.Errorf("phase %s: whoami was stopped, the state must say so", out.Phase)
	}
}

func TestCutoverDeclinedChangesNothing(t *testing.T) {
	_, c := sim(t)
	dir := repo(t, c)
	ns := world.Namespace(t)
	whoami(t, ns, true)
	f := flow(dir, ns, cutover.FromClient(c))
	f.Prompts.ConfirmStop = func(cutover.Gate) bool { return false }
	if _, err := f.Cutover(ctxT(t, time.Minute)); !errors.Is(err, cutover.ErrDeclined) {
		t.Fatalf("err = %v", err)
	}
	j, err := cutover.FromClient(c).ReadJob(ctxT(t, time.Minute), "default", "whoami")
	if err != nil || deref(j.Stop) {
		t.Fatalf("whoami stopped after a declined cutover (%v)", err)
	}
}

func deref[T any](p *T) T {
	var z T
	if p == nil {
		return z
	}
	return *p
}
