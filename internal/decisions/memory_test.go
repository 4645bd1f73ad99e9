package decisions

import (
	"strings"
	"testing"
)

// smallNode is the homelab with a realistic set of Nomad jobs: the small
// arm64 node has about 600 MB free beside Nomad's allocations.
func smallNode() Context {
	c := DefaultContext()
	c.NodeMemoryMB = map[string]int{"hestia": 3000, "heracles": 2500, "nyx": 600}
	return c
}

func TestEstimateMemorySmallNode(t *testing.T) {
	r := EstimateMemory(Answers{}, smallNode())
	if !r.Known || r.Fits {
		t.Fatalf("defaults on a 600 MB node: known %v fits %v, want known and not fitting", r.Known, r.Fits)
	}
	byNode := map[string]NodeMemory{}
	for _, n := range r.Nodes {
		byNode[n.Node] = n
	}
	// A server with Cilium: control plane + agent + Cilium agent.
	want := figure("k3s-control-plane").MB + figure("k3s-agent").MB + figure("cilium-agent").MB
	if n := byNode["nyx"]; n.EstimateMB != want || n.FreeMB != 600 || n.Fits || n.Role != "server" {
		t.Errorf("nyx = %+v, want a server needing %d MB of 600 that does not fit", n, want)
	}
	if n := byNode["hestia"]; !n.Fits || n.EstimateMB != want {
		t.Errorf("hestia = %+v", n)
	}
	if len(r.Problems) != 1 || !strings.Contains(r.Problems[0], "nyx (server) needs about 738 MB") {
		t.Errorf("problems = %v", r.Problems)
	}
	lines := strings.Join(MemoryLines(r), "\n")
	if !strings.Contains(lines, "✗ nyx (server): K3s + platform ~738 MB, 600 MB free beside Nomad") {
		t.Errorf("lines:\n%s", lines)
	}

	// The nearest set that fits: one server (the roomiest node), the others
	// agents; nyx as an agent with Cilium needs 418 MB.
	rec := RecommendMemory(Answers{}, smallNode())
	if rec == nil || len(rec.Changes) != 1 || rec.Changes["control_plane_topology"] != "1-server-2-agents" || !rec.Report.Fits {
		t.Fatalf("recommendation = %+v, want only control_plane_topology=1-server-2-agents", rec)
	}
	for _, n := range rec.Report.Nodes {
		if (n.Node == "hestia") != (n.Role == "server") {
			t.Errorf("recommended roles: %s is %s, want hestia (most free memory) the server", n.Node, n.Role)
		}
	}
	if !strings.Contains(rec.Text, "decide --set control_plane_topology=1-server-2-agents") {
		t.Errorf("text = %q", rec.Text)
	}
}

func TestEstimateMemoryOptionsMatter(t *testing.T) {
	c := smallNode()
	base := EstimateMemory(Answers{}, c).ClusterMB
	recreate := EstimateMemory(Answers{"vpa_update_mode": "Recreate"}, c).ClusterMB
	if recreate != base+figure("vpa-updater").MB+figure("vpa-admission").MB {
		t.Errorf("Recreate adds %d MB, want the updater and admission controller", recreate-base)
	}
	direct := EstimateMemory(Answers{"ingress_mode": "external-direct", "k3s_disable": []string{"traefik", "servicelb"}}, c).ClusterMB
	if direct != base-figure("traefik").MB {
		t.Errorf("external-direct: %d MB cluster-wide, want %d without Traefik", direct, base-figure("traefik").MB)
	}
	linkerd := EstimateMemory(Answers{"service_mesh": "linkerd"}, c)
	for _, n := range linkerd.Nodes {
		if n.EstimateMB != figure("k3s-control-plane").MB+figure("k3s-agent").MB {
			t.Errorf("linkerd: %s %d MB, want no per-node mesh agent", n.Node, n.EstimateMB)
		}
	}
}

func TestEstimateMemoryUnknownAndNothingFits(t *testing.T) {
	r := EstimateMemory(Answers{}, DefaultContext())
	if r.Known || r.Fits || r.Nodes[0].FreeMB != -1 {
		t.Errorf("without preflight: %+v, want unknown", r)
	}
	if RecommendMemory(Answers{}, DefaultContext()) != nil {
		t.Error("recommended without knowing the free memory")
	}
	c := DefaultContext()
	c.NodeMemoryMB = map[string]int{"hestia": 200, "heracles": 200, "nyx": 200}
	rec := RecommendMemory(Answers{}, c)
	if rec == nil || len(rec.Changes) != 0 || !strings.Contains(rec.Text, "no combination") {
		t.Fatalf("200 MB everywhere: %+v, want no fitting combination, said so", rec)
	}
}
