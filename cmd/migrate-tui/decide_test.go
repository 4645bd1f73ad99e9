package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"migrate-tui/internal/decisions"
	"migrate-tui/internal/state"
	"migrate-tui/internal/steps"
)

func jsonMarshal(v any) ([]byte, error) { return json.Marshal(v) }

func TestDecideSetDefaultsAndRefusals(t *testing.T) {
	repo := t.TempDir()
	out, errOut, code := runCmd(t, "", "--dir", repo, "decide", "--set", "service_mesh=linkerd", "--set", "control_plane_topology=1-server-2-agents")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	if !strings.Contains(out, "decided service_mesh = linkerd") || !strings.Contains(out, "derived: nodes follow 1-server-2-agents") {
		t.Fatalf("output:\n%s", out)
	}
	// A refused answer: exit 2, the reason and what to choose instead; nothing changes.
	before, _ := os.ReadFile(filepath.Join(repo, "terraform.tfvars"))
	_, errOut, code = runCmd(t, "", "--dir", repo, "decide", "--set", "node_port_range=30000-32767")
	if code != 2 || !strings.Contains(errOut, "overlaps Nomad's dynamic ports") || !strings.Contains(errOut, "Choose instead") {
		t.Fatalf("refusal: exit %d: %s", code, errOut)
	}
	after, _ := os.ReadFile(filepath.Join(repo, "terraform.tfvars"))
	if string(before) != string(after) {
		t.Fatal("a refused decision changed terraform.tfvars")
	}
	for _, bad := range [][]string{
		{"decide", "--set", "service_mesh=consul"},
		{"decide", "--set", "mesh=cilium"},
		{"decide", "--set", "kubeconfig_path=/x"},
		{"decide"},
		{"decide", "--list", "--set", "a=b"},
	} {
		if _, errOut, code := runCmd(t, "", append([]string{"--dir", repo}, bad...)...); code != 2 || errOut == "" {
			t.Errorf("%v: exit %d, %q", bad, code, errOut)
		}
	}
	// --defaults fills every question still open; decided ones stay.
	if _, errOut, code := runCmd(t, "", "--dir", repo, "decide", "--defaults"); code != 0 {
		t.Fatalf("--defaults: %s", errOut)
	}
	st, err := state.Load(repo)
	if err != nil {
		t.Fatal(err)
	}
	ans, _ := st.Answers()
	if ans.Str("service_mesh") != "linkerd" || ans.Str("storage_backend") != "local-path" {
		t.Fatalf("answers = %v", ans)
	}
	if _, asked := ans["cilium_ipam_mode"]; asked {
		t.Error("--defaults decided cilium_ipam_mode, which is not asked with linkerd")
	}
	for _, id := range []string{"decide.topology", "decide.mesh", "decide.cluster", "decide.services"} {
		if st.Record(id).Status != steps.Done {
			t.Errorf("%s is %s", id, st.Record(id).Status)
		}
	}
	// status --json reflects it.
	out, _, code = runCmd(t, "", "--dir", repo, "status", "--json")
	var rep struct {
		Next  string `json:"next"`
		Steps []struct {
			ID     string `json:"id"`
			Status string `json:"status"`
		} `json:"steps"`
		Decisions map[string]any `json:"decisions"`
	}
	if code != 0 || json.Unmarshal([]byte(out), &rep) != nil {
		t.Fatalf("status --json: %d %s", code, out)
	}
	if rep.Next != "preflight.tools" || rep.Decisions["service_mesh"] != "linkerd" || len(rep.Steps) != len(steps.Default().Steps) {
		t.Fatalf("status = %+v", rep)
	}
	out, _, _ = runCmd(t, "", "--dir", repo, "status")
	if !strings.Contains(out, "✓ decide.mesh") || !strings.Contains(out, "Next: preflight.tools") {
		t.Fatalf("status:\n%s", out)
	}
}

func TestDecideList(t *testing.T) {
	out, _, code := runCmd(t, "", "decide", "--list", "--json")
	var list []struct {
		Key     string `json:"key"`
		Options []struct {
			Value string `json:"value"`
		} `json:"options"`
		Default       any    `json:"default"`
		DefaultReason string `json:"default_reason"`
	}
	if code != 0 || json.Unmarshal([]byte(out), &list) != nil || len(list) != len(decisions.All()) {
		t.Fatalf("decide --list --json: %d\n%s", code, out)
	}
	if list[0].Key != "control_plane_topology" || len(list[0].Options) != 2 || list[0].DefaultReason == "" {
		t.Fatalf("first = %+v", list[0])
	}
	out, _, _ = runCmd(t, "", "decide", "--list")
	for _, d := range decisions.All() {
		if !strings.Contains(out, d.Key) {
			t.Errorf("--list lacks %s", d.Key)
		}
	}
}

func TestStatusStopsOnCorruptState(t *testing.T) {
	repo := t.TempDir()
	os.MkdirAll(filepath.Join(repo, state.DirName), 0o700)
	os.WriteFile(state.Path(repo), []byte(`{"schema": 9}`), 0o600)
	_, errOut, code := runCmd(t, "", "--dir", repo, "status")
	if code == 0 || !strings.Contains(errOut, "schema version 9") {
		t.Fatalf("status with a future state: %d %s", code, errOut)
	}
	_, errOut, code = runCmd(t, "", "--dir", repo, "decide", "--defaults")
	if code == 0 || !strings.Contains(errOut, "Upgrade migrate-tui") {
		t.Fatalf("decide with a future state: %d %s", code, errOut)
	}
	_, errOut, code = runCmd(t, "", "--dir", repo)
	if code == 0 || !strings.Contains(errOut, "schema version 9") {
		t.Fatalf("wizard with a future state: %d %s", code, errOut)
	}
}
