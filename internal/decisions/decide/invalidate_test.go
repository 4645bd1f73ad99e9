package decide

import (
	"slices"
	"strings"
	"testing"

	"migrate-tui/internal/decisions"
	"migrate-tui/internal/state"
	"migrate-tui/internal/steps"
)

// After every stage was applied, `decide --set vpa_update_mode=Initial`
// sent every stage back to pending from stage.cluster (which needs every
// decision screen): the next step was reinstalling K3s. Only the stages
// that use vpa_update_mode go back now, with the checks that vouched for
// them, and the state says why.
func TestChangedDecisionSendsBackOnlyItsStages(t *testing.T) {
	repo := t.TempDir()
	st := state.New(now)
	if _, err := Apply(repo, st, defaultsAnswers(), "test", now); err != nil {
		t.Fatal(err)
	}
	plan := steps.Default()
	for _, s := range plan.Steps {
		if steps.StatusOf(st.Steps, s.ID) != steps.Done {
			st.Finish(s.ID, steps.Done, []string{"ok"}, "", now)
		}
	}
	out, err := Apply(repo, st, decisions.Answers{"vpa_update_mode": "Initial"}, "decide --set", now)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"stage.vpa", "stage.services", "verify.criteria", "cutover.services", "evaluate.go-no-go"}
	if !slices.Equal(out.Invalidated, want) {
		t.Fatalf("invalidated %v, want %v", out.Invalidated, want)
	}
	if first := plan.FirstUnfinished(st.Steps); first != "stage.vpa" {
		t.Fatalf("next step %s, want stage.vpa", first)
	}
	for _, id := range []string{"stage.cluster", "stage.mesh", "stage.storage", "stage.vault", "stage.ingress", "decide.services", "decide.cluster"} {
		if st.Record(id).Status != steps.Done {
			t.Errorf("%s is %s, want it left done", id, st.Record(id).Status)
		}
	}
	rec := st.Record("stage.vpa")
	if rec.Status != steps.Pending || len(rec.Evidence) != 1 || rec.Evidence[0] != InvalidationReason([]string{"vpa_update_mode"}) {
		t.Fatalf("stage.vpa = %+v", rec)
	}
	// A cluster value sends the cluster back, and everything after it that used it.
	_, why := Invalidation(st, decisions.Answers{"k3s_version": "v1"}, decisions.Answers{"k3s_version": "v2"})
	if _, ok := why["stage.cluster"]; !ok || !strings.Contains(InvalidationReason(why["stage.cluster"]), "k3s_version") {
		t.Fatalf("k3s_version: %v", why)
	}
	if _, ok := why["stage.services"]; ok {
		t.Fatalf("k3s_version sent stage.services back: %v", why)
	}
	// Every decision key is used by some stage or knowingly by none.
	for _, d := range decisions.All() {
		if len(steps.StagesUsing(d.Key)) == 0 && !slices.Contains(usedByNoStage, d.Key) {
			t.Errorf("%s is used by no stage in steps.StageKeys; add it there (or here, if it only feeds checks)", d.Key)
		}
	}
}

// Keys that change no stage's work: changing them sends nothing back.
var usedByNoStage = []string{
	"nomad_dynamic_port_range", // only main.tf's precondition reads it
	// Only cutover's traffic switch reads them (the external Traefik).
	"traefik_route_dir", "traefik_route_node", "traefik_websecure_addr",
}

func defaultsAnswers() decisions.Answers {
	a := decisions.Answers{}
	for _, sc := range decisions.Screens {
		for _, d := range Asked(sc.ID, a) {
			a[d.Key] = d.Default
		}
	}
	return a
}
