package specdocs

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"migrate-tui/internal/checks"
	"migrate-tui/internal/steps"
)

// The documents of the feature, relative to Dir: each must exist.
var documents = []string{"spec.md", "research.md", "state.md", "plan.md", "data-model.md", "quickstart.md", "tasks.md",
	"contracts/README.md", "contracts/exit-codes.md", "contracts/tfvars-keys.md", "contracts/module-pattern.md"}

func readAll(t *testing.T) map[string]string {
	t.Helper()
	repo := repoRoot(t)
	out := map[string]string{}
	for _, d := range documents {
		s, err := Read(repo, d)
		if err != nil {
			t.Errorf("the feature's document %s: %v", d, err)
			continue
		}
		out[d] = s
	}
	return out
}

// Every check ID the documents name is a check in internal/checks, and
// every check is a success criterion of spec.md's table.
func TestCheckIDsMatchTheCode(t *testing.T) {
	docs := readAll(t)
	known := map[string]bool{}
	for _, c := range checks.All() {
		known[c.ID] = true
	}
	for name, doc := range docs {
		for _, id := range CheckIDs(doc) {
			if !known[id] {
				t.Errorf("%s names %s, which internal/checks does not have", name, id)
			}
		}
	}
	inTable := map[string]bool{}
	for _, r := range TableRows(docs["spec.md"]) {
		if scID.MatchString(r[0]) && scID.FindString(r[0]) == r[0] {
			inTable[r[0]] = true
		}
	}
	for id := range known {
		if !inTable[id] {
			t.Errorf("spec.md's success-criteria table has no row %s, which internal/checks runs", id)
		}
	}
}

var stepRef = regexp.MustCompile("`((?:preflight|decide|stage|verify|cutover|evaluate)\\.[a-z0-9-]+)`")

// Step IDs and decision keys the documents name in backticks exist.
func TestStepIDsAndKeysExist(t *testing.T) {
	docs := readAll(t)
	plan := steps.Default()
	for _, name := range []string{"plan.md", "data-model.md", "quickstart.md", "tasks.md"} {
		for _, m := range stepRef.FindAllStringSubmatch(docs[name], -1) {
			if plan.Get(m[1]) == nil {
				t.Errorf("%s names step %s, which internal/steps does not have", name, m[1])
			}
		}
	}
}

var mappingEvidence = regexp.MustCompile("`([^`]+)` has `([^`]+)`")

// data-model.md's mapping table: every mapping said to exist today names
// a file of the repository and a text in it, and that text is there.
func TestDataModelMappingMatchesModules(t *testing.T) {
	repo := repoRoot(t)
	doc, err := Read(repo, "data-model.md")
	if err != nil {
		t.Fatal(err)
	}
	_, mapping, ok := strings.Cut(doc, "## Nomad to Kubernetes")
	if !ok {
		t.Fatal(`data-model.md has no "## Nomad to Kubernetes" section`)
	}
	mapping, _, _ = strings.Cut(mapping, "\n## ")
	// The hand-written table only: "What scaffold maps" is generated from
	// the scaffold package and kept by TestGenerated.
	mapping, _, _ = strings.Cut(mapping, "\n### ")
	rows := TableRows(mapping)
	if len(rows) < 12 {
		t.Fatalf("data-model.md maps %d Nomad concepts; the issue names at least 12", len(rows)-1)
	}
	evidenced := 0
	for _, r := range rows[1:] {
		last := r[len(r)-1]
		for _, m := range mappingEvidence.FindAllStringSubmatch(last, -1) {
			b, err := os.ReadFile(filepath.Join(repo, m[1]))
			if err != nil {
				t.Errorf("data-model.md row %q: %v", r[0], err)
				continue
			}
			if !strings.Contains(string(b), m[2]) {
				t.Errorf("data-model.md row %q: %s does not contain %q", r[0], m[1], m[2])
			}
			evidenced++
		}
		if !mappingEvidence.MatchString(last) && !strings.Contains(last, "not mapped") && !strings.Contains(last, "scaffold") {
			t.Errorf("data-model.md row %q neither cites a module file nor says it is not mapped or left to scaffold: %q", r[0], last)
		}
	}
	if evidenced < 8 {
		t.Errorf("only %d mappings cite a module file; the existing modules do more than that by hand", evidenced)
	}
}

// Every schema compiles as draft 2020-12 and every cross-reference
// resolves; the commands' documents are validated in
// TestCommandsAgainstTheTestWorld.
func TestSchemasCompile(t *testing.T) {
	s, err := Schemas(repoRoot(t))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"check.schema.json", "status.schema.json", "cutover.schema.json", "cutover-list.schema.json", "state.schema.json"} {
		if s[want] == nil {
			t.Errorf("contracts/%s is missing", want)
		}
	}
	// A document that breaks the state schema must fail it: the schema
	// is not vacuous.
	bad := []byte(`{"schema": 1, "created_at": "2026-01-12T09:00:00Z", "updated_at": "2026-01-12T09:00:00Z", "steps": {"preflight.tools": {"status": "maybe"}}, "decisions": {}}`)
	if err := Validate(s["state.schema.json"], bad); err == nil {
		t.Error("the state schema accepts a step status internal/state refuses")
	}
}

// planned are commands the documents name as planned, not built: once one
// exists, the documents must stop calling it planned.
var planned = map[string]string{"scaffold": "issue 12"}

var commandSpan = regexp.MustCompile("`(?:migrate-tui|mt)((?: [^`]*)?)`")

// Every command line the documents show (`migrate-tui X --flag ...` or
// `mt X ...`) names a real subcommand, and each of its flags is in that
// subcommand's --help.
func TestDocumentedCommandsExist(t *testing.T) {
	docs := readAll(t)
	c := &cli{t: t, bin: needBinary(t), env: environ(nil)}
	helps := map[string]string{}
	help := func(path []string) (string, bool) {
		key := strings.Join(path, " ")
		if h, ok := helps[key]; ok {
			return h, h != ""
		}
		out, _, code := c.run(append(path, "--help")...)
		if code != 0 || (len(path) > 0 && !strings.Contains(out, "migrate-tui "+key)) {
			out = ""
		}
		helps[key] = out
		return out, out != ""
	}
	root, _ := help(nil)
	seen := 0
	for name, doc := range docs {
		if strings.HasPrefix(name, "research") {
			continue
		}
		for _, m := range commandSpan.FindAllStringSubmatch(doc, -1) {
			seen++
			fields := strings.Fields(m[1])
			var path []string
			for _, f := range fields {
				if strings.HasPrefix(f, "-") || strings.ToLower(f) != f || strings.ContainsAny(f, "=./\\$") {
					break
				}
				if _, ok := help(append(append([]string{}, path...), f)); !ok {
					break
				}
				path = append(path, f)
			}
			if len(path) == 0 && len(fields) > 0 && !strings.HasPrefix(fields[0], "-") {
				if why, ok := planned[fields[0]]; ok {
					if strings.Contains(root, "\n  "+fields[0]+" ") {
						t.Errorf("%s: %q is built now, but the documents call it planned (%s)", name, fields[0], why)
					}
					continue
				}
				t.Errorf("%s: `%s` names no migrate-tui command", name, strings.TrimSpace(m[0]))
				continue
			}
			h, _ := help(path)
			for _, f := range fields[len(path):] {
				if !strings.HasPrefix(f, "--") {
					continue
				}
				flag, _, _ := strings.Cut(f, "=")
				if !strings.Contains(h, flag+" ") && !strings.Contains(h, flag+"\n") {
					t.Errorf("%s: `%s`: migrate-tui %s has no flag %s", name, strings.TrimSpace(m[0]), strings.Join(path, " "), flag)
				}
			}
		}
	}
	if seen < 30 {
		t.Errorf("the documents show only %d command lines; the pattern must have stopped matching", seen)
	}
}
