package steps

import (
	"os"
	"path/filepath"
	"slices"
	"sort"
	"testing"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"

	"migrate-tui/internal/decisions"
)

// mainTFStageVars reads the repository's main.tf: for each module block
// switched by local.stage.<name>, the root variables its arguments use,
// directly or through locals. A module switched by no stage (cluster_dns)
// is applied with whichever stage runs, so its variables count for all.
func mainTFStageVars(t *testing.T) map[string][]string {
	t.Helper()
	src, err := os.ReadFile(filepath.Join("..", "..", "main.tf"))
	if err != nil {
		t.Fatal(err)
	}
	f, diags := hclsyntax.ParseConfig(src, "main.tf", hcl.InitialPos)
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	body := f.Body.(*hclsyntax.Body)
	locals := map[string]hclsyntax.Expression{}
	for _, b := range body.Blocks {
		if b.Type == "locals" {
			for n, a := range b.Body.Attributes {
				locals[n] = a.Expr
			}
		}
	}
	var refs func(e hclsyntax.Expression, vars map[string]bool, stages map[string]bool, seen map[string]bool)
	refs = func(e hclsyntax.Expression, vars, stages, seen map[string]bool) {
		for _, tr := range e.Variables() {
			switch tr.RootName() {
			case "var":
				if a, ok := tr[1].(hcl.TraverseAttr); ok && a.Name != "enabled_stages" {
					vars[a.Name] = true
				}
			case "local":
				a, ok := tr[1].(hcl.TraverseAttr)
				if !ok {
					continue
				}
				if a.Name == "stage" {
					if len(tr) > 2 {
						if s, ok := tr[2].(hcl.TraverseAttr); ok && stages != nil {
							stages[s.Name] = true
						}
					}
					continue
				}
				if !seen[a.Name] && locals[a.Name] != nil {
					seen[a.Name] = true
					refs(locals[a.Name], vars, nil, seen)
				}
			}
		}
	}
	out := map[string]map[string]bool{}
	var unstaged []string
	for _, b := range body.Blocks {
		if b.Type != "module" {
			continue
		}
		vars, stages := map[string]bool{}, map[string]bool{}
		for name, a := range b.Body.Attributes {
			st := stages
			if name != "count" {
				st = nil // local.stage.X in an argument is a value, not the switch
			}
			refs(a.Expr, vars, st, map[string]bool{})
		}
		if len(stages) == 0 {
			for v := range vars {
				unstaged = append(unstaged, v)
			}
			continue
		}
		for s := range stages {
			if out[s] == nil {
				out[s] = map[string]bool{}
			}
			for v := range vars {
				out[s][v] = true
			}
		}
	}
	res := map[string][]string{}
	for s, vs := range out {
		for _, v := range unstaged {
			vs[v] = true
		}
		for v := range vs {
			res[s] = append(res[s], v)
		}
		sort.Strings(res[s])
	}
	return res
}

// StageKeys covers every variable main.tf gives a stage's modules (the
// list may hold more: a stage's work outside Terraform), and only keys
// variables.tf and the catalogue know.
func TestStageKeysCoverMainTF(t *testing.T) {
	got := mainTFStageVars(t)
	if len(got) == 0 {
		t.Fatal("no stage modules found in main.tf")
	}
	for stage, vars := range got {
		for _, v := range vars {
			if !slices.Contains(StageKeys[stage], v) {
				t.Errorf("main.tf gives stage %s's modules var.%s, missing from StageKeys[%q]", stage, v, stage)
			}
		}
	}
	for stage, keys := range StageKeys {
		found := false
		for _, s := range Stages {
			found = found || s.Name == stage
		}
		if !found {
			t.Errorf("StageKeys names an unknown stage %s", stage)
		}
		for _, k := range keys {
			if decisions.Get(k) == nil {
				t.Errorf("StageKeys[%s] holds %s, which is no decision", stage, k)
			}
		}
	}
	if os.Getenv("PRINT_STAGE_KEYS") != "" {
		t.Logf("%#v", got)
	}
}
