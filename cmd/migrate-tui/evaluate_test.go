package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"migrate-tui/internal/checks"
)

func TestEvaluateExitCodes(t *testing.T) {
	t.Setenv("NOMAD_ADDR", "")
	dir := t.TempDir()
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"unknown flag", []string{"--bogus"}, "unknown flag"},
		{"no kubeconfig", []string{"--kubeconfig", filepath.Join(dir, "missing")}, "no kubeconfig"},
		{"negative core MHz", []string{"--core-mhz", "-5"}, "--core-mhz must be positive"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, errOut, code := runRoot(t, append([]string{"evaluate", "--dir", dir}, tc.args...)...)
			if code != exitUsage || !strings.Contains(errOut, tc.want) {
				t.Errorf("exit %d, stderr %q; want %d and %q", code, errOut, exitUsage, tc.want)
			}
		})
	}
	if _, err := os.Stat(filepath.Join(dir, "specs")); err == nil {
		t.Error("bad usage wrote a decision record")
	}
}

// An API that never answers: the criteria fail for real, the proposal is
// NO-GO (exit 1) and the draft record says why.
func TestEvaluateNoGoWritesTheDraft(t *testing.T) {
	t.Setenv("NOMAD_ADDR", "")
	dir := t.TempDir()
	kc := silentKubeconfig(t)
	out, errOut, code := runRoot(t, "evaluate", "--dir", dir, "--kubeconfig", kc, "--timeout", "2s", "--json")
	if code != exitFailed || !strings.Contains(errOut, "NO-GO proposed: SC-001") {
		t.Fatalf("exit %d, stderr %q; want 1 and NO-GO", code, errOut)
	}
	var ev struct {
		Proposal struct {
			Verdict string
			Failing []string
		}
		Decision struct{ Path, State string }
	}
	if err := json.Unmarshal([]byte(out), &ev); err != nil {
		t.Fatalf("not one JSON object: %v\n%s", err, out)
	}
	if ev.Proposal.Verdict != "NO-GO" || len(ev.Proposal.Failing) == 0 || ev.Decision.State != "draft" {
		t.Fatalf("evidence %+v", ev)
	}
	body, err := os.ReadFile(ev.Decision.Path)
	if err != nil {
		t.Fatal(err)
	}
	for _, w := range []string{checks.DraftMarker, "**Proposed from the criteria:** NO-GO: " + strings.Join(ev.Proposal.Failing, ", ") + " failed", "### Services moved", "### VPA right-sizing"} {
		if !strings.Contains(string(body), w) {
			t.Errorf("decision.md lacks %q:\n%s", w, body)
		}
	}
	// The operator's words survive the next run; the text output says where
	// the record is and what is left to do.
	mine := strings.Replace(string(body), "_go / no-go / partial — yours to write_", "no-go until SC-001 passes", 1)
	if err := os.WriteFile(ev.Decision.Path, []byte(mine), 0o644); err != nil {
		t.Fatal(err)
	}
	out, errOut, code = runRoot(t, "evaluate", "--dir", dir, "--kubeconfig", kc, "--timeout", "2s")
	if code != exitFailed || !strings.Contains(out, "Proposed: NO-GO: SC-001") || !strings.Contains(out, "Draft decision record: "+ev.Decision.Path) {
		t.Errorf("exit %d\n%s\n%s", code, out, errOut)
	}
	if after, _ := os.ReadFile(ev.Decision.Path); !strings.Contains(string(after), "no-go until SC-001 passes") {
		t.Errorf("the operator's decision was overwritten:\n%s", after)
	}
}
