package main

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"migrate-tui/internal/cutover"
	"migrate-tui/internal/nomadsim"
	"migrate-tui/internal/nomadwatch"
	"migrate-tui/internal/state"
)

func runCutoverCmd(t *testing.T, args ...string) (string, string, int) {
	t.Helper()
	var out, errOut bytes.Buffer
	root := newRootCmd(strings.NewReader(""), &out, &errOut)
	root.SetArgs(append([]string{"cutover"}, args...))
	err := root.Execute()
	code := 0
	if err != nil {
		code = exitCode(err) // what main exits with
		errOut.WriteString(err.Error())
	}
	return out.String(), errOut.String(), code
}

// A state where overseerr (a job with a Vault template) was cut over: the
// rollback's and the list's JSON parse, and the saved spec never reaches stdout.
func TestCutoverRollbackJSONNeverPrintsTheSpec(t *testing.T) {
	sim := nomadsim.New(nomadsim.Options{Token: "cli-token"})
	if err := sim.Start("127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sim.Close() })
	t.Setenv("NOMAD_ADDR", sim.URL())
	t.Setenv("NOMAD_TOKEN", sim.Token())
	nc, err := nomadwatch.NewClient(sim.URL(), sim.Token())
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	base, err := nomadwatch.TakeBaseline(ctx, nc)
	if err != nil {
		t.Fatal(err)
	}
	n := cutover.FromClient(nc)
	tgt := cutover.Target{Service: "overseerr"}
	spec, err := cutover.SaveSpec(ctx, n, tgt)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(spec, []byte("with secret")) {
		t.Fatal("the seeded overseerr job has no template text; the test could not fail")
	}
	if _, err := cutover.StopJob(ctx, n, tgt); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	st := state.New(time.Now())
	st.Preflight = &state.Preflight{NomadAddr: sim.URL(), Baseline: &base}
	now := time.Now().UTC()
	st.Cutovers = map[string]state.Cutover{"overseerr": {Service: "overseerr", NomadJob: "overseerr", Namespace: "default",
		Phase: state.CutoverOnKubernetes, JobSpec: spec, StoppedAt: &now}}
	if err := state.Save(dir, st, time.Now()); err != nil {
		t.Fatal(err)
	}

	out, errOut, code := runCutoverCmd(t, "--dir", dir, "--list", "--json")
	var list struct{ Services []cutover.Entry }
	if code != 0 || json.Unmarshal([]byte(out), &list) != nil {
		t.Fatalf("list: exit %d, %s %s", code, out, errOut)
	}
	found := false
	for _, e := range list.Services {
		if e.Service == "overseerr" {
			found = e.Phase == state.CutoverOnKubernetes && !e.Routing
		}
	}
	if !found {
		t.Errorf("list does not show overseerr on kubernetes: %s", out)
	}
	// Every Nomad job of the simulator, not only the PoC's, with its state.
	listed := map[string]cutover.Entry{}
	for _, e := range list.Services {
		listed[e.NomadJob] = e
	}
	for _, id := range nomadsim.HomelabJobIDs() {
		e, ok := listed[id]
		if !ok {
			t.Errorf("list lacks Nomad job %s: %s", id, out)
			continue
		}
		if id != "overseerr" && (e.State != cutover.OnNomadOnly || e.Next == "") {
			t.Errorf("Nomad job %s listed as %s (next %q), want on-nomad-only with a next action", id, e.State, e.Next)
		}
	}
	if e := listed["overseerr"]; e.State != cutover.NomadStopped || !strings.Contains(e.NomadStatus, "stopped") {
		t.Errorf("overseerr listed as %s (Nomad %q), want nomad-stopped, stopped in Nomad", e.State, e.NomadStatus)
	}

	out, errOut, code = runCutoverCmd(t, "--dir", dir, "--rollback", "--service", "overseerr", "--json", "--yes", "--wait", "1m")
	if code != 0 {
		t.Fatalf("rollback: exit %d\n%s\n%s", code, out, errOut)
	}
	var res struct {
		Outcome cutover.Outcome
		Error   string
	}
	if err := json.Unmarshal([]byte(out), &res); err != nil {
		t.Fatalf("--json output does not parse: %v\n%s", err, out)
	}
	if res.Outcome.Phase != state.CutoverOnNomad || res.Error != "" {
		t.Errorf("outcome %+v", res)
	}
	for _, leak := range []string{"with secret", "EmbeddedTmpl", "TaskGroups"} {
		if strings.Contains(out, leak) || strings.Contains(errOut, leak) {
			t.Errorf("output shows the job spec (%q)", leak)
		}
	}
	j, err := n.ReadJob(ctx, "default", "overseerr")
	if err != nil || *j.Stop || *j.Status != "running" {
		t.Errorf("overseerr after rollback: %v", err)
	}
}

func TestCutoverFlagErrors(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{}, "a SERVICE is required"},
		{[]string{"--list", "--service", "x"}, "--list takes no SERVICE"},
		{[]string{"whoami", "--service", "echo"}, "differ"},
		{[]string{"whoami", "echo"}, "accepts at most 1 arg"},
		{[]string{"whoami", "--rollback", "--step"}, "takes no --check or --step"},
		{[]string{"whoami", "--check", "--step"}, "changes nothing"},
	} {
		_, errOut, code := runCutoverCmd(t, append([]string{"--dir", t.TempDir()}, tc.args...)...)
		if code != 2 || !strings.Contains(errOut, tc.want) {
			t.Errorf("%v: exit %d, %q", tc.args, code, errOut)
		}
	}
}
