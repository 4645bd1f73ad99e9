package rightsize_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/api/resource"

	"migrate-tui/internal/checks"
	"migrate-tui/internal/nomadwatch"
	"migrate-tui/internal/rightsize"
	"migrate-tui/internal/specdocs"
	"migrate-tui/internal/state"
	"migrate-tui/internal/status"
)

// The real recommender's targets from KWOK's simulated usage, beside the
// Nomad simulator's seeded jobs: the figures are computed from the VPA
// objects the test reads itself, never written in.
func TestFromDepsRealRecommender(t *testing.T) {
	ns := world.Namespace(t)
	nc := startNomad(t)
	world.DeployWithUsage(t, ns, "whoami", "120m", "100Mi")
	world.DeployWithUsage(t, ns, "overseerr", "200m", "300Mi")
	world.DeployWithUsage(t, ns, "echo", "50m", "50Mi")
	world.CreateVPA(t, ns, "whoami")
	world.CreateVPA(t, ns, "overseerr")
	world.CreateVPA(t, ns, "echo", "not-running") // no recommender serves it
	wCPU, wMem := world.WaitVPATarget(t, ns, "whoami")
	oCPU, oMem := world.WaitVPATarget(t, ns, "overseerr")

	ctx := ctxT(t, 2*time.Minute)
	nodes, err := nomadwatch.Inventory(ctx, nc)
	if err != nil {
		t.Fatal(err)
	}
	mhz, src := rightsize.SlowestCoreMHz(nodes)
	// The simulator's homelab: hestia 8 × 3800 MHz, heracles and nyx 4 × 2400.
	if mhz != 2400 || !strings.Contains(src, "2400") && !strings.Contains(src, "9600 MHz over 4 cores") {
		t.Fatalf("slowest core %d MHz (%s), want 2400 from an arm64 node", mhz, src)
	}

	d := deps(ns, "whoami", "overseerr", "echo", "ghost")
	d.Nomad = checks.NomadWatch{N: nc}
	// whoami left Nomad and Nomad has since garbage-collected its job (here:
	// the record names a job the simulator does not have): the spec the
	// cutover saved still says what Nomad reserved.
	job, err := nc.Job(ctx, "whoami")
	if err != nil {
		t.Fatal(err)
	}
	spec, err := json.Marshal(job)
	if err != nil {
		t.Fatal(err)
	}
	st := state.New(time.Now())
	st.Cutovers = map[string]state.Cutover{"whoami": {Service: "whoami", NomadJob: "whoami-collected", Phase: state.CutoverOnKubernetes, JobSpec: spec}}
	r, err := rightsize.FromDeps(ctx, d, st, nil, rightsize.Options{CoreMHz: mhz, CoreMHzSource: src})
	if err != nil {
		t.Fatal(err)
	}
	var text strings.Builder
	_ = rightsize.WriteText(&text, r)
	t.Log(text.String())
	// The report as `rightsize --json` prints it keeps its contract.
	var js bytes.Buffer
	if err := rightsize.WriteJSON(&js, r); err != nil {
		t.Fatal(err)
	}
	schemas, err := specdocs.Schemas(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	if err := specdocs.Validate(schemas["rightsize.schema.json"], js.Bytes()); err != nil {
		t.Errorf("rightsize --json does not match contracts/rightsize.schema.json: %v\n%s", err, js.String())
	}
	by := map[string]rightsize.Service{}
	for _, s := range r.Services {
		by[s.Service] = s
	}
	if len(r.Services) != 4 {
		t.Fatalf("services %v, want echo, ghost, overseerr, whoami", r.Services)
	}

	want := func(cpu, mem resource.Quantity) rightsize.Amount {
		return rightsize.Amount{CPUMHz: int((cpu.MilliValue()*2400 + 999) / 1000), MemoryMB: int((mem.Value() + 1<<20 - 1) >> 20)}
	}
	w := by["whoami"]
	if w.Status != status.Pass || w.Where != "kubernetes" || len(w.Tasks) != 1 {
		t.Fatalf("whoami: %+v", w)
	}
	wt := w.Tasks[0]
	if wt.Nomad != (rightsize.Amount{CPUMHz: 50, MemoryMB: 32}) || wt.Target != want(wCPU, wMem) {
		t.Errorf("whoami: Nomad %+v target %+v, want Nomad 50 MHz/32 MB and target %+v (VPA %s/%s)", wt.Nomad, wt.Target, want(wCPU, wMem), wCPU.String(), wMem.String())
	}
	if wt.Saving.CPUMHz != 50-wt.Target.CPUMHz || wt.Saving.MemoryMB != 32-wt.Target.MemoryMB {
		t.Errorf("whoami saving %+v", wt.Saving)
	}
	if w.JobspecDiff != "" {
		t.Errorf("whoami left Nomad: no jobspec diff expected, got\n%s", w.JobspecDiff)
	}

	o := by["overseerr"]
	if o.Status != status.Pass || o.Where != "nomad" || len(o.Tasks) != 1 {
		t.Fatalf("overseerr: %+v", o)
	}
	ot := o.Tasks[0]
	if ot.Task != "overseerr" || ot.Nomad != (rightsize.Amount{CPUMHz: 300, MemoryMB: 512}) || ot.MemoryMaxMB != 1024 || ot.Target != want(oCPU, oMem) {
		t.Errorf("overseerr task %+v, want Nomad 300 MHz/512 MB (max 1024) and target %+v", ot, want(oCPU, oMem))
	}
	for _, line := range []string{
		"--- a/modules/overseerr/jobspec.nomad.hcl",
		"+++ b/modules/overseerr/jobspec.nomad.hcl",
		`@@ group "overseerr" task "overseerr" @@`,
		"-    cpu        = 300",
		fmt.Sprintf("+    cpu        = %d", ot.Target.CPUMHz),
		"-    memory     = 512",
		fmt.Sprintf("+    memory     = %d", ot.Target.MemoryMB),
		"     memory_max = 1024",
	} {
		if !strings.Contains(o.JobspecDiff, line) {
			t.Errorf("overseerr jobspec diff lacks %q:\n%s", line, o.JobspecDiff)
		}
	}

	if e := by["echo"]; e.Status != status.Warn || !strings.Contains(e.Evidence, "no recommendation yet") || len(e.Tasks) != 0 {
		t.Errorf("echo (no recommender): %+v", e)
	}
	if g := by["ghost"]; g.Status != status.Skip || !strings.Contains(g.Evidence, "no Deployment or StatefulSet for ghost") {
		t.Errorf("ghost (no workload): %+v", g)
	}
	if r.Total != (rightsize.Amount{CPUMHz: wt.Saving.CPUMHz + ot.Saving.CPUMHz, MemoryMB: wt.Saving.MemoryMB + ot.Saving.MemoryMB}) {
		t.Errorf("total %+v", r.Total)
	}

	// One service, as the cutover check asks: the same row.
	one, err := rightsize.ForService(ctx, d, st, "overseerr")
	if err != nil || one.Status != status.Pass || one.JobspecDiff != o.JobspecDiff {
		t.Errorf("ForService(overseerr) = %+v, %v; want FromDeps's row", one, err)
	}

	// Without Nomad a service says why it cannot be compared, unless its
	// cutover saved the job.
	d.Nomad = nil
	r, err = rightsize.FromDeps(ctx, d, st, []string{"overseerr", "whoami"}, rightsize.Options{CoreMHz: mhz})
	if err != nil || len(r.Services) != 2 {
		t.Fatalf("without Nomad: %+v, %v", r, err)
	}
	if s := r.Services[0]; s.Status != status.Skip || !strings.Contains(s.Evidence, "Nomad is not configured") {
		t.Errorf("overseerr without Nomad: %+v", s)
	}
	if s := r.Services[1]; s.Status != status.Pass || s.Tasks[0].Nomad != wt.Nomad {
		t.Errorf("whoami without Nomad, from the saved spec: %+v", s)
	}
}
