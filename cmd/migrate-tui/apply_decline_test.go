package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"migrate-tui/internal/stages"
)

// Declining a plan leaves terraform.tfvars as it was. Before, the stage
// was already written into enabled_stages when the plan was shown, and the
// next stage's plan then created the declined stage without its pre-checks.
func TestDeclinedPlanLeavesTfvarsAlone(t *testing.T) {
	var regs []stages.Regression
	useFixtureRunner(t, &regs)
	dir := applyFixture(t)
	tfvars := filepath.Join(dir, "terraform.tfvars")
	before := "# operator's file\nenabled_stages = []\n"
	if err := os.WriteFile(tfvars, []byte(before), 0o644); err != nil {
		t.Fatal(err)
	}
	out, code := runApply(t, dir, "no\n", "--stage", "mesh")
	if code != exitApplyRefused || !strings.Contains(out, "not confirmed") {
		t.Fatalf("exit %d:\n%s", code, out)
	}
	if got, _ := os.ReadFile(tfvars); string(got) != before {
		t.Fatalf("terraform.tfvars changed by a declined plan:\n%s", got)
	}
	// Confirmed, the stage is written (and applied).
	out, code = runApply(t, dir, "yes\n", "--stage", "mesh")
	if code != 0 {
		t.Fatalf("exit %d:\n%s", code, out)
	}
	if got, _ := os.ReadFile(tfvars); !strings.Contains(string(got), `enabled_stages = ["mesh"]`) || !strings.HasPrefix(string(got), "# operator's file\n") {
		t.Fatalf("terraform.tfvars after the confirmed apply:\n%s", got)
	}
}
