package evaluate_test

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/x/exp/teatest"

	"migrate-tui/internal/checks"
	"migrate-tui/internal/evaluate"
	"migrate-tui/internal/evaluate/evaluateui"
	"migrate-tui/internal/specdocs"
	"migrate-tui/internal/state"
)

// One real run of every criterion in the test world (whoami deployed with
// its VPA and the real recommender; echo, a PoC service, never deployed, so
// criteria fail for real): the draft decision.md carries that run's results
// and the proposal follows them. Then the go/no-go screen gathers again over
// the operator's edited record: it shows the evidence and the proposal, and
// regenerates only the evidence section.
func TestGoNoGoFromARealRun(t *testing.T) {
	ns := world.Namespace(t)
	nc := startNomad(t)
	world.DeployWithUsage(t, ns, "whoami", "120m", "100Mi")
	world.CreateVPA(t, ns, "whoami")
	world.WaitVPATarget(t, ns, "whoami")

	dec := checks.DefaultDecisions()
	dec.PoCNamespace = ns
	dec.PoCServices = []string{"whoami", "echo"}
	first := time.Date(2026, 11, 30, 4, 0, 0, 0, time.UTC)
	clock := first
	d := &checks.Deps{Kube: world.Client, Dynamic: world.Dynamic, Decisions: dec, Nomad: checks.NomadWatch{N: nc},
		Now: func() time.Time { return clock }}
	stopped := first.Add(-time.Hour)
	st := state.New(first)
	st.Cutovers = map[string]state.Cutover{"whoami": {Service: "whoami", NomadJob: "whoami", Phase: state.CutoverOnKubernetes, StoppedAt: &stopped, RoutingConfirmedAt: &stopped}}
	path := evaluate.DecisionPath(t.TempDir())
	opts := evaluate.Options{DecisionPath: path, Run: checks.RunOptions{Timeout: 90 * time.Second}, Now: func() time.Time { return clock }}

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	ev := evaluate.Gather(ctx, d, st, opts)

	if len(ev.Checks) != len(checks.All()) {
		t.Fatalf("%d results, want every criterion", len(ev.Checks))
	}
	var failing []string
	for _, r := range ev.Checks {
		t.Logf("%s %s: %s", r.ID, r.Status, strings.ReplaceAll(r.Evidence, "\n", " / "))
		if r.Status == checks.Fail && r.ID != "SC-010" {
			failing = append(failing, r.ID)
		}
	}
	if !slices.Contains(failing, "SC-001") {
		t.Fatalf("SC-001 should fail with echo never deployed; failing: %v", failing)
	}
	if ev.Proposal.Verdict != checks.NoGo || !slices.Equal(ev.Proposal.Failing, failing) {
		t.Errorf("proposal %+v, want NO-GO naming exactly the failing criteria %v", ev.Proposal, failing)
	}
	if ev.Rightsize == nil {
		t.Fatalf("no right-sizing: %s", ev.RightsizeError)
	}
	var whoami *struct{ cpu, mem, scpu, smem int }
	for _, s := range ev.Rightsize.Services {
		if s.Service == "whoami" && len(s.Tasks) == 1 {
			whoami = &struct{ cpu, mem, scpu, smem int }{s.Tasks[0].Target.CPUMHz, s.Tasks[0].Target.MemoryMB, s.Saving.CPUMHz, s.Saving.MemoryMB}
		}
	}
	if whoami == nil {
		t.Fatalf("no VPA saving for whoami: %+v", ev.Rightsize.Services)
	}
	if len(ev.Overhead) == 0 {
		t.Errorf("no overhead per node: %s", ev.OverheadError)
	}
	if ev.Decision.State != "draft" || ev.Decision.Path != path {
		t.Errorf("record %+v, want a draft at %s", ev.Decision, path)
	}
	// The evidence as `evaluate --json` prints it keeps its contract.
	var js bytes.Buffer
	if err := evaluate.WriteJSON(&js, ev); err != nil {
		t.Fatal(err)
	}
	schemas, err := specdocs.Schemas(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	if err := specdocs.Validate(schemas["evaluate.schema.json"], js.Bytes()); err != nil {
		t.Errorf("evaluate --json does not match contracts/evaluate.schema.json: %v\n%s", err, js.String())
	}

	body := read(t, path)
	want := []string{
		checks.DraftMarker,
		checks.EvidenceBegin,
		"Gathered by migrate-tui on 2026-11-30T04:00:00Z.",
		"**Proposed from the criteria:** " + ev.Proposal.Summary() + ".",
		"| whoami | whoami | on-kubernetes | 2026-11-30 03:00 | yes |",
		fmt.Sprintf("| whoami | kubernetes | pass | 50 MHz / 32 MB | %d MHz / %d MB | %d MHz / %d MB |", whoami.cpu, whoami.mem, whoami.scpu, whoami.smem),
		checks.EvidenceEnd,
	}
	for _, o := range ev.Overhead {
		if o.Nomad == nil || o.Nomad.AgentsCPUMHz() <= 0 {
			t.Errorf("%s: no Nomad CPU outside allocations: %+v", o.Node, o.Nomad)
			continue
		}
		want = append(want, fmt.Sprintf("| %s | %dm | %dm | %d MHz | %d MHz | %d MHz |", o.Node, o.NodeCPUMilli, o.PlatformCPUMilli, o.Nomad.HostCPUMHz, o.Nomad.AllocsCPUMHz, o.Nomad.AgentsCPUMHz()))
	}
	for _, r := range ev.Checks {
		if r.ID != "SC-010" {
			want = append(want, fmt.Sprintf("| %s | %s | %s | ", r.ID, r.Title, r.Status))
		}
	}
	for _, w := range want {
		if !strings.Contains(body, w) {
			t.Errorf("decision.md lacks %q:\n%s", w, body)
		}
	}

	// The operator writes their decision (keeping the draft marker for now)
	// and a note below the evidence.
	mine := "**Decision:** no-go for now; keep K3s for the VPA data"
	edited := strings.Replace(body, "**Decision:** _go / no-go / partial — yours to write_", mine, 1) + "\nReviewed with the household.\n"
	if err := os.WriteFile(path, []byte(edited), 0o644); err != nil {
		t.Fatal(err)
	}

	// The screen gathers again an hour later.
	clock = first.Add(time.Hour)
	m := evaluateui.New(evaluateui.Options{Gather: evaluateui.GatherWith(d, st, opts), Context: ctx})
	tm := teatest.NewTestModel(t, evaluateui.Standalone{Model: m}, teatest.WithInitialTermSize(110, 200))
	var seen bytes.Buffer
	teatest.WaitFor(t, tm.Output(), func(b []byte) bool {
		seen.Write(b)
		return bytes.Contains(seen.Bytes(), []byte("total saving"))
	}, teatest.WithDuration(5*time.Minute), teatest.WithCheckInterval(100*time.Millisecond))
	tm.Send(tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune("q")})
	final := tm.FinalModel(t, teatest.WithFinalTimeout(time.Minute)).(evaluateui.Standalone)
	view := final.Model.View()
	ev2 := final.Model.Evidence()
	if ev2 == nil {
		t.Fatal("the screen finished without evidence")
	}
	screenWant := []string{
		"Go / no-go",
		"Proposed: " + ev2.Proposal.Summary(),
		"draft written to " + path,
		"whoami       on-kubernetes, traffic switch confirmed",
		"VPA savings",
	}
	for _, id := range ev2.Proposal.Failing {
		screenWant = append(screenWant, "✗ "+id)
	}
	if ev2.Proposal.Verdict != checks.NoGo {
		t.Errorf("the screen's proposal is %s with %v failing", ev2.Proposal.Verdict, ev2.Proposal.Failing)
	}
	for _, w := range screenWant {
		if !strings.Contains(view, w) {
			t.Errorf("the screen lacks %q:\n%s", w, view)
		}
	}
	after := read(t, path)
	if !strings.Contains(after, mine) || !strings.HasSuffix(after, checks.EvidenceEnd+"\n\nReviewed with the household.\n") {
		t.Errorf("the operator's text was not kept:\n%s", after)
	}
	if !strings.Contains(after, "Gathered by migrate-tui on 2026-11-30T05:00:00Z.") || strings.Contains(after, "T04:00:00Z") {
		t.Errorf("the evidence section was not regenerated:\n%s", after)
	}
}

func read(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
