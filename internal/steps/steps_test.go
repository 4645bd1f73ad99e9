package steps

import (
	"slices"
	"strings"
	"testing"

	"migrate-tui/internal/decisions"
)

func TestDefaultPlanOrder(t *testing.T) {
	p := Default()
	seen := map[string]bool{}
	lastPhase := Phase(0)
	for _, s := range p.Steps {
		for _, n := range s.Needs {
			if !seen[n] {
				t.Errorf("%s needs %s, which does not come before it", s.ID, n)
			}
		}
		if s.Phase < lastPhase {
			t.Errorf("%s (phase %s) comes after phase %s", s.ID, s.Phase, lastPhase)
		}
		lastPhase = s.Phase
		if s.Title == "" || s.Why == "" || s.Ref == "" {
			t.Errorf("%s lacks a title, why or ref", s.ID)
		}
		seen[s.ID] = true
	}
	// Every decision screen and every stage has its step.
	for _, sc := range decisions.Screens {
		if s := p.Get("decide." + sc.ID); s == nil || s.Kind != KindDecision {
			t.Errorf("no decision step for screen %s", sc.ID)
		}
	}
	for _, st := range []string{"cluster", "storage", "mesh", "vault", "vpa", "ingress", "services"} {
		if s := p.Get("stage." + st); s == nil || s.Kind != KindStage {
			t.Errorf("no stage step for %s", st)
		}
	}
	for _, k := range []Kind{KindPreflight, KindDecision, KindStage, KindVerify, KindCutover, KindEvaluate} {
		if !slices.ContainsFunc(p.Steps, func(s Step) bool { return s.Kind == k }) {
			t.Errorf("no step of kind %s", k)
		}
	}
	// The mesh must be decided before K3s is installed (Cilium replaces flannel).
	if !slices.Contains(p.Get("stage.cluster").Needs, "decide.mesh") {
		t.Error("stage.cluster does not need decide.mesh")
	}
}

func TestNewRejectsBadPlans(t *testing.T) {
	for name, tc := range map[string]struct {
		steps []Step
		want  string
	}{
		"forward dependency": {[]Step{{ID: "a", Needs: []string{"b"}}, {ID: "b"}}, "comes later"},
		"unknown dependency": {[]Step{{ID: "a", Needs: []string{"x"}}}, "not in the plan"},
		"duplicate":          {[]Step{{ID: "a"}, {ID: "a"}}, "twice"},
		"cycle":              {[]Step{{ID: "a", Needs: []string{"b"}}, {ID: "b", Needs: []string{"a"}}}, "comes later"},
		"no id":              {[]Step{{}}, "no ID"},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := New(tc.steps)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("New: %v, want error containing %q", err, tc.want)
			}
		})
	}
}

func TestProgress(t *testing.T) {
	p := Default()
	recs := map[string]Record{}
	if got := p.FirstUnfinished(recs); got != "preflight.tools" {
		t.Fatalf("first unfinished of a new plan = %s", got)
	}
	if b := p.Blockers("preflight.inventory", recs); !slices.Equal(b, []string{"preflight.nomad"}) {
		t.Fatalf("blockers of inventory = %v", b)
	}
	for _, id := range []string{"preflight.tools", "preflight.nomad", "preflight.inventory"} {
		recs[id] = Record{Status: Done}
	}
	recs["preflight.baseline"] = Record{Status: Failed}
	if got := p.FirstUnfinished(recs); got != "preflight.baseline" {
		t.Fatalf("first unfinished = %s, want the failed baseline", got)
	}
	recs["preflight.baseline"] = Record{Status: Skipped}
	if got := p.FirstUnfinished(recs); got != "decide.topology" {
		t.Fatalf("first unfinished = %s, want decide.topology", got)
	}
	if b := p.Blockers("decide.cluster", recs); !slices.Equal(b, []string{"decide.topology", "decide.mesh", "decide.ingress"}) {
		t.Fatalf("blockers of decide.cluster = %v", b)
	}
	if c := p.Counts(recs); c[Done] != 3 || c[Skipped] != 1 || c[Pending] != len(p.Steps)-4 {
		t.Fatalf("counts = %v", c)
	}
}

func TestDependentsAndInvalidation(t *testing.T) {
	p := Default()
	deps := p.Dependents("decide.mesh")
	for _, want := range []string{"decide.cluster", "stage.cluster", "stage.mesh", "stage.services", "verify.criteria", "evaluate.go-no-go"} {
		if !slices.Contains(deps, want) {
			t.Errorf("dependents of decide.mesh lack %s: %v", want, deps)
		}
	}
	if slices.Contains(deps, "decide.vault") || slices.Contains(deps, "preflight.tools") {
		t.Errorf("dependents of decide.mesh include unrelated steps: %v", deps)
	}
	recs := map[string]Record{"decide.cluster": {Status: Done}, "stage.cluster": {Status: Failed}, "decide.vault": {Status: Done}}
	if got := p.Invalidated("decide.mesh", recs); !slices.Equal(got, []string{"decide.cluster", "stage.cluster"}) {
		t.Fatalf("invalidated by revisiting decide.mesh = %v", got)
	}
}

func TestDecisionStep(t *testing.T) {
	if got := DecisionStep("service_mesh"); got != "decide.mesh" {
		t.Fatalf("DecisionStep(service_mesh) = %s", got)
	}
	for _, d := range decisions.All() {
		if Default().Get(DecisionStep(d.Key)) == nil {
			t.Errorf("decision %s has no step", d.Key)
		}
	}
}
