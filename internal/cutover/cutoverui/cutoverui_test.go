package cutoverui_test

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/x/ansi"
	"github.com/charmbracelet/x/exp/teatest"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"migrate-tui/internal/checks"
	"migrate-tui/internal/cutover"
	"migrate-tui/internal/cutover/cutoverui"
	"migrate-tui/internal/nomadsim"
	"migrate-tui/internal/nomadwatch"
	"migrate-tui/internal/rightsize"
	"migrate-tui/internal/state"
	"migrate-tui/internal/status"
	"migrate-tui/internal/testtools/nomadjob"
	"migrate-tui/internal/testworld"
)

var world *testworld.World

func TestMain(m *testing.M) {
	testworld.Main(m, "cutoverui", testworld.Options{Controllers: true, KWOK: true}, &world)
}

// patience bounds each wait for the screen (a hang guard, not an assertion):
// a transition runs the readiness gate against the world on shared cores.
const patience = 3 * time.Minute

func ctxT(t *testing.T, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}

// world: the Nomad simulator, a repository with its preflight baseline and
// whoami's module, a namespace of the test world.
func setup(t *testing.T) (*nomadsim.Server, *nomadwatch.Client, string, string) {
	t.Helper()
	s, c := nomadsim.StartT(t, nomadsim.Options{Token: "cutoverui-token"})
	dir := t.TempDir()
	b, err := nomadwatch.TakeBaseline(ctxT(t, time.Minute), c)
	if err != nil {
		t.Fatal(err)
	}
	st := state.New(time.Now())
	st.Preflight = &state.Preflight{NomadAddr: c.Address(), Baseline: &b}
	if err := state.Save(dir, st, time.Now()); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(dir, "modules-k8s", "whoami"), 0o755); err != nil {
		t.Fatal(err)
	}
	return s, c, dir, world.Namespace(t)
}

func driver(dir, ns string, c *nomadwatch.Client) cutoverui.MachineDriver {
	d := checks.DefaultDecisions()
	d.PoCNamespace = ns
	deps := &checks.Deps{Kube: world.Client, Dynamic: world.Dynamic, Decisions: d}
	// Right-sizing as the wizard wires it: rightsize.ForService on the same
	// cluster and Nomad; what cannot be read is shown with the reason.
	rs := func(ctx context.Context, svc string) rightsize.Service {
		st, err := state.Load(dir)
		if err != nil {
			return rightsize.Service{Service: svc, Where: "nomad", Status: status.Skip, Evidence: err.Error()}
		}
		rd := *deps
		rd.Nomad = checks.NomadWatch{N: c}
		r, err := rightsize.ForService(ctx, &rd, st, svc)
		if err != nil {
			r.Status, r.Evidence = status.Skip, "right-sizing not read: "+err.Error()
		}
		return r
	}
	return cutoverui.MachineDriver{Repo: dir, Nomad: c, RightsizeService: rs, New: func(e cutover.Entry) cutover.Machine {
		return cutover.Machine{Flow: cutover.Flow{Repo: dir,
			Gate: cutover.GateInput{Target: cutover.Target{Service: e.Service, NomadJob: e.NomadJob, Namespace: e.Namespace},
				Nomad: cutover.FromClient(c), Deps: deps, RunOptions: checks.RunOptions{Timeout: 30 * time.Second}},
			Routing: cutover.Routing{Service: e.Service, Host: e.Service + ".brmartin.co.uk", Backends: []string{"hestia:32443"}},
			Wait:    time.Minute}}
	}}
}

// host mounts the screen as the wizard does (its Update returns its type).
type host struct{ m cutoverui.Model }

func (h host) Init() tea.Cmd { return h.m.Init() }
func (h host) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	m, cmd := h.m.Update(msg)
	return host{m}, cmd
}
func (h host) View() string { return h.m.View() }

func waitText(t *testing.T, tm *teatest.TestModel, want ...string) {
	t.Helper()
	teatest.WaitFor(t, tm.Output(), func(b []byte) bool {
		s := ansi.Strip(string(b))
		for _, w := range want {
			if !strings.Contains(s, w) {
				return false
			}
		}
		return true
	}, teatest.WithDuration(patience), teatest.WithCheckInterval(20*time.Millisecond))
}

// deployWhoami creates whoami's Deployment (what the services stage
// applies) and waits until KWOK runs it Ready behind its Service.
func deployWhoami(t *testing.T, ns string) {
	t.Helper()
	ctx := ctxT(t, 3*time.Minute)
	labels := map[string]string{"app.kubernetes.io/name": "whoami"}
	one := int32(1)
	dep := &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Name: "whoami", Labels: labels},
		Spec: appsv1.DeploymentSpec{Replicas: &one, Selector: &metav1.LabelSelector{MatchLabels: labels},
			Template: corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: labels}, Spec: corev1.PodSpec{
				Containers:  []corev1.Container{{Name: "whoami", Image: "traefik/whoami:v1.10", Ports: []corev1.ContainerPort{{ContainerPort: 80}}}},
				Tolerations: []corev1.Toleration{{Key: "kwok.x-k8s.io/node", Operator: corev1.TolerationOpExists, Effect: corev1.TaintEffectNoSchedule}}}}}}
	if _, err := world.Client.AppsV1().Deployments(ns).Create(ctx, dep, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	svc := &corev1.Service{ObjectMeta: metav1.ObjectMeta{Name: "whoami"}, Spec: corev1.ServiceSpec{Selector: labels, Ports: []corev1.ServicePort{{Port: 80}}}}
	if _, err := world.Client.CoreV1().Services(ns).Create(ctx, svc, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	for {
		d, err := world.Client.AppsV1().Deployments(ns).Get(ctx, "whoami", metav1.GetOptions{})
		if err == nil && d.Status.ReadyReplicas == 1 {
			eps, err := world.Client.DiscoveryV1().EndpointSlices(ns).List(ctx, metav1.ListOptions{LabelSelector: "kubernetes.io/service-name=whoami"})
			if err == nil && len(eps.Items) > 0 && len(eps.Items[0].Endpoints) > 0 {
				return
			}
		}
		select {
		case <-ctx.Done():
			t.Fatalf("whoami never became Ready in %s: %v", ns, ctx.Err())
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// open starts the screen and opens whoami's checklist. Output read is
// gone, so each wait names everything its frames show (then too).
func open(t *testing.T, d cutoverui.MachineDriver, state string, then ...string) *teatest.TestModel {
	t.Helper()
	es, err := d.List(ctxT(t, time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	idx := -1
	for i, e := range es {
		if e.Service == "whoami" {
			idx = i
		}
	}
	if idx < 0 || len(es) < len(nomadsim.HomelabJobIDs()) {
		t.Fatalf("the list lacks whoami or other Nomad jobs: %+v", es)
	}
	tm := teatest.NewTestModel(t, host{cutoverui.New(context.Background(), d)}, teatest.WithInitialTermSize(220, 80))
	t.Cleanup(func() { _ = tm.Quit() })
	// Every Nomad job is listed, whoami with its state.
	waitText(t, tm, "plex", "overseerr", "whoami", state)
	for range idx {
		tm.Send(tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune("j")})
	}
	tm.Send(tea.KeyMsg{Type: tea.KeyEnter})
	waitText(t, tm, append(then, "whoami (Nomad job whoami): "+state)...)
	return tm
}

// advance presses a, waits for the question (and confirm), says y and
// waits for whoami in state to with the next checklist (then).
func advance(t *testing.T, tm *teatest.TestModel, to string, confirm []string, then ...string) {
	t.Helper()
	tm.Type("a")
	waitText(t, tm, append(confirm, "[y/n]")...)
	tm.Type("y")
	waitText(t, tm, append(then, "whoami (Nomad job whoami): "+to)...)
}

// The screen moves whoami through every state with the machine the CLI
// uses: a failing check blocks its transition, quitting mid-way and opening
// the screen again resumes, and the rollback registers the byte-identical
// Nomad job again and clears the route.
func TestScreenMovesWhoamiThroughEveryStateAndBack(t *testing.T) {
	s, c, dir, ns := setup(t)
	before := nomadjob.Registered(t, s, "whoami")
	d := driver(dir, ns, c)

	// The checklist shows the service's right-sizing under its checks: this
	// world serves no VPA type, and the screen says so.
	tm := open(t, d, "on-nomad-only", "Checks before scaffolded: ready", "Right-sizing:", "listing VerticalPodAutoscalers")
	// No Kubernetes objects yet: deployed is refused with the reason.
	advance(t, tm, "scaffolded", nil, "Checks before deployed: blocked by 1 check(s)", "kubernetes-objects", "no Deployment, StatefulSet")
	tm.Type("a")
	waitText(t, tm, "[y/n]")
	tm.Type("y")
	waitText(t, tm, "Refused, nothing changed")
	deployWhoami(t, ns)
	tm.Type("r")
	waitText(t, tm, "Checks before deployed: ready")
	// HTTPS cannot be observed here (no address of the K3s Traefik): it
	// blocks until the operator accepts it (u, the --accept-unobserved twin).
	advance(t, tm, "deployed", nil, "Checks before verified: blocked by 1 check(s)", "SC-004", "cannot be observed here", "SC-001", "nomad-job")
	tm.Type("u")
	waitText(t, tm, "Checks before verified: ready", "accepted (u to stop)")
	advance(t, tm, "verified", nil, "Checks before traffic-switched: ready")
	// The traffic switch shows the Traefik change to make and confirm.
	advance(t, tm, "traffic-switched", []string{"Host(`whoami.brmartin.co.uk`)", "Have you made this change"}, "Checks before nomad-stopped: ready")
	if err := tm.Quit(); err != nil {
		t.Fatal(err)
	}
	tm.WaitFinished(t, teatest.WithFinalTimeout(patience))
	if co := recorded(t, dir); co.State != state.StateTrafficSwitched || co.RoutingSource != "wizard" {
		t.Fatalf("after quitting: state %s routing %q", co.State, co.RoutingSource)
	}

	// Opened again: it resumes where the state file says.
	tm = open(t, d, "traffic-switched", "Checks before nomad-stopped: blocked by 1 check(s)")
	tm.Type("u")
	waitText(t, tm, "Checks before nomad-stopped: ready")
	advance(t, tm, "nomad-stopped", []string{"Stop Nomad job whoami now?"}, "Checks before done: ready", "nomad-guard")
	advance(t, tm, "done", nil, "No transition left")
	tm.Type("b")
	waitText(t, tm, "Roll whoami back to on-nomad-only (now done)?")
	tm.Type("y")
	waitText(t, tm, "register-job", "unswitch", "whoami (Nomad job whoami): on-nomad-only")
	if after := nomadjob.Registered(t, s, "whoami"); !bytes.Equal(before, after) {
		t.Errorf("the Nomad job registered again differs:\nbefore %s\nafter  %s", before, after)
	}
	co := recorded(t, dir)
	if co.State != state.StateOnNomadOnly || co.Phase != state.CutoverOnNomad || co.RoutingConfirmedAt != nil {
		t.Errorf("after the rollback: state %s phase %s routing %v", co.State, co.Phase, co.RoutingConfirmedAt)
	}
}

func recorded(t *testing.T, dir string) state.Cutover {
	t.Helper()
	st, err := state.Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	return st.Cutovers["whoami"]
}
