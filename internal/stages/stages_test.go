package stages

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/discovery/cached/memory"
	"k8s.io/client-go/restmapper"

	"migrate-tui/internal/checks"
	"migrate-tui/internal/connect"
	"migrate-tui/internal/nomadsim"
	"migrate-tui/internal/nomadwatch"
	"migrate-tui/internal/state"
	"migrate-tui/internal/status"
	"migrate-tui/internal/steps"
	"migrate-tui/internal/testtools"
	"migrate-tui/internal/testworld"
	"migrate-tui/internal/tfrunner"
	"migrate-tui/internal/tfrunner/tftest"
)

var (
	tofuBin string
	world   *testworld.World
)

func TestMain(m *testing.M) {
	p, err := testtools.Bin("tofu")
	if err != nil {
		fmt.Fprintln(os.Stderr, "stages tests need OpenTofu:", err)
		os.Exit(1)
	}
	tofuBin = p
	// No controllers: a Deployment never becomes ready, which is what the
	// failing verification needs.
	w, err := testworld.Start(context.Background(), testworld.Options{})
	if err != nil {
		fmt.Fprintln(os.Stderr, "stages tests need the test world:", err)
		os.Exit(1)
	}
	world = w
	code := m.Run()
	w.Stop()
	os.Exit(code)
}

func fixture(t *testing.T) string { return tftest.CopyConfig(t, tftest.FixtureConfig()) }

func copyConfig(t *testing.T, src string) string { return tftest.CopyConfig(t, src) }

func realTF(t *testing.T, dir string) *tfrunner.Runner { return tftest.NewRunner(t, dir) }

// hookedTF calls onEvent for every progress event of an apply.
type hookedTF struct {
	*tfrunner.Runner
	onEvent func(tfrunner.Event)
}

func (h hookedTF) Apply(ctx context.Context, p *tfrunner.Plan, events chan<- tfrunner.Event) error {
	mid := make(chan tfrunner.Event)
	errc := make(chan error, 1)
	go func() { errc <- h.Runner.Apply(ctx, p, mid) }()
	for e := range mid {
		h.onEvent(e)
		events <- e
	}
	close(events)
	return <-errc
}

func drain(ch chan tfrunner.Event) {
	for range ch {
	}
}

func TestNomadGuardCatchesAllocationFailingDuringStage(t *testing.T) {
	ctx := context.Background()
	sim := nomadsim.New(nomadsim.Options{Token: "guard-token"})
	if err := sim.Start("127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sim.Close() })
	nc, err := nomadwatch.NewClient(sim.URL(), sim.Token())
	if err != nil {
		t.Fatal(err)
	}
	base, err := nomadwatch.TakeBaseline(ctx, nc)
	if err != nil {
		t.Fatal(err)
	}

	dir := fixture(t)
	failed := false
	tf := hookedTF{Runner: realTF(t, dir), onEvent: func(e tfrunner.Event) {
		if e.Kind == tfrunner.EventResourceStart && !failed {
			failed = true
			if err := sim.FailAllocation("whoami"); err != nil {
				t.Error(err)
			}
		}
	}}
	r := &Runner{TF: tf, Vars: TfvarsFile{Path: filepath.Join(dir, "terraform.tfvars")},
		Guard: NomadGuard{Nomad: nc, Baseline: base}, Record: StateRecorder{RepoDir: dir}}
	mesh, _ := ByName("mesh")

	p, err := r.Plan(ctx, mesh)
	if err != nil {
		t.Fatal(err)
	}
	ch := make(chan tfrunner.Event)
	go drain(ch)
	if err := r.Apply(ctx, p, ch); err != nil {
		t.Fatal(err)
	}
	_, err = r.Verify(ctx, mesh, p)
	var re *RegressionError
	if !errors.As(err, &re) {
		t.Fatalf("verify after a failed allocation = %v, want a RegressionError", err)
	}
	if len(re.Regressions) == 0 || re.Regressions[0].Job != "whoami" || re.When != "after" {
		t.Fatalf("regressions = %+v, want whoami after the stage", re)
	}
	if !strings.Contains(err.Error(), "whoami") || !strings.Contains(err.Error(), "roll it back") {
		t.Fatalf("message: %v", err)
	}

	// Recorded: the stage step failed with the regression as evidence.
	st, err := state.Load(dir)
	if err != nil || st == nil {
		t.Fatalf("state: %v", err)
	}
	rec := st.Record("stage.mesh")
	if rec.Status != steps.Failed || !strings.Contains(strings.Join(rec.Evidence, "\n"), "whoami") {
		t.Fatalf("stage.mesh record = %+v", rec)
	}
	var res Result
	json.Unmarshal(st.Stages["mesh"], &res)
	if res.Outcome != NomadHurt {
		t.Fatalf("recorded outcome %s, want %s", res.Outcome, NomadHurt)
	}

	// The next stage will not even plan while Nomad is worse than at preflight.
	vpa, _ := ByName("vpa")
	if _, err := r.Plan(ctx, vpa); !errors.As(err, &re) || re.When != "before" {
		t.Fatalf("planning the next stage = %v, want the guard to stop it", err)
	}
}

func TestEnabledStagesAndRollback(t *testing.T) {
	ctx := context.Background()
	dir := fixture(t)
	tfvars := filepath.Join(dir, "terraform.tfvars")
	os.WriteFile(tfvars, []byte("# the wizard's decisions\nmesh_count = 2\n"), 0o644)
	none := GuardFunc(func(context.Context) ([]Regression, error) { return nil, nil })
	r := &Runner{TF: realTF(t, dir), Vars: TfvarsFile{Path: tfvars}, Guard: none, Record: StateRecorder{RepoDir: dir}}

	for _, name := range []string{"storage", "mesh"} {
		s, _ := ByName(name)
		p, err := r.Plan(ctx, s)
		if err != nil {
			t.Fatal(err)
		}
		ch := make(chan tfrunner.Event)
		go drain(ch)
		if err := r.Apply(ctx, p, ch); err != nil {
			t.Fatal(err)
		}
		if _, err := r.Verify(ctx, s, p); err != nil {
			t.Fatal(err)
		}
	}
	got, _ := TfvarsFile{Path: tfvars}.EnabledStages()
	if strings.Join(got, ",") != "mesh,storage" { // Platform order: the mesh first
		t.Fatalf("enabled_stages = %v", got)
	}
	b, _ := os.ReadFile(tfvars)
	if !strings.Contains(string(b), "# the wizard's decisions\nmesh_count = 2\n") {
		t.Fatalf("other lines of terraform.tfvars were not kept:\n%s", b)
	}
	st, _ := state.Load(dir)
	if st.Record("stage.mesh").Status != steps.Done {
		t.Fatalf("stage.mesh = %+v", st.Record("stage.mesh"))
	}

	// Skip is recorded with its reason.
	vpa, _ := ByName("vpa")
	if err := r.Skip(vpa, "checks failed; operator chose to skip"); err != nil {
		t.Fatal(err)
	}
	st, _ = state.Load(dir)
	if rec := st.Record("stage.vpa"); rec.Status != steps.Skipped || !strings.Contains(rec.Error, "operator chose") {
		t.Fatalf("stage.vpa = %+v", rec)
	}
	_ = r.Vars.SetEnabledStages([]string{"storage", "mesh"})

	// Rolling back mesh removes it from enabled_stages; the fixture does not
	// switch modules by enabled_stages, so make the mesh module shrink the
	// way main.tf would and check the plan stays inside the stage.
	os.WriteFile(tfvars, []byte(strings.Replace(string(b), "mesh_count = 2", "mesh_count = 0", 1)), 0o644)
	mesh, _ := ByName("mesh")
	p, err := r.PlanRollback(ctx, mesh)
	if err != nil {
		t.Fatal(err)
	}
	if p.Summary.Destroy != 2 {
		t.Fatalf("rollback plan = %s, want the 2 mesh resources destroyed", p.Summary)
	}
	ch := make(chan tfrunner.Event)
	go drain(ch)
	if err := r.ApplyRollback(ctx, p, ch); err != nil {
		t.Fatal(err)
	}
	got, _ = TfvarsFile{Path: tfvars}.EnabledStages()
	st, _ = state.Load(dir)
	if strings.Join(got, ",") != "storage" || st.Record("stage.mesh").Status != steps.Pending {
		t.Fatalf("after rollback enabled_stages = %v, stage.mesh = %+v", got, st.Record("stage.mesh"))
	}
}

func TestPostApplyRunsAndFailsTheStage(t *testing.T) {
	ctx := context.Background()
	dir := fixture(t)
	none := GuardFunc(func(context.Context) ([]Regression, error) { return nil, nil })
	var postErr error
	calls := 0
	r := &Runner{TF: realTF(t, dir), Vars: TfvarsFile{Path: filepath.Join(dir, "terraform.tfvars")}, Guard: none,
		Record: StateRecorder{RepoDir: dir},
		Post: map[string]PostApply{"vault": PostApplyFunc(func(context.Context) ([]string, error) {
			calls++
			if postErr != nil {
				return nil, postErr
			}
			return []string{"enabled Kubernetes auth at kubernetes/"}, nil
		})}}
	vault, _ := ByName("vault")
	postErr = errors.New("VAULT_TOKEN is not set")
	if _, err := r.Verify(ctx, vault, nil); err == nil || !strings.Contains(err.Error(), "VAULT_TOKEN") {
		t.Fatalf("verify with a failing post-apply = %v", err)
	}
	st, _ := state.Load(dir)
	if rec := st.Record("stage.vault"); rec.Status != steps.Failed {
		t.Fatalf("stage.vault = %+v, want failed", rec)
	}
	postErr = nil
	res, err := r.Verify(ctx, vault, nil)
	if err != nil || len(res) != 1 || !strings.Contains(res[0].Evidence, "enabled Kubernetes auth") || calls != 2 {
		t.Fatalf("verify = %+v, %v (calls %d)", res, err, calls)
	}
	// Other stages do not run it.
	mesh, _ := ByName("mesh")
	if _, err := r.Verify(ctx, mesh, nil); err != nil || calls != 2 {
		t.Fatalf("mesh verify ran the vault post-apply: %v, calls %d", err, calls)
	}
}

func TestStageAgainstTheTestWorldVerifiesItsObjects(t *testing.T) {
	ctx := context.Background()
	ns := world.Namespace(t)
	dir := copyConfig(t, filepath.Join("testdata", "kube"))
	tfvars := filepath.Join(dir, "terraform.tfvars")
	os.WriteFile(tfvars, []byte(fmt.Sprintf("kubeconfig_path = %q\nnamespace = %q\n", world.Kubeconfig, ns)), 0o644)
	tf := realTF(t, dir)
	mapper := restmapper.NewDeferredDiscoveryRESTMapper(memory.NewMemCacheClient(world.Client.Discovery()))
	none := GuardFunc(func(context.Context) ([]Regression, error) { return nil, nil })
	r := &Runner{TF: tf, Vars: TfvarsFile{Path: tfvars}, Guard: none, Record: StateRecorder{RepoDir: dir},
		Checks: ObjectsVerifier{State: tf, Dynamic: world.Dynamic, Mapper: mapper}}
	storage, _ := ByName("storage")

	p, err := r.Plan(ctx, storage)
	if err != nil {
		t.Fatal(err)
	}
	if p.Summary.Add != 2 || p.Summary.ByModule["module.storage[0]"] == nil {
		t.Fatalf("plan = %s by %v, want 2 adds in module.storage[0]", p.Summary, p.Summary.Modules())
	}
	ch := make(chan tfrunner.Event)
	var kinds []tfrunner.EventKind
	done := make(chan struct{})
	go func() {
		for e := range ch {
			kinds = append(kinds, e.Kind)
		}
		close(done)
	}()
	if err := r.Apply(ctx, p, ch); err != nil {
		t.Fatal(err)
	}
	<-done
	if kinds[0] != tfrunner.EventApplyStart || kinds[len(kinds)-1] != tfrunner.EventApplyDone {
		t.Fatalf("events %v", kinds)
	}
	if _, err := world.Client.CoreV1().ConfigMaps(ns).Get(ctx, "storage-settings", metav1.GetOptions{}); err != nil {
		t.Fatalf("the apply did not create the ConfigMap: %v", err)
	}

	// No controller runs the Deployment: the ConfigMap passes, the
	// Deployment fails with its kstatus and a hint.
	results, err := r.Verify(ctx, storage, p)
	var ve *VerifyError
	if !errors.As(err, &ve) || len(ve.Failed) != 1 || !strings.Contains(ve.Failed[0].Title, "Deployment "+ns+"/local-path-provisioner") {
		t.Fatalf("verify = %+v, %v; want only the Deployment failing", results, err)
	}
	if !strings.Contains(ve.Failed[0].Evidence, "InProgress") || ve.Failed[0].Hint == "" {
		t.Fatalf("failed check = %+v", ve.Failed[0])
	}
	passed := 0
	for _, c := range results {
		if c.Status == status.Pass && strings.Contains(c.Title, "ConfigMap") {
			passed++
		}
	}
	if passed != 1 {
		t.Fatalf("results = %+v, want the ConfigMap passing", results)
	}

	// Roll back: the stage leaves enabled_stages and its objects go.
	p, err = r.PlanRollback(ctx, storage)
	if err != nil || p.Summary.Destroy != 2 {
		t.Fatalf("rollback plan = %+v, %v", p, err)
	}
	ch = make(chan tfrunner.Event)
	go drain(ch)
	if err := r.ApplyRollback(ctx, p, ch); err != nil {
		t.Fatal(err)
	}
	if _, err := world.Client.CoreV1().ConfigMaps(ns).Get(ctx, "storage-settings", metav1.GetOptions{}); err == nil {
		t.Fatal("the ConfigMap survived the rollback")
	}
}

func TestForRepoWiresStateGuardAndCluster(t *testing.T) {
	ctx := context.Background()
	dir := copyConfig(t, filepath.Join("testdata", "kube"))
	if _, err := ForRepo(ctx, dir, tofuBin); err == nil || !strings.Contains(err.Error(), "preflight") {
		t.Fatalf("without a baseline: %v, want a pointer to preflight", err)
	}

	sim := nomadsim.New(nomadsim.Options{Token: "repo-token"})
	if err := sim.Start("127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sim.Close() })
	nc, _ := nomadwatch.NewClient(sim.URL(), sim.Token())
	base, err := nomadwatch.TakeBaseline(ctx, nc)
	if err != nil {
		t.Fatal(err)
	}
	st := state.New(time.Now())
	st.Preflight = &state.Preflight{NomadAddr: sim.URL(), Baseline: &base}
	if err := state.Save(dir, st, time.Now()); err != nil {
		t.Fatal(err)
	}
	rc, err := testtools.WriteCLIConfig(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Setenv("TF_CLI_CONFIG_FILE", rc)
	t.Setenv("NOMAD_ADDR", "")
	t.Setenv("NOMAD_TOKEN", sim.Token()) // the token only ever comes from the environment
	ns := world.Namespace(t)
	// Terraform never reads $KUBECONFIG: with no kubeconfig_path the stages
	// refuse to verify through it (another cluster than the one applied to).
	os.WriteFile(filepath.Join(dir, "terraform.tfvars"), []byte(fmt.Sprintf("namespace = %q\n", ns)), 0o644)
	t.Setenv("KUBECONFIG", world.Kubeconfig)
	var nt *connect.NotTerraformsError
	if _, err := ForRepo(ctx, dir, tofuBin); !errors.As(err, &nt) {
		t.Fatalf("only $KUBECONFIG: %v, want *connect.NotTerraformsError", err)
	}
	t.Setenv("KUBECONFIG", "")
	os.WriteFile(filepath.Join(dir, "terraform.tfvars"), []byte(fmt.Sprintf("kubeconfig_path = %q\nnamespace = %q\n", world.Kubeconfig, ns)), 0o644)

	r, err := ForRepo(ctx, dir, tofuBin)
	if err != nil {
		t.Fatal(err)
	}
	storage, _ := ByName("storage")
	p, err := r.Plan(ctx, storage)
	if err != nil {
		t.Fatal(err)
	}
	ch := make(chan tfrunner.Event)
	go drain(ch)
	if err := r.Apply(ctx, p, ch); err != nil {
		t.Fatal(err)
	}
	var ve *VerifyError
	if _, err := r.Verify(ctx, storage, p); !errors.As(err, &ve) {
		t.Fatalf("verify = %v, want the unready Deployment reported", err)
	}
	if err := sim.StopJob("whoami"); err != nil {
		t.Fatal(err)
	}
	var re *RegressionError
	if _, err := r.Verify(ctx, storage, p); !errors.As(err, &re) || !strings.Contains(err.Error(), "whoami") {
		t.Fatalf("verify after a Nomad job stopped = %v, want the guard to name whoami", err)
	}
}

func TestCriteriaVerifierRunsTheStageChecks(t *testing.T) {
	ctx := context.Background()
	ns := world.Namespace(t)
	dec := checks.DefaultDecisions()
	dec.PoCNamespace = ns
	v := CriteriaVerifier{Deps: func(context.Context) (*checks.Deps, error) {
		return &checks.Deps{Kube: world.Client, Dynamic: world.Dynamic, Decisions: dec}, nil
	}}
	services, _ := ByName("services")
	rs, err := v.Verify(ctx, services)
	if err != nil {
		t.Fatal(err)
	}
	if len(rs) != 2 || rs[0].ID != "SC-001" || rs[0].Status != status.Fail || rs[0].Evidence == "" {
		t.Fatalf("results = %+v, want SC-001 failing in an empty namespace", rs)
	}
	mesh, _ := ByName("mesh")
	if rs, err := v.Verify(ctx, mesh); err != nil || len(rs) != 0 {
		t.Fatalf("mesh has no criteria of its own: %+v %v", rs, err)
	}
}
