package decide

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"migrate-tui/internal/decisions"
	"migrate-tui/internal/state"
	"migrate-tui/internal/steps"
)

var now = time.Date(2026, 1, 12, 9, 0, 0, 0, time.UTC)

func TestApplyRecordsWritesAndCompletes(t *testing.T) {
	repo := t.TempDir()
	st := state.New(now)
	out, err := Apply(repo, st, decisions.Answers{"control_plane_topology": "1-server-2-agents"}, "wizard", now)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(out.Changed, []string{"control_plane_topology", "nodes"}) || len(out.Derived) != 1 {
		t.Fatalf("outcome = %+v", out)
	}
	if !slices.Equal(out.Completed, []string{"decide.topology"}) {
		t.Fatalf("completed = %v", out.Completed)
	}
	if st.Decisions["nodes"].Source != "wizard (derived)" {
		t.Errorf("nodes source = %q", st.Decisions["nodes"].Source)
	}
	loaded, err := state.Load(repo)
	if err != nil || loaded.Record("decide.topology").Status != steps.Done {
		t.Fatalf("saved state: %v", err)
	}
	tfv, _ := os.ReadFile(out.TfvarsPath)
	if !strings.Contains(string(tfv), `role = "agent"`) {
		t.Fatalf("terraform.tfvars:\n%s", tfv)
	}
}

// A refused change leaves the state, the state file and terraform.tfvars as
// they were.
func TestRefusalChangesNothing(t *testing.T) {
	repo := t.TempDir()
	st := state.New(now)
	if _, err := Apply(repo, st, decisions.Answers{"service_mesh": "linkerd"}, "wizard", now); err != nil {
		t.Fatal(err)
	}
	stateBefore, _ := os.ReadFile(state.Path(repo))
	tfBefore, _ := os.ReadFile(filepath.Join(repo, "terraform.tfvars"))
	mem, _ := json.Marshal(st)
	_, err := Apply(repo, st, decisions.Answers{"storage_backend": "glusterfs-nfs", "nfs_server": "nas"}, "wizard", now)
	var ce decisions.ConflictsError
	if err == nil || !strings.Contains(err.Error(), "WAL") {
		t.Fatalf("Apply = %v, want the Litestream refusal", err)
	}
	_ = ce
	stateAfter, _ := os.ReadFile(state.Path(repo))
	tfAfter, _ := os.ReadFile(filepath.Join(repo, "terraform.tfvars"))
	memAfter, _ := json.Marshal(st)
	if !bytes.Equal(stateBefore, stateAfter) || !bytes.Equal(tfBefore, tfAfter) || !bytes.Equal(mem, memAfter) {
		t.Fatal("a refused change altered the state or terraform.tfvars")
	}
	if _, err := Apply(repo, st, decisions.Answers{"no_such_key": "x"}, "wizard", now); err == nil {
		t.Fatal("an unknown key was accepted")
	}
}

// An unparsable terraform.tfvars is never overwritten, and the decision is
// not recorded either.
func TestUnparsableTfvarsStopsTheDecision(t *testing.T) {
	repo := t.TempDir()
	path := filepath.Join(repo, "terraform.tfvars")
	os.WriteFile(path, []byte("service_mesh = \n"), 0o644)
	st := state.New(now)
	_, err := Apply(repo, st, decisions.Answers{"service_mesh": "linkerd"}, "wizard", now)
	if err == nil || !strings.Contains(err.Error(), "terraform.tfvars:1:") {
		t.Fatalf("Apply = %v", err)
	}
	if len(st.Decisions) != 0 {
		t.Fatal("the decision was recorded although terraform.tfvars could not be written")
	}
	if data, _ := os.ReadFile(path); string(data) != "service_mesh = \n" {
		t.Fatal("the unparsable file was changed")
	}
}

// Revisiting a decision after a stage used it puts the stage (and what
// depends on it) back to pending; the same value invalidates nothing.
func TestRevisitInvalidates(t *testing.T) {
	repo := t.TempDir()
	st := state.New(now)
	if _, err := Apply(repo, st, decisions.Answers{"vault_method": "external-secrets"}, "wizard", now); err != nil {
		t.Fatal(err)
	}
	st.Finish("stage.cluster", steps.Done, nil, "", now)
	st.Finish("stage.vault", steps.Done, nil, "", now)
	st.Finish("stage.services", steps.Failed, nil, "x", now)
	out, err := Apply(repo, st, decisions.Answers{"vault_method": "external-secrets"}, "wizard", now)
	if err != nil || len(out.Invalidated) != 0 {
		t.Fatalf("same value: %+v, %v", out, err)
	}
	_, _, inv, err := Preview(st, decisions.Answers{"vault_method": "agent-injector"})
	// The cluster does not use vault_method: it stays installed.
	if err != nil || !slices.Equal(inv, []string{"stage.vault", "stage.services"}) {
		t.Fatalf("preview = %v, %v", inv, err)
	}
	out, err = Apply(repo, st, decisions.Answers{"vault_method": "agent-injector"}, "wizard", now)
	if err != nil || !slices.Equal(out.Invalidated, []string{"stage.vault", "stage.services"}) {
		t.Fatalf("changed value: %+v, %v", out, err)
	}
	for _, id := range out.Invalidated {
		if st.Record(id).Status != steps.Pending {
			t.Errorf("%s is %s", id, st.Record(id).Status)
		}
	}
}

// Once K3s is installed, switching to or from Cilium is refused: flannel
// and network policy are set at install time.
func TestCiliumAfterClusterInstall(t *testing.T) {
	repo := t.TempDir()
	st := state.New(now)
	if _, err := Apply(repo, st, decisions.Answers{"service_mesh": "linkerd"}, "wizard", now); err != nil {
		t.Fatal(err)
	}
	st.Finish("stage.cluster", steps.Done, nil, "", now)
	_, err := Apply(repo, st, decisions.Answers{"service_mesh": "cilium"}, "wizard", now)
	if err == nil || !strings.Contains(err.Error(), "--flannel-backend=none --disable-network-policy") || !strings.Contains(err.Error(), "k3s-uninstall.sh") {
		t.Fatalf("Apply = %v", err)
	}
}

func TestFromTfvars(t *testing.T) {
	path := filepath.Join(t.TempDir(), "terraform.tfvars")
	os.WriteFile(path, []byte(`service_mesh = "linkerd"
storage_backend = "nfs"
domain = var.x
unrelated = 1
nodes = [{ name = "a", address = "10.0.0.1", arch = "arm64", role = "server" }]
`), 0o644)
	found, skipped, err := FromTfvars(path)
	if err != nil {
		t.Fatal(err)
	}
	if found.Str("service_mesh") != "linkerd" || len(found.Nodes()) != 1 || len(found) != 2 {
		t.Fatalf("found = %v", found)
	}
	if len(skipped) != 2 || !strings.Contains(strings.Join(skipped, ";"), "storage_backend") {
		t.Fatalf("skipped = %v", skipped)
	}
}
