package specdocs

import (
	"flag"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the generated contracts from the code")

func repoRoot(t testing.TB) string {
	t.Helper()
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..")
}

// The generated contracts are what the code says today; -update rewrites them.
func TestGenerated(t *testing.T) {
	repo := repoRoot(t)
	for rel, gen := range Generated {
		want, err := gen(repo)
		if err != nil {
			t.Fatalf("%s: %v", rel, err)
		}
		path := filepath.Join(repo, Dir, rel)
		if *update {
			if err := os.WriteFile(path, []byte(want), 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		got, err := os.ReadFile(path)
		if err != nil {
			t.Fatalf("%v: run go test ./internal/specdocs -run TestGenerated -update", err)
		}
		if string(got) != want {
			t.Errorf("%s is out of date with the code: run go test ./internal/specdocs -run TestGenerated -update", rel)
		}
	}
	for key, gen := range GeneratedSections {
		rel, name, _ := strings.Cut(key, "#")
		body, err := gen(repo)
		if err != nil {
			t.Fatalf("%s: %v", key, err)
		}
		path := filepath.Join(repo, Dir, rel)
		got, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		want, err := ReplaceSection(string(got), name, body)
		if err != nil {
			t.Fatalf("%s: %v", rel, err)
		}
		if *update {
			if err := os.WriteFile(path, []byte(want), 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		if string(got) != want {
			t.Errorf("%s's section %s is out of date with the code: run go test ./internal/specdocs -run TestGenerated -update", rel, name)
		}
	}
}

// Every variable of variables.tf is a row of the tfvars-keys contract and
// every row is a variable (the generator refuses a variable no one sets).
func TestTfvarsKeysCoverVariablesTf(t *testing.T) {
	repo := repoRoot(t)
	m, err := ReadModule(repo)
	if err != nil {
		t.Fatal(err)
	}
	doc, err := Read(repo, "contracts/tfvars-keys.md")
	if err != nil {
		t.Fatal(err)
	}
	rows := tableKeys(doc)
	for _, v := range m.Variables {
		if !rows[v.Name] {
			t.Errorf("tfvars-keys.md has no row for variable %s", v.Name)
		}
		delete(rows, v.Name)
	}
	for k := range rows {
		t.Errorf("tfvars-keys.md has a row for %s, which variables.tf does not declare", k)
	}
}

// The module pattern holds for every service module: each has the common
// variables and outputs, and main.tf passes each module the common inputs.
func TestModulePattern(t *testing.T) {
	repo := repoRoot(t)
	mods, err := ServiceModules(repo)
	if err != nil {
		t.Fatal(err)
	}
	vars, outputs, files := Common(mods)
	for _, want := range []string{"namespace", "service_mesh", "vpa_enabled", "vpa_update_mode"} {
		if !contains(vars, want) {
			t.Errorf("not every service module declares variable %s; the pattern (module-pattern.md) says they do", want)
		}
	}
	for _, want := range []string{"name", "url", "objects"} {
		if !contains(outputs, want) {
			t.Errorf("not every service module has output %s", want)
		}
	}
	for _, want := range []string{"main.tf", "variables.tf", "outputs.tf", "versions.tf", "manifests/"} {
		if !contains(files, want) {
			t.Errorf("not every service module has %s", want)
		}
	}
}

func contains(ss []string, s string) bool {
	for _, x := range ss {
		if x == s {
			return true
		}
	}
	return false
}
