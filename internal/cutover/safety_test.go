package cutover_test

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/nomad/api"

	"migrate-tui/internal/cutover"
	"migrate-tui/internal/nomadwatch"
	"migrate-tui/internal/state"
)

// --nomad-job must be the job that runs --service: before, with --yes a
// typo stopped any healthy job.
func TestGateTiesNomadJobToService(t *testing.T) {
	_, c := sim(t)
	ns := world.Namespace(t)
	whoami(t, ns, true)
	in := gateInput(ns, cutover.FromClient(c), "whoami", true)
	in.Target.NomadJob = "plex" // healthy, but not whoami's
	g := cutover.Readiness(ctxT(t, 2*time.Minute), in)
	m := byID(g, "nomad-job-match")
	if g.Ready() || m.Status != cutover.Block || !strings.Contains(m.Next, "--confirm-nomad-job plex") {
		t.Fatalf("gate with another service's job: ready=%v %+v", g.Ready(), m)
	}
	in.ConfirmedJob = "plex"
	if m := byID(cutover.Readiness(ctxT(t, 2*time.Minute), in), "nomad-job-match"); m.Status != cutover.Pass {
		t.Fatalf("confirmed by name: %+v", m)
	}
	in.ConfirmedJob, in.Target.NomadJob = "", "whoami"
	if m := byID(cutover.Readiness(ctxT(t, 2*time.Minute), in), "nomad-job-match"); m.Status != cutover.Pass {
		t.Fatalf("the service's own job: %+v", m)
	}
}

func readJob(t *testing.T, c *nomadwatch.Client, id string) *api.Job {
	t.Helper()
	j, _, err := c.API().Jobs().Info(id, nil)
	if err != nil {
		t.Fatal(err)
	}
	return j
}

// Rollback asks first, and refuses a saved spec that is not the job's, a
// job running again, or one changed since the stop (no overwrite of a
// newer version: Nomad's EnforceIndex guards the register itself).
func TestRollbackChecksBeforeRegistering(t *testing.T) {
	_, c := sim(t)
	n := cutover.FromClient(c)
	dir := repo(t, c)
	ns := world.Namespace(t)
	whoami(t, ns, true)
	if _, err := flow(dir, ns, n).Cutover(ctxT(t, 2*time.Minute)); err != nil {
		t.Fatal(err)
	}
	// Declined: nothing registered, still on Kubernetes.
	f := flow(dir, ns, n)
	var asked string
	f.Prompts.ConfirmRollback = func(what string) bool { asked = what; return false }
	if _, err := f.Rollback(ctxT(t, time.Minute)); !errors.Is(err, cutover.ErrDeclined) || !strings.Contains(asked, "whoami") {
		t.Fatalf("declined rollback: %v (asked %q)", err, asked)
	}
	if j := readJob(t, c, "whoami"); !deref(j.Stop) {
		t.Fatal("a declined rollback registered the job")
	}

	// A saved spec of another job is refused.
	st, _ := state.Load(dir)
	co := st.Cutovers["whoami"]
	good := co.JobSpec
	var spec map[string]any
	json.Unmarshal(good, &spec)
	spec["ID"] = "plex"
	co.JobSpec, _ = json.Marshal(spec)
	st.Cutovers["whoami"] = co
	state.Save(dir, st, time.Now())
	if _, err := flow(dir, ns, n).Rollback(ctxT(t, time.Minute)); err == nil || !strings.Contains(err.Error(), "saved spec in the state is job plex") {
		t.Fatalf("mixed-up spec: %v", err)
	}
	co.JobSpec = good
	st.Cutovers["whoami"] = co
	state.Save(dir, st, time.Now())

	// Someone registers a newer version and stops it again: rolling back
	// would overwrite it.
	cur := readJob(t, c, "whoami")
	cur.Meta = map[string]string{"changed": "by hand"}
	cur.Stop = nil
	if _, _, err := c.API().Jobs().Register(cur, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := flow(dir, ns, n).Rollback(ctxT(t, time.Minute)); err == nil || !strings.Contains(err.Error(), "not stopped any more") {
		t.Fatalf("job running again: %v", err)
	}
	if _, _, err := c.API().Jobs().Deregister("whoami", false, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := flow(dir, ns, n).Rollback(ctxT(t, time.Minute)); !errors.Is(err, cutover.ErrJobChanged) {
		t.Fatalf("job changed since the stop: %v", err)
	}
	if j := readJob(t, c, "whoami"); j.Meta["changed"] != "by hand" || !deref(j.Stop) {
		t.Fatal("the newer version was overwritten")
	}
	// The register itself enforces the index: a stale index is refused by Nomad.
	if err := n.Register(ctxT(t, time.Minute), readJob(t, c, "whoami"), 1); !errors.Is(err, cutover.ErrJobChanged) {
		t.Fatalf("register with a stale index: %v", err)
	}
}

// A kill between recording "stopping" and Nomad's stop, or between the
// stop and recording it: the rerun asks Nomad and finishes, and a job
// still running stays under the Nomad guard meanwhile.
func TestCutoverResumesAfterAKillAroundTheStop(t *testing.T) {
	_, c := sim(t)
	n := cutover.FromClient(c)
	dir := repo(t, c)
	ns := world.Namespace(t)
	whoami(t, ns, true)
	spec, err := cutover.SaveSpec(ctxT(t, time.Minute), n, cutover.Target{Service: "whoami"})
	if err != nil {
		t.Fatal(err)
	}
	intent := func() {
		st, _ := state.Load(dir)
		st.Cutovers = map[string]state.Cutover{"whoami": {Service: "whoami", NomadJob: "whoami", Namespace: "default", Phase: state.CutoverStopping, JobSpec: spec}}
		if err := state.Save(dir, st, time.Now()); err != nil {
			t.Fatal(err)
		}
	}
	// Killed before the stop: whoami still runs and is still guarded.
	intent()
	st, _ := state.Load(dir)
	if b, _ := st.Baseline(); !func() bool { _, ok := b.Job("whoami"); return ok }() {
		t.Fatal("a job only about to be stopped left the Nomad guard")
	}
	out, err := flow(dir, ns, n).Cutover(ctxT(t, 2*time.Minute))
	if err != nil || out.Phase != state.CutoverOnKubernetes {
		t.Fatalf("rerun after a kill before the stop: %v %+v", err, out)
	}

	// Killed after the stop, before recording it.
	if _, err := flow(dir, ns, n).Rollback(ctxT(t, 2*time.Minute)); err != nil {
		t.Fatal(err)
	}
	intent()
	if _, _, err := c.API().Jobs().Deregister("whoami", false, nil); err != nil {
		t.Fatal(err)
	}
	out, err = flow(dir, ns, n).Cutover(ctxT(t, 2*time.Minute))
	if err != nil || out.Phase != state.CutoverOnKubernetes || out.Steps[0].Name != "resume" {
		t.Fatalf("rerun after a kill after the stop: %v %+v", err, out)
	}
	st, _ = state.Load(dir)
	if co := st.Cutovers["whoami"]; co.StoppedJobModifyIndex == 0 || co.Phase != state.CutoverOnKubernetes {
		t.Fatalf("state after the resume: %+v", co.Phase)
	}
}
