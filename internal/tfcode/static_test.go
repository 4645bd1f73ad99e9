package tfcode

import (
	"context"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclparse"
)

// moduleDirs lists the root and every module (a directory with versions.tf),
// relative to the repository.
func moduleDirs(t testing.TB) []string {
	t.Helper()
	root := repoRoot(t)
	dirs := []string{"."}
	for _, top := range []string{"k8s", "modules-k8s"} {
		err := filepath.WalkDir(filepath.Join(root, top), func(path string, d os.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if !d.IsDir() && d.Name() == "versions.tf" {
				rel, _ := filepath.Rel(root, filepath.Dir(path))
				dirs = append(dirs, rel)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	slices.Sort(dirs)
	return dirs
}

type variable struct {
	name                          string
	hasDescription, hasValidation bool
	isBool                        bool
}

func readVariables(t testing.TB, dir string) []variable {
	t.Helper()
	var vars []variable
	files, _ := filepath.Glob(filepath.Join(dir, "*.tf"))
	for _, f := range files {
		src, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		file, diags := hclparse.NewParser().ParseHCL(src, f)
		if diags.HasErrors() {
			t.Fatalf("%s: %s", f, diags.Error())
		}
		content, _, diags := file.Body.PartialContent(&hcl.BodySchema{Blocks: []hcl.BlockHeaderSchema{{Type: "variable", LabelNames: []string{"name"}}}})
		if diags.HasErrors() {
			t.Fatalf("%s: %s", f, diags.Error())
		}
		for _, b := range content.Blocks {
			inner, _, _ := b.Body.PartialContent(&hcl.BodySchema{
				Attributes: []hcl.AttributeSchema{{Name: "description"}, {Name: "type"}},
				Blocks:     []hcl.BlockHeaderSchema{{Type: "validation"}},
			})
			v := variable{name: b.Labels[0]}
			_, v.hasDescription = inner.Attributes["description"]
			v.hasValidation = len(inner.Blocks) > 0
			if ty, ok := inner.Attributes["type"]; ok {
				v.isBool = strings.TrimSpace(string(ty.Expr.Range().SliceBytes(src))) == "bool"
			}
			vars = append(vars, v)
		}
	}
	return vars
}

// TestVariablesContract: every variable the wizard writes (variables.tf) is
// described, validated, used by the root configuration and documented in
// terraform.tfvars.example; module variables are described and validated.
func TestVariablesContract(t *testing.T) {
	root := repoRoot(t)
	vars := readVariables(t, root)
	if len(vars) < 30 {
		t.Fatalf("read %d variables from variables.tf; expected the whole contract", len(vars))
	}
	var rootCode strings.Builder
	for _, f := range []string{"main.tf", "outputs.tf", "versions.tf"} {
		b, err := os.ReadFile(filepath.Join(root, f))
		if err != nil {
			t.Fatal(err)
		}
		rootCode.Write(b)
	}
	example, err := os.ReadFile(filepath.Join(root, "terraform.tfvars.example"))
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range vars {
		if !v.hasDescription || !v.hasValidation {
			t.Errorf("variables.tf: %s needs a description and a validation block", v.name)
		}
		if !regexp.MustCompile(`\bvar\.` + regexp.QuoteMeta(v.name) + `\b`).MatchString(rootCode.String()) {
			t.Errorf("variables.tf: %s is never used by main.tf, outputs.tf or versions.tf", v.name)
		}
		if !regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(v.name) + `\s*=`).Match(example) {
			t.Errorf("terraform.tfvars.example does not document %s", v.name)
		}
	}
	for _, dir := range moduleDirs(t) {
		if dir == "." {
			continue
		}
		for _, v := range readVariables(t, filepath.Join(root, dir)) {
			if !v.hasDescription || (!v.hasValidation && !v.isBool) {
				t.Errorf("%s: variable %s needs a description and a validation block", dir, v.name)
			}
		}
	}
}

// TestFormat runs tofu fmt -check on the whole configuration.
func TestFormat(t *testing.T) {
	dir := copyConfig(t)
	// tofu fmt only reads *.tfvars: check the example under that name.
	example, err := os.ReadFile(filepath.Join(dir, "terraform.tfvars.example"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "terraform.tfvars.example.tfvars"), example, 0o644); err != nil {
		t.Fatal(err)
	}
	tf := newTofu(t, dir)
	code, out, err := tf.run(context.Background(), "fmt", "-check", "-recursive", "-diff", "-no-color")
	if err != nil {
		t.Fatal(err)
	}
	if code != 0 {
		t.Fatalf("tofu fmt -check -recursive found unformatted files (run tofu fmt -recursive):\n%s", out)
	}
}

// TestValidate runs tofu init and validate on the root and every module.
func TestValidate(t *testing.T) {
	dir := copyConfig(t)
	ctx := context.Background()
	for _, m := range moduleDirs(t) {
		t.Run(m, func(t *testing.T) {
			tf := newTofu(t, filepath.Join(dir, m))
			tf.must(t, ctx, "init", "-backend=false", "-input=false", "-no-color")
			tf.must(t, ctx, "validate", "-no-color")
		})
	}
}
