package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"migrate-tui/internal/cutover"
	"migrate-tui/internal/decisions/tfanswers"
	"migrate-tui/internal/nomadsim"
	"migrate-tui/internal/nomadwatch"
	"migrate-tui/internal/state"
	"migrate-tui/internal/testtools"
	"migrate-tui/internal/testtools/nomadjob"
	"migrate-tui/internal/testworld"
	"migrate-tui/internal/traefikroute"
	"migrate-tui/internal/traefikroute/traefiktest"
)

func ctxFor(t *testing.T, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}

// routeWorld is everything a cutover with the file-provider route touches:
// the test world (the cluster), the Nomad simulator whose whoami answers
// at a real server, the external Traefik watching a directory, and a TLS
// server standing in for the K3s ingress.
type routeWorld struct {
	w    *testworld.World
	sim  *nomadsim.Server
	ext  *traefiktest.External
	kube *httptest.Server
	ns   string
	repo string
}

const kubeBody = "whoami on Kubernetes"

// newRouteWorld writes terraform.tfvars with the route settings pointing at
// the external Traefik's directory on this machine, its websecure address,
// and the world's three nodes (KWOK places pods on any) at the K3s ingress
// stand-in's address.
func newRouteWorld(t *testing.T, w *testworld.World, nomadSide http.HandlerFunc) *routeWorld {
	t.Helper()
	rw := &routeWorld{w: w, ns: w.Namespace(t)}
	rw.sim = nomadsim.New(nomadsim.Options{Token: "route-test-token"})
	if err := rw.sim.Start("127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { rw.sim.Close() })
	t.Setenv("NOMAD_ADDR", rw.sim.URL())
	t.Setenv("NOMAD_TOKEN", rw.sim.Token())
	nomadInstance := httptest.NewServer(nomadSide)
	t.Cleanup(nomadInstance.Close)
	if err := rw.sim.ServeServiceAt("whoami", nomadInstance.Listener.Addr().String()); err != nil {
		t.Fatal(err)
	}
	rw.ext = traefiktest.StartExternal(t, "brmartin.co.uk", nil)
	rw.kube = traefiktest.TLSBackend(t, rw.ext.Pair, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		fmt.Fprint(w, kubeBody)
	}))
	_, port, _ := net.SplitHostPort(rw.kube.Listener.Addr().String())

	nc, err := nomadwatch.NewClient(rw.sim.URL(), rw.sim.Token())
	if err != nil {
		t.Fatal(err)
	}
	b, err := nomadwatch.TakeBaseline(ctxFor(t, time.Minute), nc)
	if err != nil {
		t.Fatal(err)
	}
	rw.repo = t.TempDir()
	st := state.New(time.Now())
	st.Preflight = &state.Preflight{NomadAddr: rw.sim.URL(), Baseline: &b}
	if err := state.Save(rw.repo, st, time.Now()); err != nil {
		t.Fatal(err)
	}
	for _, m := range []string{"whoami", "overseerr"} {
		if err := os.MkdirAll(filepath.Join(rw.repo, "modules-k8s", m), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	tfvars := fmt.Sprintf(`poc_namespace = %q
nodes = [
  { name = "hestia", address = "127.0.0.1", arch = "amd64", role = "server" },
  { name = "heracles", address = "127.0.0.1", arch = "arm64", role = "server" },
  { name = "nyx", address = "127.0.0.1", arch = "arm64", role = "server" },
]
traefik_https_node_port = %s
traefik_route_dir = %q
traefik_route_node = ""
traefik_websecure_addr = %q
`, rw.ns, port, rw.ext.Dir, rw.ext.Websecure)
	if err := os.WriteFile(filepath.Join(rw.repo, "terraform.tfvars"), []byte(tfvars), 0o600); err != nil {
		t.Fatal(err)
	}
	return rw
}

// cutover runs `migrate-tui cutover` against the world, as an operator
// would: the same command, flags and wiring.
func (rw *routeWorld) cutover(t *testing.T, args ...string) (string, string, int) {
	t.Helper()
	base := []string{"--dir", rw.repo, "--kubeconfig", rw.w.Kubeconfig, "--dial", rw.kube.Listener.Addr().String(),
		"--ca-file", rw.ext.CAFile, "--wait", "1m", "--json"}
	return runCutoverCmd(t, append(base, args...)...)
}

type cutoverJSON struct {
	Outcome cutover.Outcome
	Error   string
}

func decodeOutcome(t *testing.T, out string) cutoverJSON {
	t.Helper()
	var res cutoverJSON
	if err := json.Unmarshal([]byte(out), &res); err != nil {
		t.Fatalf("cutover --json does not parse: %v\n%s", err, out)
	}
	return res
}

func gateCheck(g *cutover.Gate, id string) cutover.GateCheck {
	if g == nil {
		return cutover.GateCheck{ID: id, Status: "missing"}
	}
	for _, c := range g.Checks {
		if c.ID == id {
			return c
		}
	}
	return cutover.GateCheck{ID: id, Status: "missing"}
}

func deployWhoami(t *testing.T, w *testworld.World, ns string) {
	t.Helper()
	ctx := ctxFor(t, 3*time.Minute)
	one := int32(1)
	lbl := map[string]string{"app.kubernetes.io/name": "whoami"}
	dep := &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Name: "whoami", Labels: lbl},
		Spec: appsv1.DeploymentSpec{Replicas: &one, Selector: &metav1.LabelSelector{MatchLabels: lbl},
			Template: corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: lbl}, Spec: corev1.PodSpec{
				Containers:  []corev1.Container{{Name: "whoami", Image: "traefik/whoami:v1.10", Ports: []corev1.ContainerPort{{ContainerPort: 80}}}},
				Tolerations: []corev1.Toleration{{Key: "kwok.x-k8s.io/node", Operator: corev1.TolerationOpExists, Effect: corev1.TaintEffectNoSchedule}}}}}}
	if _, err := w.Client.AppsV1().Deployments(ns).Create(ctx, dep, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	svc := &corev1.Service{ObjectMeta: metav1.ObjectMeta{Name: "whoami"},
		Spec: corev1.ServiceSpec{Selector: lbl, Ports: []corev1.ServicePort{{Port: 80}}}}
	if _, err := w.Client.CoreV1().Services(ns).Create(ctx, svc, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	for {
		// Ready behind its Service's endpoints, as SC-001 checks.
		d, err := w.Client.AppsV1().Deployments(ns).Get(ctx, "whoami", metav1.GetOptions{})
		if err == nil && d.Status.ReadyReplicas == 1 {
			eps, err := w.Client.DiscoveryV1().EndpointSlices(ns).List(ctx, metav1.ListOptions{LabelSelector: "kubernetes.io/service-name=whoami"})
			if err == nil && len(eps.Items) > 0 && len(eps.Items[0].Endpoints) > 0 {
				return
			}
		}
		select {
		case <-ctx.Done():
			t.Fatalf("whoami never became ready in %s: %v", ns, ctx.Err())
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// stepTo advances whoami one transition at a time until it is in want.
func (rw *routeWorld) stepTo(t *testing.T, want cutover.State) cutoverJSON {
	t.Helper()
	var res cutoverJSON
	for range 6 {
		out, errOut, code := rw.cutover(t, "whoami", "--step", "--yes", "--accept-unobserved")
		res = decodeOutcome(t, out)
		if code != 0 {
			var blockers []string
			if res.Outcome.Gate != nil {
				for _, c := range res.Outcome.Gate.Blockers() {
					blockers = append(blockers, c.ID+": "+c.Found)
				}
			}
			t.Fatalf("cutover whoami --step toward %s: exit %d at %s: %s; blockers %v", want, code, res.Outcome.State, errOut, blockers)
		}
		if res.Outcome.State == want {
			return res
		}
	}
	t.Fatalf("whoami never reached %s (at %s)", want, res.Outcome.State)
	return res
}

// TestCutoverSwitchesTrafficThroughTheFileRoute moves whoami through every
// state with `migrate-tui cutover` and the file-provider route: parity
// compares the Nomad instance with the Kubernetes copy before verified,
// the route file lands in the external Traefik's watched directory and a
// real request through it reaches the K3s ingress, after-switch gates the
// stop; the rollback registers the byte-identical job and removes the
// file. Broken on purpose, parity blocks verified and a data spot check
// blocks a stateful service, each with its reason.
func TestCutoverSwitchesTrafficThroughTheFileRoute(t *testing.T) {
	if _, err := testtools.Bin("traefik"); err != nil {
		t.Fatalf("the route test runs the real Traefik: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	w, err := testworld.Start(ctx, testworld.Options{Controllers: true, KWOK: true})
	cancel()
	if err != nil {
		t.Fatalf("the route test needs the test world: %v", err)
	}
	t.Cleanup(func() { w.Stop() })

	t.Run("whoami through every state and back", func(t *testing.T) {
		rw := newRouteWorld(t, w, func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "text/plain; charset=utf-8")
			fmt.Fprint(w, "whoami on Nomad")
		})
		deployWhoami(t, w, rw.ns)
		before := nomadjob.Registered(t, rw.sim, "whoami")
		routeFile := filepath.Join(rw.ext.Dir, traefikroute.FileName("whoami"))

		res := rw.stepTo(t, cutover.Verified)
		if p := gateCheck(res.Outcome.Gate, "parity"); p.Status != cutover.Pass || !strings.Contains(p.Found, "Nomad (http://127.0.0.1") {
			t.Fatalf("verified without parity observed and passing: %+v", p)
		}
		for _, id := range []string{"data", "data-volumes", "secrets"} {
			if c := gateCheck(res.Outcome.Gate, id); c.Status != cutover.Pass {
				t.Errorf("check %s entering verified: %+v", id, c)
			}
		}
		if _, err := os.Stat(routeFile); !os.IsNotExist(err) {
			t.Fatalf("a route file before the switch (%v)", err)
		}

		res = rw.stepTo(t, cutover.TrafficSwitched)
		b, err := os.ReadFile(routeFile)
		if err != nil || !bytes.Contains(b, []byte("whoami.brmartin.co.uk")) {
			t.Fatalf("the route file in the watched directory: %v\n%s", err, b)
		}
		a, err := traefikroute.Probe{Entrypoint: rw.ext.Websecure, Host: "whoami.brmartin.co.uk", Roots: rw.ext.Roots}.Do(ctxFor(t, 30*time.Second))
		if err != nil || a.Status != http.StatusOK || a.RoutedBy != "whoami-k8s" {
			t.Fatalf("a request through the external Traefik after the switch: %+v %v", a, err)
		}
		if st, _ := state.Load(rw.repo); st.Cutovers["whoami"].RoutingConfirmedAt == nil || !strings.Contains(st.Cutovers["whoami"].RoutingSource, "whoami-k8s") {
			t.Errorf("routing recorded as %+v", st.Cutovers["whoami"])
		}

		res = rw.stepTo(t, cutover.NomadStopped)
		if c := gateCheck(res.Outcome.Gate, "after-switch"); c.Status != cutover.Pass {
			t.Errorf("after-switch entering nomad-stopped: %+v", c)
		}
		rw.stepTo(t, cutover.Done)

		out, errOut, code := rw.cutover(t, "whoami", "--rollback", "--yes")
		if code != 0 {
			t.Fatalf("rollback: exit %d: %s\n%s", code, errOut, out)
		}
		if _, err := os.Stat(routeFile); !os.IsNotExist(err) {
			t.Errorf("the route file is still there after the rollback (%v)", err)
		}
		if after := nomadjob.Registered(t, rw.sim, "whoami"); !bytes.Equal(before, after) {
			t.Errorf("the job registered by the rollback differs:\nbefore %s\nafter  %s", before, after)
		}
		for name, want := range rw.ext.Own {
			if got, err := os.ReadFile(filepath.Join(rw.ext.Dir, name)); err != nil || !bytes.Equal(got, want) {
				t.Errorf("the operator's %s was touched: %v", name, err)
			}
		}
	})

	t.Run("a route left by an interrupted switch is removed by the rollback", func(t *testing.T) {
		rw := newRouteWorld(t, w, func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "text/plain; charset=utf-8")
			fmt.Fprint(w, "whoami on Nomad")
		})
		deployWhoami(t, w, rw.ns)
		rw.stepTo(t, cutover.Verified)
		// A switch killed after writing its file, before recording it.
		ans, _, err := tfanswers.Read(filepath.Join(rw.repo, "terraform.tfvars"))
		if err != nil {
			t.Fatal(err)
		}
		route := cutover.RouteFor(ans, "whoami")
		route.BackendRootCAs = []string{rw.ext.CAFile}
		if _, err := traefikroute.Apply(ctxFor(t, time.Minute), traefikroute.LocalDir{Path: rw.ext.Dir}, route); err != nil {
			t.Fatal(err)
		}
		if st, _ := state.Load(rw.repo); st.Cutovers["whoami"].RoutingConfirmedAt != nil {
			t.Fatal("the test's switch was recorded; it could not fail")
		}
		out, errOut, code := rw.cutover(t, "whoami", "--rollback", "--yes")
		if code != 0 {
			t.Fatalf("rollback: exit %d: %s\n%s", code, errOut, out)
		}
		if _, err := os.Stat(filepath.Join(rw.ext.Dir, traefikroute.FileName("whoami"))); !os.IsNotExist(err) {
			t.Errorf("the route the interrupted switch left is still there after the rollback (%v)\n%s", err, out)
		}
	})

	t.Run("parity broken on purpose blocks verified", func(t *testing.T) {
		rw := newRouteWorld(t, w, func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "text/plain; charset=utf-8")
			w.WriteHeader(http.StatusServiceUnavailable)
		})
		deployWhoami(t, w, rw.ns)
		rw.stepTo(t, cutover.Deployed)
		out, _, code := rw.cutover(t, "whoami", "--step", "--yes", "--accept-unobserved")
		res := decodeOutcome(t, out)
		p := gateCheck(res.Outcome.Gate, "parity")
		if code != 3 || res.Outcome.State != cutover.Deployed || p.Status != cutover.Block || !strings.Contains(p.Found, "status 503 on Nomad, 200 on Kubernetes") {
			t.Fatalf("verified with the Nomad instance answering 503: exit %d, state %s, parity %+v", code, res.Outcome.State, p)
		}
		if !strings.Contains(res.Error, "parity") {
			t.Errorf("the error names no parity reason: %s", res.Error)
		}
	})

	t.Run("a broken data spot check blocks a stateful service", func(t *testing.T) {
		rw := newRouteWorld(t, w, func(w http.ResponseWriter, r *http.Request) {})
		overseerrCopy(t, w, rw.ns)
		// The data check restores with the litestream on PATH: the jobs' 0.5.
		litestream, err := testtools.Bin("litestream-0.5")
		if err != nil {
			t.Fatal(err)
		}
		bin := t.TempDir()
		if err := os.Symlink(litestream, filepath.Join(bin, "litestream")); err != nil {
			t.Fatal(err)
		}
		t.Setenv("PATH", bin+string(os.PathListSeparator)+os.Getenv("PATH"))
		t.Setenv("LITESTREAM_ACCESS_KEY_ID", "copy-key")
		t.Setenv("LITESTREAM_SECRET_ACCESS_KEY", "copy-secret")
		st, err := state.Load(rw.repo)
		if err != nil {
			t.Fatal(err)
		}
		st.Cutovers = map[string]state.Cutover{"overseerr": {Service: "overseerr", NomadJob: "overseerr", Namespace: "default",
			Phase: state.CutoverOnNomad, State: string(cutover.Deployed)}}
		if err := state.Save(rw.repo, st, time.Now()); err != nil {
			t.Fatal(err)
		}
		out, errOut, code := rw.cutover(t, "overseerr", "--check", "--accept-unobserved",
			"--spot-what", "rows in media_request", "--spot-nomad", "echo 'no such table: media_request' >&2; exit 1",
			"--spot-kubernetes", "echo 12", "--spot-replica", `echo 12 # "$1"`)
		var res struct {
			NextState cutover.State       `json:"next_state"`
			Checks    []cutover.GateCheck `json:"checks"`
		}
		if err := json.Unmarshal([]byte(out), &res); err != nil {
			t.Fatalf("--check --json: %v\n%s\n%s", err, out, errOut)
		}
		d := gateCheck(&cutover.Gate{Checks: res.Checks}, "data")
		if code != 1 || res.NextState != cutover.Verified || d.Status != cutover.Block || !strings.Contains(d.Found, "on Nomad: ") || !strings.Contains(d.Found, "no such table") {
			t.Fatalf("overseerr --check with the Nomad spot command failing: exit %d, next %s, data %+v\n%s", code, res.NextState, d, out)
		}
		for _, leak := range []string{"copy-secret", "copy-key"} {
			if strings.Contains(out, leak) || strings.Contains(errOut, leak) {
				t.Errorf("the output shows the S3 key %q", leak)
			}
		}
	})
}

// overseerrCopy is the Kubernetes copy of overseerr as its module makes it:
// a StatefulSet whose litestream sidecar replicates to its own bucket.
func overseerrCopy(t *testing.T, w *testworld.World, ns string) {
	t.Helper()
	ctx := ctxFor(t, time.Minute)
	cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "overseerr-litestream"},
		Data: map[string]string{"litestream.yml": "dbs:\n  - path: /app/config/db/db.sqlite3\n    replicas:\n      - type: s3\n        bucket: \"overseerr-k8s-litestream\"\n        path: overseerr\n"}}
	if _, err := w.Client.CoreV1().ConfigMaps(ns).Create(ctx, cm, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	one := int32(1)
	lbl := map[string]string{"app.kubernetes.io/name": "overseerr"}
	mounts := []corev1.VolumeMount{{Name: "litestream-config", MountPath: "/etc/litestream"}}
	sts := &appsv1.StatefulSet{ObjectMeta: metav1.ObjectMeta{Name: "overseerr", Labels: lbl},
		Spec: appsv1.StatefulSetSpec{Replicas: &one, ServiceName: "overseerr", Selector: &metav1.LabelSelector{MatchLabels: lbl},
			Template: corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: lbl}, Spec: corev1.PodSpec{
				Volumes: []corev1.Volume{{Name: "litestream-config", VolumeSource: corev1.VolumeSource{ConfigMap: &corev1.ConfigMapVolumeSource{LocalObjectReference: corev1.LocalObjectReference{Name: "overseerr-litestream"}}}}},
				Containers: []corev1.Container{
					{Name: "overseerr", Image: "sctx/overseerr:1.33.2"},
					{Name: "litestream", Image: "litestream/litestream:0.5", Args: []string{"replicate", "-config", "/etc/litestream/litestream.yml"}, VolumeMounts: mounts},
				}}}}}
	if _, err := w.Client.AppsV1().StatefulSets(ns).Create(ctx, sts, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
}
