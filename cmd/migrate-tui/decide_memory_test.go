package main

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"migrate-tui/internal/nomadwatch"
	"migrate-tui/internal/state"
)

// TestDecideMemoryOnASmallNode: preflight saw nyx with about 600 MB free
// beside Nomad's allocations. decide --list --json shows each node's
// estimate beside its free memory, per option too, and recommends the
// topology that fits; decide warns after a decision that does not fit.
func TestDecideMemoryOnASmallNode(t *testing.T) {
	repo := t.TempDir()
	st := state.New(time.Now())
	st.Preflight = &state.Preflight{Inventory: []nomadwatch.Node{
		{Name: "hestia", Arch: "amd64", MemoryMB: 16000, AllocatedMemoryMB: 8000},
		{Name: "heracles", Arch: "arm64", MemoryMB: 8000, AllocatedMemoryMB: 4000},
		{Name: "nyx", Arch: "arm64", MemoryMB: 4000, ReservedMemoryMB: 400, AllocatedMemoryMB: 3000},
	}}
	if err := state.Save(repo, st, time.Now()); err != nil {
		t.Fatal(err)
	}
	out, errOut, code := runCmd(t, "", "--dir", repo, "decide", "--list", "--json")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	type report struct {
		Nodes []struct {
			Node       string `json:"node"`
			Role       string `json:"role"`
			EstimateMB int    `json:"estimate_mb"`
			FreeMB     int    `json:"free_mb"`
			Fits       bool   `json:"fits"`
		} `json:"nodes"`
		Fits bool `json:"fits"`
	}
	var list []struct {
		Key     string `json:"key"`
		Options []struct {
			Value  string  `json:"value"`
			Memory *report `json:"memory"`
		} `json:"options"`
		Memory *struct {
			Estimate       report `json:"estimate"`
			Recommendation *struct {
				Changes map[string]string `json:"changes"`
			} `json:"recommendation"`
		} `json:"memory"`
	}
	if err := json.Unmarshal([]byte(out), &list); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	topo := list[0]
	if topo.Key != "control_plane_topology" || topo.Memory == nil || topo.Memory.Estimate.Fits {
		t.Fatalf("topology entry = %+v, want an estimate that does not fit", topo)
	}
	for _, n := range topo.Memory.Estimate.Nodes {
		if n.Node == "nyx" && (n.FreeMB != 600 || n.Fits || n.EstimateMB <= 600) {
			t.Errorf("nyx = %+v, want 600 MB free and not fitting", n)
		}
	}
	if r := topo.Memory.Recommendation; r == nil || r.Changes["control_plane_topology"] != "1-server-2-agents" {
		t.Errorf("recommendation = %+v", topo.Memory.Recommendation)
	}
	for _, o := range topo.Options {
		if o.Memory == nil || o.Memory.Fits != (o.Value == "1-server-2-agents") {
			t.Errorf("option %s: memory %+v, want only 1-server-2-agents to fit", o.Value, o.Memory)
		}
	}
	for _, d := range list {
		if d.Key == "poc_namespace" && len(d.Options) > 0 && d.Options[0].Memory != nil {
			t.Error("a decision that does not change memory lists an estimate")
		}
	}

	_, errOut, code = runCmd(t, "", "--dir", repo, "decide", "--set", "vpa_update_mode=Recreate")
	if code != 0 || !strings.Contains(errOut, "warning: memory: nyx (server) needs about") || !strings.Contains(errOut, "control_plane_topology=1-server-2-agents") {
		t.Fatalf("decide that does not fit: exit %d, stderr:\n%s", code, errOut)
	}
	_, errOut, code = runCmd(t, "", "--dir", repo, "decide", "--set", "control_plane_topology=1-server-2-agents")
	if code != 0 || strings.Contains(errOut, "warning: memory") {
		t.Fatalf("decide that fits: exit %d, stderr:\n%s", code, errOut)
	}
	out, _, _ = runCmd(t, "", "--dir", repo, "decide", "--list")
	if !strings.Contains(out, "✓ nyx (agent): K3s + platform ~418 MB, 600 MB free beside Nomad") {
		t.Errorf("decide --list:\n%s", out)
	}
}
