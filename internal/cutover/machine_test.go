package cutover_test

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"migrate-tui/internal/cutover"
	"migrate-tui/internal/state"
	"migrate-tui/internal/testtools/nomadjob"
)

// routes is a Router keeping its routes in memory: the machine's side of
// the seam (the file-provider router is proved against Traefik apart).
type routes struct {
	mu sync.Mutex
	on map[string]bool
	// refuse makes Switch fail as a router that could not write its route.
	refuse bool
}

func newRoutes() *routes { return &routes{on: map[string]bool{}} }

func (r *routes) Switch(_ context.Context, t cutover.Target) (string, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.refuse {
		return "", errors.New("route file not writable")
	}
	r.on[t.Service] = true
	return "test router", nil
}

func (r *routes) Unswitch(_ context.Context, t cutover.Target) (string, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	delete(r.on, t.Service)
	return "route of " + t.Service + " removed", nil
}

func (r *routes) has(svc string) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.on[svc]
}

func machine(dir, ns string, n cutover.Nomad, r cutover.Router) cutover.Machine {
	return cutover.Machine{Flow: flow(dir, ns, n), Router: r}
}

func recorded(t *testing.T, dir string) state.Cutover {
	t.Helper()
	st, err := state.Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	return st.Cutovers["whoami"]
}

// whoami goes through every state one transition at a time, each recorded
// in the state file; a check that fails blocks its transition with a typed
// error; a fresh machine (a rerun) resumes; the rollback registers the
// byte-identical job again and leaves no route.
func TestMachineMovesWhoamiThroughEveryState(t *testing.T) {
	s, c := sim(t)
	n := cutover.FromClient(c)
	dir := repo(t, c)
	ns := world.Namespace(t)
	before := nomadjob.Registered(t, s, "whoami")
	r := newRoutes()

	m := machine(dir, ns, n, r)
	if cur, _ := m.Current(); cur != cutover.OnNomadOnly {
		t.Fatalf("a service never touched is %s", cur)
	}
	out, err := m.Advance(ctxT(t, time.Minute))
	if err != nil || out.State != cutover.Scaffolded {
		t.Fatalf("to scaffolded: %v %+v", err, out)
	}
	// No Kubernetes objects yet: deployed is refused, nothing recorded.
	_, err = m.Advance(ctxT(t, time.Minute))
	var te *cutover.TransitionError
	if !errors.As(err, &te) || te.To != cutover.Deployed || te.Blockers[0].ID != "kubernetes-objects" || !errors.Is(err, cutover.ErrNotReady) {
		t.Fatalf("deployed without objects: %v", err)
	}
	if got := recorded(t, dir).State; got != string(cutover.Scaffolded) {
		t.Fatalf("a refused transition recorded %s", got)
	}
	whoami(t, ns, true)
	if out, err = m.Advance(ctxT(t, time.Minute)); err != nil || out.State != cutover.Deployed {
		t.Fatalf("to deployed: %v %+v", err, out)
	}

	// A plugged-in check (parity, later) that fails blocks verified.
	parity := func(ok bool) cutover.TransitionCheck {
		return func(_ context.Context, tg cutover.Target) cutover.GateCheck {
			c := cutover.GateCheck{ID: "parity", Checked: "the same answer from Nomad and Kubernetes for " + tg.Service, Status: cutover.Pass, Found: "200 on both"}
			if !ok {
				c.Status, c.Found, c.Next = cutover.Block, "Nomad 200, Kubernetes 502", "look at the Kubernetes copy's logs"
			}
			return c
		}
	}
	m.Checks = map[cutover.State][]cutover.TransitionCheck{cutover.Verified: {parity(false)}}
	from, to, g, err := m.Check(ctxT(t, time.Minute))
	if err != nil || from != cutover.Deployed || to != cutover.Verified || g.Ready() {
		t.Fatalf("check before verified: %v %s->%s ready=%v", err, from, to, g.Ready())
	}
	if _, err = m.Advance(ctxT(t, time.Minute)); !errors.As(err, &te) || te.Blockers[len(te.Blockers)-1].ID != "parity" {
		t.Fatalf("verified with parity failing: %v", err)
	}
	m.Checks = map[cutover.State][]cutover.TransitionCheck{cutover.Verified: {parity(true)}}
	if out, err = m.Advance(ctxT(t, time.Minute)); err != nil || out.State != cutover.Verified {
		t.Fatalf("to verified: %v %+v", err, out)
	}

	// A router that cannot switch: nothing recorded, Nomad untouched.
	r.refuse = true
	if _, err = m.Advance(ctxT(t, time.Minute)); !errors.Is(err, cutover.ErrRouting) {
		t.Fatalf("switch refused by the router: %v", err)
	}
	if co := recorded(t, dir); co.State != string(cutover.Verified) || co.RoutingConfirmedAt != nil {
		t.Fatalf("after a failed switch: %+v", co)
	}
	r.refuse = false
	if out, err = m.Advance(ctxT(t, time.Minute)); err != nil || out.State != cutover.TrafficSwitched || !r.has("whoami") {
		t.Fatalf("to traffic-switched: %v %+v", err, out)
	}
	if j := readJob(t, c, "whoami"); deref(j.Stop) {
		t.Fatal("the switch stopped the Nomad job")
	}

	// Quit here; a new machine (a rerun, the screen) resumes from the file.
	m2 := machine(dir, ns, n, r)
	out, err = m2.Run(ctxT(t, 3*time.Minute), cutover.Done)
	if err != nil || out.State != cutover.Done {
		t.Fatalf("resume to done: %v %+v", err, out)
	}
	var names []string
	for _, st := range out.Steps {
		names = append(names, st.Name)
	}
	if got := strings.Join(names, ","); got != "save-spec,stop-job,done" {
		t.Errorf("resumed steps %s, want save-spec,stop-job,done", got)
	}
	if j := readJob(t, c, "whoami"); !deref(j.Stop) {
		t.Fatal("done with the Nomad job still running")
	}
	if co := recorded(t, dir); co.State != string(cutover.Done) || co.Phase != state.CutoverOnKubernetes || co.RoutingSource != "test router" {
		t.Fatalf("recorded at done: state %s phase %s routing %q", co.State, co.Phase, co.RoutingSource)
	}
	if _, err := m2.Advance(ctxT(t, time.Minute)); !errors.Is(err, cutover.ErrAlreadyDone) {
		t.Fatalf("advance past done: %v", err)
	}

	out, err = m2.Rollback(ctxT(t, 3*time.Minute))
	if err != nil || out.State != cutover.OnNomadOnly {
		t.Fatalf("rollback: %v %+v", err, out)
	}
	if after := nomadjob.Registered(t, s, "whoami"); !bytes.Equal(before, after) {
		t.Errorf("the job registered again differs from the one stopped:\nbefore %s\nafter  %s", before, after)
	}
	if r.has("whoami") {
		t.Error("the route to Kubernetes is left after the rollback")
	}
	co := recorded(t, dir)
	if co.State != string(cutover.OnNomadOnly) || co.Phase != state.CutoverOnNomad || co.RoutingConfirmedAt != nil {
		t.Errorf("recorded after rollback: %+v", co)
	}
	if _, err := m2.Rollback(ctxT(t, time.Minute)); !errors.Is(err, cutover.ErrNothingToRollBack) {
		t.Errorf("second rollback: %v", err)
	}
}

// From every state the rollback lands on Nomad only, the job running and
// no route.
func TestMachineRollsBackFromEveryState(t *testing.T) {
	s, c := sim(t)
	n := cutover.FromClient(c)
	dir := repo(t, c)
	ns := world.Namespace(t)
	whoami(t, ns, true)
	before := nomadjob.Registered(t, s, "whoami")
	r := newRoutes()
	m := machine(dir, ns, n, r)
	for _, target := range cutover.States()[1:] {
		t.Run(string(target), func(t *testing.T) {
			out, err := m.Run(ctxT(t, 3*time.Minute), target)
			if err != nil || out.State != target {
				t.Fatalf("to %s: %v %+v", target, err, out)
			}
			if _, err := m.Rollback(ctxT(t, 3*time.Minute)); err != nil {
				t.Fatalf("rollback from %s: %v", target, err)
			}
			if co := recorded(t, dir); co.State != string(cutover.OnNomadOnly) || co.Phase != state.CutoverOnNomad {
				t.Errorf("after rollback from %s: state %s phase %s", target, co.State, co.Phase)
			}
			if r.has("whoami") {
				t.Errorf("route left after rollback from %s", target)
			}
			if j := readJob(t, c, "whoami"); deref(j.Stop) || deref(j.Status) != "running" {
				t.Errorf("after rollback from %s whoami stop=%v status %s", target, deref(j.Stop), deref(j.Status))
			}
			if after := nomadjob.Registered(t, s, "whoami"); !bytes.Equal(before, after) {
				t.Errorf("job after rollback from %s differs:\nbefore %s\nafter  %s", target, before, after)
			}
		})
	}
}

// A state file from before the machine (phase only) reads as its state.
func TestStateOfOldRecords(t *testing.T) {
	now := time.Now()
	for _, tc := range []struct {
		c    state.Cutover
		want cutover.State
	}{
		{state.Cutover{Phase: state.CutoverOnNomad}, cutover.OnNomadOnly},
		{state.Cutover{Phase: state.CutoverStopping}, cutover.Verified},
		{state.Cutover{Phase: state.CutoverOnKubernetes}, cutover.NomadStopped},
		{state.Cutover{Phase: state.CutoverOnKubernetes, RoutingConfirmedAt: &now}, cutover.Done},
		{state.Cutover{Phase: state.CutoverOnNomad, State: state.StateDeployed}, cutover.Deployed},
	} {
		if got := cutover.StateOf(tc.c, true); got != tc.want {
			t.Errorf("StateOf(%+v) = %s, want %s", tc.c, got, tc.want)
		}
	}
}

// scaffolded also means module.scaffolded_<service> in services.generated.tf.
func TestScaffoldedByGeneratedModule(t *testing.T) {
	_, c := sim(t)
	dir := repo(t, c)
	gen := "module \"scaffolded_plex\" {\n  source = \"./modules-k8s/generated/plex\"\n}\n"
	if err := os.WriteFile(filepath.Join(dir, "services.generated.tf"), []byte(gen), 0o644); err != nil {
		t.Fatal(err)
	}
	in := gateInput("poc", cutover.FromClient(c), "plex", true)
	for svc, ok := range map[string]bool{"plex": true, "sonarr": false} {
		in.Target = cutover.Target{Service: svc}
		m := cutover.Machine{Flow: cutover.Flow{Repo: dir, Gate: in}}
		_, to, g, err := m.Check(ctxT(t, time.Minute))
		if err != nil || to != cutover.Scaffolded || g.Ready() != ok {
			t.Errorf("%s: to %s ready %v (want %v): %v %+v", svc, to, g.Ready(), ok, err, g.Checks)
		}
	}
}

// Run stops at the state asked for, and asked for a state already passed
// it changes nothing.
func TestMachineRunStopsAtItsTarget(t *testing.T) {
	_, c := sim(t)
	n := cutover.FromClient(c)
	dir := repo(t, c)
	ns := world.Namespace(t)
	whoami(t, ns, true)
	m := machine(dir, ns, n, newRoutes())
	out, err := m.Run(ctxT(t, 2*time.Minute), cutover.Verified)
	if err != nil || out.State != cutover.Verified || len(out.Steps) != 3 {
		t.Fatalf("run to verified: %v %+v", err, out)
	}
	out, err = m.Run(ctxT(t, time.Minute), cutover.Deployed)
	if err != nil || out.State != cutover.Verified || len(out.Steps) != 0 {
		t.Fatalf("run to deployed from verified: %v %+v", err, out)
	}
	if got := recorded(t, dir).State; got != string(cutover.Verified) {
		t.Errorf("recorded %s", got)
	}
}

// A service beyond the PoC goes the same way: plex, scaffolded
// (module.scaffolded_plex), deployed, through every state and back to the
// byte-identical Nomad job.
func TestMachineMovesAScaffoldedService(t *testing.T) {
	s, c := sim(t)
	n := cutover.FromClient(c)
	dir := repo(t, c)
	ns := world.Namespace(t)
	gen := "module \"scaffolded_plex\" {\n  source = \"./modules-k8s/generated/plex\"\n}\n"
	if err := os.WriteFile(filepath.Join(dir, "services.generated.tf"), []byte(gen), 0o644); err != nil {
		t.Fatal(err)
	}
	before := nomadjob.Registered(t, s, "plex")
	r := newRoutes()
	in := gateInput(ns, n, "plex", true)
	m := cutover.Machine{Flow: cutover.Flow{Repo: dir, Gate: in,
		Routing: cutover.Routing{Service: "plex", Host: "plex.brmartin.co.uk"}, Wait: time.Minute,
		Prompts: cutover.Prompts{ConfirmStop: yes, ConfirmRollback: func(string) bool { return true }}}, Router: r}

	out, err := m.Run(ctxT(t, time.Minute), cutover.Done)
	var te *cutover.TransitionError
	if !errors.As(err, &te) || out.State != cutover.Scaffolded || te.Blockers[0].ID != "kubernetes-objects" {
		t.Fatalf("plex before its objects: %v %+v", err, out)
	}
	deploy(t, ns, "plex", true)
	if out, err = m.Run(ctxT(t, 3*time.Minute), cutover.Done); err != nil || out.State != cutover.Done || !r.has("plex") {
		t.Fatalf("plex to done: %v %+v", err, out)
	}
	if j := readJob(t, c, "plex"); !deref(j.Stop) {
		t.Fatal("plex done with its Nomad job running")
	}
	if _, err := m.Rollback(ctxT(t, 3*time.Minute)); err != nil {
		t.Fatalf("plex rollback: %v", err)
	}
	if after := nomadjob.Registered(t, s, "plex"); !bytes.Equal(before, after) || r.has("plex") {
		t.Errorf("plex after rollback: route %v, job differs %v", r.has("plex"), !bytes.Equal(before, after))
	}
}
