package specdocs

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclparse"
	"github.com/zclconf/go-cty/cty"
)

// Variable is one `variable` block as written in a .tf file.
type Variable struct {
	Name        string
	Type        string // the type expression's source, one line
	Default     string // the default expression's source, one line; "" when required
	HasDefault  bool
	Description string
}

// Module is the variables and outputs of one Terraform module directory.
type Module struct {
	Dir       string
	Variables []Variable
	Outputs   []string
	Files     []string // the .tf files and top-level directories
}

var tfSchema = &hcl.BodySchema{Blocks: []hcl.BlockHeaderSchema{
	{Type: "variable", LabelNames: []string{"name"}},
	{Type: "output", LabelNames: []string{"name"}},
}}

var varSchema = &hcl.BodySchema{Attributes: []hcl.AttributeSchema{
	{Name: "type"}, {Name: "default"}, {Name: "description"},
}}

// ReadModule reads every .tf file of dir (not its subdirectories).
func ReadModule(dir string) (*Module, error) {
	m := &Module{Dir: dir}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	p := hclparse.NewParser()
	for _, e := range entries {
		if e.IsDir() {
			if !strings.HasPrefix(e.Name(), ".") {
				m.Files = append(m.Files, e.Name()+"/")
			}
			continue
		}
		if !strings.HasSuffix(e.Name(), ".tf") {
			continue
		}
		m.Files = append(m.Files, e.Name())
		path := filepath.Join(dir, e.Name())
		src, err := os.ReadFile(path)
		if err != nil {
			return nil, err
		}
		f, diags := p.ParseHCL(src, path)
		if diags.HasErrors() {
			return nil, fmt.Errorf("%s: %s", path, diags.Error())
		}
		content, _, diags := f.Body.PartialContent(tfSchema)
		if diags.HasErrors() {
			return nil, fmt.Errorf("%s: %s", path, diags.Error())
		}
		for _, b := range content.Blocks {
			if b.Type == "output" {
				m.Outputs = append(m.Outputs, b.Labels[0])
				continue
			}
			v, err := readVariable(src, b)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", path, err)
			}
			m.Variables = append(m.Variables, v)
		}
	}
	sort.Strings(m.Outputs)
	return m, nil
}

func readVariable(src []byte, b *hcl.Block) (Variable, error) {
	v := Variable{Name: b.Labels[0]}
	attrs, _, diags := b.Body.PartialContent(varSchema)
	if diags.HasErrors() {
		return v, fmt.Errorf("variable %s: %s", v.Name, diags.Error())
	}
	for _, a := range attrs.Attributes {
		text := oneLine(string(a.Expr.Range().SliceBytes(src)))
		switch a.Name {
		case "type":
			v.Type = text
		case "default":
			v.Default, v.HasDefault = text, true
		case "description":
			val, d := a.Expr.Value(nil)
			if d.HasErrors() || !val.IsKnown() || val.Type() != cty.String {
				return v, fmt.Errorf("variable %s: description is not a plain string", v.Name)
			}
			v.Description = val.AsString()
		}
	}
	return v, nil
}

// oneLine collapses an expression's source onto one line.
func oneLine(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	s = strings.ReplaceAll(s, "[ ", "[")
	s = strings.ReplaceAll(s, "{ ", "{")
	s = strings.ReplaceAll(s, ", ]", "]")
	s = strings.ReplaceAll(s, ", }", "}")
	s = strings.ReplaceAll(s, " }", "}")
	s = strings.ReplaceAll(s, " ]", "]")
	return s
}

// VariableNames returns the names of m's variables, sorted.
func (m *Module) VariableNames() []string {
	out := make([]string, 0, len(m.Variables))
	for _, v := range m.Variables {
		out = append(out, v.Name)
	}
	sort.Strings(out)
	return out
}
