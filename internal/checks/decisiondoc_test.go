package checks_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"migrate-tui/internal/checks"
)

// The decision record is the operator's: every case keeps what they wrote.
func TestFileDecisionKeepsTheOperatorsText(t *testing.T) {
	prior := []checks.Result{{ID: "SC-001", Title: "PoC services run", Status: checks.Fail, Evidence: "whoami: 0/1 ready"}}
	at := time.Date(2026, 11, 30, 4, 0, 0, 0, time.UTC)
	body := checks.DecisionBody(prior, nil, at)
	later := checks.DecisionBody([]checks.Result{{ID: "SC-001", Title: "PoC services run", Status: checks.Pass, Evidence: "whoami: 1/1 ready"}}, nil, at.Add(time.Hour))
	extra := func(context.Context) string { return "### Services moved\n\n- whoami\n" }
	mine := "**Decision:** no-go for now, keep K3s for VPA data\n"

	for _, tc := range []struct {
		name      string
		existing  string // "" : no file
		wantPath  string // "decision.md" or "decision.draft.md"
		wantDraft bool
		check     func(t *testing.T, got, draft string)
	}{
		{name: "no record: the whole draft", wantPath: "decision.md", wantDraft: true,
			check: func(t *testing.T, got, _ string) {
				for _, w := range []string{checks.DraftMarker, checks.EvidenceBegin, "**Proposed from the criteria:** NO-GO: SC-001 failed", "| SC-001 | PoC services run | fail | whoami: 0/1 ready |", "### Services moved\n\n- whoami\n" + checks.EvidenceEnd} {
					if !strings.Contains(got, w) {
						t.Errorf("draft lacks %q:\n%s", w, got)
					}
				}
			}},
		{name: "an edited draft: only the section changes",
			existing: strings.Replace(body, "**Decision:** _go / no-go / partial — yours to write_\n", mine, 1) + "\nA note after the evidence.\n",
			wantPath: "decision.md", wantDraft: true,
			check: func(t *testing.T, got, _ string) {
				if !strings.Contains(got, mine) || !strings.HasSuffix(got, checks.EvidenceEnd+"\n\nA note after the evidence.\n") {
					t.Errorf("the operator's text was not kept:\n%s", got)
				}
				if !strings.Contains(got, "| SC-001 | PoC services run | pass | whoami: 1/1 ready |") || strings.Contains(got, "0/1 ready") {
					t.Errorf("the evidence was not regenerated:\n%s", got)
				}
			}},
		{name: "a final record with the section: evidence current, decision kept",
			existing: strings.Replace(strings.Replace(body, checks.DraftMarker+"\n", "", 1), "**Decision:** _go / no-go / partial — yours to write_\n", mine, 1),
			wantPath: "decision.md", wantDraft: false,
			check: func(t *testing.T, got, _ string) {
				if strings.Contains(got, checks.DraftMarker) || !strings.Contains(got, mine) || !strings.Contains(got, "1/1 ready") {
					t.Errorf("final record:\n%s", got)
				}
			}},
		{name: "the operator's own record: untouched", existing: "# Our decision\n\nno-go.\n", wantPath: "decision.md", wantDraft: false,
			check: func(t *testing.T, got, draft string) {
				if got != "# Our decision\n\nno-go.\n" || draft != "" {
					t.Errorf("record %q, draft %q", got, draft)
				}
			}},
		{name: "an older draft without the section: the new one goes beside it",
			existing: checks.DraftMarker + "\n# Decision\n\nhalf-written thoughts\n", wantPath: "decision.draft.md", wantDraft: true,
			check: func(t *testing.T, got, draft string) {
				if got != checks.DraftMarker+"\n# Decision\n\nhalf-written thoughts\n" || !strings.Contains(draft, checks.EvidenceBegin) {
					t.Errorf("record %q, draft %q", got, draft)
				}
			}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, "decision.md")
			if tc.existing != "" {
				if err := os.WriteFile(path, []byte(tc.existing), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			f := checks.FileDecision{Path: path, Extra: extra}
			in := body
			if tc.existing != "" {
				in = later
			}
			where, draft, err := f.Write(context.Background(), in)
			if err != nil {
				t.Fatal(err)
			}
			if filepath.Base(where) != tc.wantPath || draft != tc.wantDraft {
				t.Errorf("wrote %s (draft %v), want %s (draft %v)", where, draft, tc.wantPath, tc.wantDraft)
			}
			got, _ := os.ReadFile(path)
			d, _ := os.ReadFile(f.DraftPath())
			tc.check(t, string(got), string(d))
		})
	}
}

func TestPropose(t *testing.T) {
	rs := []checks.Result{
		{ID: "SC-001", Status: checks.Pass}, {ID: "SC-004", Status: checks.Unobservable},
		{ID: "SC-007", Status: checks.Warn}, {ID: "SC-010", Status: checks.Fail}, // SC-010 is the record itself
	}
	if p := checks.Propose(rs); p.Verdict != checks.Go || len(p.Failing) != 0 || p.Summary() != "GO: no criterion failed; SC-007 warned; SC-004 cannot be observed here" {
		t.Errorf("proposal %+v: %s", p, p.Summary())
	}
	rs = append(rs, checks.Result{ID: "SC-003", Status: checks.Fail})
	if p := checks.Propose(rs); p.Verdict != checks.NoGo || p.Summary() != "NO-GO: SC-003 failed; SC-007 warned; SC-004 cannot be observed here" {
		t.Errorf("one failure: %+v: %s", p, p.Summary())
	}
}
