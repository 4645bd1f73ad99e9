package tfrunner

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"migrate-tui/internal/testtools"
)

var tofuBin string

func TestMain(m *testing.M) {
	p, err := testtools.Bin("tofu")
	if err != nil {
		fmt.Fprintln(os.Stderr, "tfrunner tests need OpenTofu:", err)
		os.Exit(1)
	}
	tofuBin = p
	os.Exit(m.Run())
}

// workdir copies the fixture configuration into a fresh directory.
func workdir(t *testing.T) string {
	t.Helper()
	dst := t.TempDir()
	src := filepath.Join("testdata", "config")
	err := filepath.Walk(src, func(p string, info os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		if info.IsDir() {
			return os.MkdirAll(filepath.Join(dst, rel), 0o755)
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(dst, rel), b, 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
	return dst
}

func newRunner(t *testing.T, dir string) *Runner {
	t.Helper()
	rc, err := testtools.WriteCLIConfig(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	r, err := New(context.Background(), Options{
		Dir:            dir,
		Binary:         tofuBin,
		PluginCacheDir: t.TempDir(),
		Env:            map[string]string{"TF_CLI_CONFIG_FILE": rc},
		GracePeriod:    30 * time.Second,
	})
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func writeTfvars(t *testing.T, dir, body string) {
	t.Helper()
	if err := os.WriteFile(filepath.Join(dir, "terraform.tfvars"), []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
}

// applyCollect applies p, returning every event and the error.
func applyCollect(ctx context.Context, r *Runner, p *Plan, onEvent func(Event)) ([]Event, error) {
	ch := make(chan Event)
	errc := make(chan error, 1)
	go func() { errc <- r.Apply(ctx, p, ch) }()
	var evs []Event
	for e := range ch {
		evs = append(evs, e)
		if onEvent != nil {
			onEvent(e)
		}
	}
	return evs, <-errc
}

func TestPlanSummaryAndProgressInOrder(t *testing.T) {
	ctx := context.Background()
	dir := workdir(t)
	r := newRunner(t, dir)
	if err := r.Init(ctx); err != nil {
		t.Fatal(err)
	}
	p, err := r.Plan(ctx, "mesh")
	if err != nil {
		t.Fatal(err)
	}
	s := p.Summary
	if s.Add != 4 || s.Change != 0 || s.Destroy != 0 || s.Steps != 4 {
		t.Fatalf("summary = %s, steps %d; want 4 to add, 0 to change, 0 to destroy, 4 steps", s, s.Steps)
	}
	if m := s.ByModule["module.service_mesh"]; m == nil || m.Add != 2 {
		t.Fatalf("module.service_mesh summary = %+v, want 2 to add", m)
	}
	if m := s.ByModule["module.storage"]; m == nil || m.Add != 1 {
		t.Fatalf("module.storage summary = %+v, want 1 to add", m)
	}
	if m := s.ByModule["module.ingress[0]"]; m == nil || m.Add != 1 {
		t.Fatalf("module.ingress[0] summary = %+v, want 1 to add", m)
	}
	if st, err := os.Stat(p.File); err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("saved plan %s: %v %v, want a 0600 file", p.File, st, err)
	}

	evs, err := applyCollect(ctx, r, p, nil)
	if err != nil {
		t.Fatal(err)
	}
	if evs[0].Kind != EventApplyStart || evs[0].Total != 4 {
		t.Fatalf("first event = %+v, want apply_start with total 4", evs[0])
	}
	last := evs[len(evs)-1]
	if last.Kind != EventApplyDone || last.Err != "" || last.Done != 4 || last.Total != 4 {
		t.Fatalf("last event = %+v, want apply_done 4/4 without error", last)
	}
	started := map[string]bool{}
	completed := map[string]bool{}
	prevDone := 0
	var sawSummary bool
	for _, e := range evs {
		if e.Done < prevDone {
			t.Fatalf("progress went backwards at %+v", e)
		}
		prevDone = e.Done
		switch e.Kind {
		case EventResourceStart:
			started[e.Address] = true
		case EventResourceDone:
			if !started[e.Address] {
				t.Fatalf("%s completed before it started", e.Address)
			}
			completed[e.Address] = true
		case EventChangeSummary:
			sawSummary = true
			if e.Changes.Add != 4 {
				t.Fatalf("change_summary = %+v, want add 4", e.Changes)
			}
		}
	}
	want := []string{"module.service_mesh.terraform_data.r[0]", "module.service_mesh.terraform_data.r[1]", "module.storage.terraform_data.r[0]", "module.ingress[0].terraform_data.r[0]"}
	for _, a := range want {
		if !completed[a] {
			t.Errorf("no resource_complete for %s (completed: %v)", a, completed)
		}
	}
	if !sawSummary {
		t.Error("no change_summary event")
	}
	if _, err := os.Stat(p.File); !os.IsNotExist(err) {
		t.Errorf("saved plan still exists after apply: %v", err)
	}
	log, err := os.ReadFile(p.LogPath)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(log), `"type":"apply_complete"`) || !strings.Contains(string(log), `"type":"planned_change"`) {
		t.Errorf("stage log %s lacks the plan and apply messages:\n%s", p.LogPath, log)
	}
	if filepath.Dir(p.LogPath) != filepath.Join(dir, ".migrate-tui", "logs") {
		t.Errorf("log at %s, want under %s/.migrate-tui/logs", p.LogPath, dir)
	}

	outs, err := r.Outputs(ctx)
	if err != nil || string(outs["mesh_count"]) != "2" {
		t.Fatalf("outputs = %s, %v; want mesh_count 2", outs, err)
	}

	// Nothing left to do: the next plan is empty.
	p2, err := r.Plan(ctx, "mesh")
	if err != nil {
		t.Fatal(err)
	}
	if p2.Summary.HasChanges() {
		t.Fatalf("second plan = %s, want no changes", p2.Summary)
	}
}

func TestDestroyOutsideStageRefused(t *testing.T) {
	ctx := context.Background()
	dir := workdir(t)
	r := newRunner(t, dir)
	if err := r.Init(ctx); err != nil {
		t.Fatal(err)
	}
	p, err := r.Plan(ctx, "mesh")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := applyCollect(ctx, r, p, nil); err != nil {
		t.Fatal(err)
	}
	writeTfvars(t, dir, "mesh_count = 1\nkeep_outside = false\n")

	p, err = r.Plan(ctx, "mesh")
	var de *DestroyOutsideError
	if !errors.As(err, &de) {
		t.Fatalf("plan error = %v, want a DestroyOutsideError", err)
	}
	if got := strings.Join(de.Addresses, ","); got != "module.ingress[0].terraform_data.r[0]" {
		t.Fatalf("refused addresses = %s, want only module.ingress[0].terraform_data.r[0] (module.service_mesh.terraform_data.r[1] is the stage's own)", got)
	}
	if p == nil || p.Summary.Destroy != 2 || len(p.Summary.Destroys) != 2 {
		t.Fatalf("refused plan summary = %+v, want the 2 destroys listed", p)
	}
	if !strings.Contains(err.Error(), "module.ingress[0].terraform_data.r[0]") {
		t.Fatalf("message %q does not name the address", err)
	}
	if _, err := os.Stat(p.File); !os.IsNotExist(err) {
		t.Fatalf("refused plan file still exists: %v", err)
	}
	if _, err := applyCollect(ctx, r, p, nil); !errors.As(err, &de) {
		t.Fatalf("apply of a refused plan = %v, want the refusal", err)
	}
	// The same change is in scope for no other stage either, but a plan for
	// the storage stage is refused for both addresses.
	_, err = r.Plan(ctx, "storage")
	if !errors.As(err, &de) || len(de.Addresses) != 2 {
		t.Fatalf("storage plan error = %v, want both destroys refused", err)
	}
}

func TestInterruptThenResume(t *testing.T) {
	dir := workdir(t)
	r := newRunner(t, dir)
	if err := r.Init(context.Background()); err != nil {
		t.Fatal(err)
	}
	// Earlier stages and one mesh resource are in place.
	writeTfvars(t, dir, "mesh_count = 1\n")
	p, err := r.Plan(context.Background(), "mesh")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := applyCollect(context.Background(), r, p, nil); err != nil {
		t.Fatal(err)
	}
	gate := filepath.Join(t.TempDir(), "never")
	writeTfvars(t, dir, fmt.Sprintf("mesh_count = 3\ngate = %q\n", gate))
	p, err = r.Plan(context.Background(), "mesh")
	if err != nil {
		t.Fatal(err)
	}
	if p.Summary.Add != 2 {
		t.Fatalf("plan = %s, want the 2 new mesh resources", p.Summary)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	evs, err := applyCollect(ctx, r, p, func(e Event) {
		if e.Kind == EventResourceStart && strings.HasPrefix(e.Address, "module.service_mesh.") {
			cancel() // Ctrl+C while a mesh resource is being created
		}
	})
	if !errors.Is(err, ErrInterrupted) {
		t.Fatalf("apply error = %v, want ErrInterrupted", err)
	}
	if last := evs[len(evs)-1]; last.Kind != EventApplyDone || last.Done >= last.Total {
		t.Fatalf("last event = %+v, want apply_done short of the total", last)
	}

	// Resume: plan again (the gate lifted) and finish.
	writeTfvars(t, dir, "mesh_count = 3\n")
	ctx = context.Background()
	p, err = r.Plan(ctx, "mesh")
	if err != nil {
		t.Fatal(err)
	}
	if p.Summary.Add == 0 {
		t.Fatalf("re-plan after interruption = %s, want the unfinished mesh resources", p.Summary)
	}
	if _, err := applyCollect(ctx, r, p, nil); err != nil {
		t.Fatal(err)
	}
	p, err = r.Plan(ctx, "mesh")
	if err != nil {
		t.Fatal(err)
	}
	if p.Summary.HasChanges() {
		t.Fatalf("plan after resume = %s, want no changes", p.Summary)
	}
}

func TestLockContention(t *testing.T) {
	dir := workdir(t)
	a := newRunner(t, dir)
	ctx := context.Background()
	if err := a.Init(ctx); err != nil {
		t.Fatal(err)
	}
	gate := filepath.Join(t.TempDir(), "release")
	writeTfvars(t, dir, fmt.Sprintf("gate = %q\n", gate))
	p, err := a.Plan(ctx, "mesh")
	if err != nil {
		t.Fatal(err)
	}
	ch := make(chan Event)
	errc := make(chan error, 1)
	go func() { errc <- a.Apply(ctx, p, ch) }()
	for e := range ch {
		if e.Kind == EventResourceStart && strings.HasPrefix(e.Address, "module.service_mesh.") {
			break // apply A now holds the state lock and waits at the gate
		}
	}
	go func() {
		for range ch {
		}
	}()

	b := newRunner(t, dir)
	_, err = b.Plan(ctx, "mesh")
	var le *LockError
	if !errors.As(err, &le) {
		t.Fatalf("second plan error = %v, want a LockError", err)
	}
	if le.Info.ID == "" || !strings.Contains(le.Info.Operation, "Apply") {
		t.Errorf("lock info = %+v, want the apply's lock ID and operation", le.Info)
	}
	if le.Holder.PID == 0 || !strings.Contains(le.Holder.Command, "apply") || le.Holder.Gone || le.Stale() {
		t.Errorf("holder = %+v, want the live tofu apply process, not gone", le.Holder)
	}
	if err := b.ForceUnlock(ctx, le, true); err == nil {
		t.Error("force-unlock of a live holder's lock was not refused")
	}
	t.Log(le.Error())

	if err := os.WriteFile(gate, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := <-errc; err != nil {
		t.Fatalf("apply A: %v", err)
	}
	if _, err := b.Plan(ctx, "mesh"); err != nil {
		t.Fatalf("plan after the lock was released: %v", err)
	}
}

func TestLeftoverLockInfoIsProvablyGone(t *testing.T) {
	dir := t.TempDir()
	state := filepath.Join(dir, "terraform.tfstate")
	os.WriteFile(state, []byte("{}"), 0o600)
	os.WriteFile(lockInfoPath(state), []byte(`{"ID":"abc","Operation":"OperationTypeApply","Who":"root@elsewhere"}`), 0o600)
	le := lockErrorFrom(Diagnostic{Severity: "error", Summary: lockSummary}, dir, "")
	if !le.Holder.Gone || !le.Stale() || le.Info.ID != "abc" {
		t.Fatalf("lock = %+v, want a stale lock with ID abc", le)
	}
	// A remote lock taken on another host can never be proven gone.
	le = lockErrorFrom(Diagnostic{Severity: "error", Summary: lockSummary, Detail: "Lock Info:\n  ID:        xyz\n  Who:       root@far-away-host\n  Operation: OperationTypeApply\n"}, t.TempDir(), "")
	if le.Info.ID != "xyz" || le.Holder.Gone {
		t.Fatalf("remote lock = %+v, want ID xyz and not gone", le)
	}
}

// The services stage owns the scaffolded modules of services.generated.tf
// by their name prefix, and nothing else that merely starts alike.
func TestServicesScopeCoversScaffolded(t *testing.T) {
	s := StageScopes["services"]
	for _, in := range []string{"module.whoami[0].kubectl_manifest.x", "module.scaffolded_vaultwarden[0].module.apply.kubectl_manifest.y", "module.scaffolded_open-webui"} {
		if !InScope(in, s) {
			t.Errorf("%s is not in the services stage's scope %v", in, s)
		}
	}
	for _, out := range []string{"module.whoami_extra[0]", "module.ingress[0].kubectl_manifest.z", "module.scaffold[0]"} {
		if InScope(out, s) {
			t.Errorf("%s is in the services stage's scope %v", out, s)
		}
	}
}
