package preflight

import (
	"context"
	"errors"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"migrate-tui/internal/decisions"
	"migrate-tui/internal/nomadsim"
	"migrate-tui/internal/nomadwatch"
	"migrate-tui/internal/state"
	"migrate-tui/internal/steps"
)

const token = "3f0c1c9e-preflight-test-token"

func startSim(t *testing.T) *nomadsim.Server {
	t.Helper()
	s := nomadsim.New(nomadsim.Options{Token: token})
	if err := s.Start("127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func envFor(addr, tok string) Env {
	return Env{
		LookPath: func(name string) (string, error) { return "/opt/bin/" + name, nil },
		Connect: func() (Nomad, error) {
			c, err := nomadwatch.NewClient(addr, tok)
			if err != nil {
				return nil, err
			}
			return c, nil
		},
	}
}

func TestPreflightAgainstSimulator(t *testing.T) {
	sim := startSim(t)
	env := envFor(sim.URL(), token)
	ctx := context.Background()
	dir := t.TempDir()
	st := state.New(time.Now())
	for _, id := range StepIDs {
		r := Run(ctx, id, env)
		if r.Status != steps.Done || r.Err != nil {
			t.Fatalf("%s: %s: %v", id, r.Status, r.Err)
		}
		if len(r.Evidence) == 0 {
			t.Errorf("%s left no evidence", id)
		}
		Record(st, r, time.Now())
	}
	if err := state.Save(dir, st, time.Now()); err != nil {
		t.Fatal(err)
	}
	st, err := state.Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	inv := st.Preflight.Inventory
	var names []string
	for _, n := range inv {
		names = append(names, n.Name+"/"+n.Arch)
		if n.MemoryMB <= 0 || n.Address == "" {
			t.Errorf("node %s lacks memory or address: %+v", n.Name, n)
		}
	}
	if !slices.Equal(names, []string{"heracles/arm64", "hestia/amd64", "nyx/arm64"}) {
		t.Fatalf("inventory = %v", names)
	}
	b, err := st.Baseline()
	if err != nil {
		t.Fatal(err)
	}
	if j, ok := b.Job("whoami"); !ok || j.Status != "running" {
		t.Fatalf("baseline lacks a running whoami: %+v", j)
	}
	if got := b.ExternalTraefikNodes(); !slices.Equal(got, []string{"hestia"}) {
		t.Errorf("external Traefik nodes = %v, want hestia", got)
	}
	if st.Preflight.Tools["tofu"] != "/opt/bin/tofu" || st.Preflight.NomadAddr != sim.URL() {
		t.Errorf("preflight record = %+v", st.Preflight)
	}
	// The token never lands in the state.
	raw, _ := os.ReadFile(state.Path(dir))
	if strings.Contains(string(raw), token) {
		t.Fatal("the Nomad token was written to the state file")
	}
	// The context feeds the cross-checks: bundled Traefik is refused on the
	// node the simulator runs Traefik on.
	c := st.DecisionContext()
	if c.NodeMemoryMB["heracles"] <= 0 || c.NodeMemoryMB["hestia"] <= c.NodeMemoryMB["heracles"] {
		t.Errorf("free memory = %v", c.NodeMemoryMB)
	}
	conf := decisions.Check(decisions.Answers{"ingress_mode": "bundled-traefik", "k3s_disable": []string{}}, c)
	if len(conf) != 1 || conf[0].ID != "bundled-traefik-clashes" {
		t.Errorf("bundled traefik with the simulator's inventory: %v", conf)
	}
	// Suggested nodes follow the inventory; Hestia has the most free memory.
	sug := SuggestedNodes(inv, "1-server-2-agents")
	if sug[0].Name != "hestia" || sug[0].Role != "server" || sug[1].Role != "agent" || sug[0].Address == "" {
		t.Errorf("suggested nodes = %+v", sug)
	}
	if err := decisions.Get("nodes").Check(sug); err != nil {
		t.Errorf("suggested nodes fail validation: %v", err)
	}
	if ha := SuggestedNodes(inv, "ha-3-servers"); ha[0].Name != "hestia" || ha[1].Role != "server" || ha[2].Role != "server" {
		t.Errorf("suggested HA nodes = %+v", ha)
	}
	if lines := MemoryLines(inv, sug); len(lines) != 3 || !strings.Contains(lines[0], "MB free beside Nomad, K3s") {
		t.Errorf("memory lines = %v", lines)
	}
}

func TestBadToken(t *testing.T) {
	sim := startSim(t)
	r := Run(context.Background(), "preflight.nomad", envFor(sim.URL(), "not-the-token"))
	if r.Status != steps.Failed || !errors.Is(r.Err, nomadwatch.ErrPermission) {
		t.Fatalf("with a bad token: %s, %v", r.Status, r.Err)
	}
	if !strings.Contains(r.Err.Error(), "NOMAD_TOKEN") {
		t.Errorf("message %q does not point at NOMAD_TOKEN", r.Err)
	}
	st := state.New(time.Now())
	Record(st, r, time.Now())
	if rec := st.Record("preflight.nomad"); rec.Status != steps.Failed || !strings.Contains(rec.Error, "NOMAD_TOKEN") {
		t.Errorf("recorded %+v", rec)
	}
	if st.Preflight != nil {
		t.Error("a failed step stored findings")
	}
	r = Run(context.Background(), "preflight.inventory", envFor(sim.URL(), ""))
	if r.Status != steps.Failed || !strings.Contains(r.Err.Error(), "no token was sent") {
		t.Fatalf("without a token: %s, %v", r.Status, r.Err)
	}
}

func TestNomadUnreachable(t *testing.T) {
	sim := startSim(t)
	addr := sim.URL()
	sim.Close()
	r := Run(context.Background(), "preflight.nomad", envFor(addr, token))
	if r.Status != steps.Failed || !errors.Is(r.Err, nomadwatch.ErrUnreachable) || !strings.Contains(r.Err.Error(), "NOMAD_ADDR") {
		t.Fatalf("unreachable Nomad: %s, %v", r.Status, r.Err)
	}
}

func TestToolsMissing(t *testing.T) {
	env := Env{LookPath: func(name string) (string, error) {
		if name == "terraform" {
			return "/usr/local/bin/terraform", nil
		}
		return "", errors.New("not found")
	}}
	r := Tools(env)
	if r.Status != steps.Failed || !strings.Contains(r.Err.Error(), "ssh") || strings.Contains(r.Err.Error(), "tofu") {
		t.Fatalf("without ssh: %s, %v", r.Status, r.Err)
	}
	env.LookPath = func(name string) (string, error) { return "", errors.New("not found") }
	if r := Tools(env); r.Status != steps.Failed || !strings.Contains(r.Err.Error(), "terraform or tofu") {
		t.Fatalf("with nothing: %v", r.Err)
	}
	env.LookPath = func(name string) (string, error) { return "/bin/" + name, nil }
	if r := Tools(env); r.Status != steps.Done || !strings.HasPrefix(r.Evidence[0], "tofu:") {
		t.Fatalf("with everything: %+v", r)
	}
}
