package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"migrate-tui/internal/stages"
	"migrate-tui/internal/tfrunner"
	"migrate-tui/internal/tfrunner/tftest"
)

// applyFixture is a repository-like copy of tfrunner's fixture configuration.
func applyFixture(t *testing.T) string {
	t.Helper()
	dst := tftest.CopyConfig(t, tftest.FixtureConfig())
	// apply refuses to run outside a repository with the variables contract.
	if err := os.WriteFile(filepath.Join(dst, "variables.tf"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	return dst
}

// useFixtureRunner makes `apply` run real OpenTofu on the fixture with a
// guard that reports what the test says.
func useFixtureRunner(t *testing.T, regs *[]stages.Regression) {
	t.Helper()
	tofu, env, cache := tftest.Tofu(t), tftest.Env(t), t.TempDir()
	old := applyStageRunner
	t.Cleanup(func() { applyStageRunner = old })
	applyStageRunner = func(ctx context.Context, o *applyOptions) (*stages.Runner, error) {
		tf, err := tfrunner.New(ctx, tfrunner.Options{Dir: o.dir, Binary: tofu, PluginCacheDir: cache,
			Env: env})
		if err != nil {
			return nil, err
		}
		return &stages.Runner{TF: tf, Vars: stages.TfvarsFile{Path: filepath.Join(o.dir, "terraform.tfvars")},
			Guard: stages.GuardFunc(func(context.Context) ([]stages.Regression, error) { return *regs, nil })}, nil
	}
}

func runApply(t *testing.T, dir, stdin string, args ...string) (string, int) {
	t.Helper()
	var out, errOut bytes.Buffer
	cmd := newRootCmd(strings.NewReader(stdin), &out, &errOut)
	cmd.SetArgs(append([]string{"--dir", dir, "apply"}, args...))
	err := cmd.Execute()
	code := 0
	if err != nil {
		code = exitCode(err) // what main exits with
		out.WriteString(err.Error())
	}
	return out.String(), code
}

func jsonLines(t *testing.T, s string) []map[string]any {
	t.Helper()
	var out []map[string]any
	for _, l := range strings.Split(strings.TrimSpace(s), "\n") {
		if l == "" {
			continue
		}
		var m map[string]any
		if err := json.Unmarshal([]byte(l), &m); err != nil {
			t.Fatalf("not a JSON line: %q", l)
		}
		out = append(out, m)
	}
	return out
}

func TestApplyJSONLines(t *testing.T) {
	var regs []stages.Regression
	useFixtureRunner(t, &regs)
	dir := applyFixture(t)

	out, code := runApply(t, dir, "", "--stage", "mesh", "--yes", "--json")
	if code != 0 {
		t.Fatalf("exit %d:\n%s", code, out)
	}
	lines := jsonLines(t, out)
	kinds := []string{}
	for _, l := range lines {
		kinds = append(kinds, l["kind"].(string))
	}
	if kinds[0] != "plan" || kinds[1] != "apply_start" || kinds[len(kinds)-2] != "apply_done" || kinds[len(kinds)-1] != "result" {
		t.Fatalf("line kinds = %v, want plan, apply_start, ..., apply_done, result", kinds)
	}
	if n := strings.Count(strings.Join(kinds, " "), "resource_complete"); n != 4 {
		t.Fatalf("%d resource_complete lines, want 4: %v", n, kinds)
	}
	if res := lines[len(lines)-1]; res["outcome"] != "applied" {
		t.Fatalf("result = %v", res)
	}
	tfv, _ := os.ReadFile(filepath.Join(dir, "terraform.tfvars"))
	if !strings.Contains(string(tfv), `enabled_stages = ["mesh"]`) {
		t.Fatalf("terraform.tfvars does not enable the stage:\n%s", tfv)
	}

	// A plan that destroys another stage's module is refused with exit 3.
	f, _ := os.OpenFile(filepath.Join(dir, "terraform.tfvars"), os.O_APPEND|os.O_WRONLY, 0)
	f.WriteString("keep_outside = false\n")
	f.Close()
	out, code = runApply(t, dir, "", "--stage", "mesh", "--yes", "--json")
	lines = jsonLines(t, out)
	res := lines[len(lines)-1]
	if code != exitApplyRefused || res["outcome"] != "refused" || !strings.Contains(out, "module.ingress[0].terraform_data.r[0]") {
		t.Fatalf("exit %d, result %v; want exit 3 refusing module.ingress[0]", code, res)
	}
}

func TestApplyAsksAndNomadGuardStops(t *testing.T) {
	var regs []stages.Regression
	useFixtureRunner(t, &regs)
	dir := applyFixture(t)

	out, code := runApply(t, dir, "no\n", "--stage", "storage")
	if code != exitApplyRefused || !strings.Contains(out, "Plan for stage storage: 4 to add") {
		t.Fatalf("answering no: exit %d\n%s", code, out)
	}
	regs = []stages.Regression{{Job: "whoami", What: "allocation 1234 failed"}}
	out, code = runApply(t, dir, "yes\n", "--stage", "storage")
	if code != exitApplyNomad || !strings.Contains(out, "whoami: allocation 1234 failed") {
		t.Fatalf("with a Nomad regression: exit %d\n%s", code, out)
	}
	regs = nil
	out, code = runApply(t, dir, "yes\n", "--stage", "storage")
	if code != 0 || !strings.Contains(out, "stage storage applied and verified") {
		t.Fatalf("exit %d\n%s", code, out)
	}
}
