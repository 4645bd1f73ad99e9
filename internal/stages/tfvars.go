package stages

import (
	"fmt"

	"github.com/zclconf/go-cty/cty"

	"migrate-tui/internal/tfvars"
)

// EnabledStagesKey is the variables.tf key listing the applied stages.
const EnabledStagesKey = "enabled_stages"

// TfvarsFile reads and writes enabled_stages in terraform.tfvars through
// internal/tfvars, leaving every other line as it is.
type TfvarsFile struct{ Path string }

// EnabledStages reads enabled_stages (empty when the file or key is absent).
func (f TfvarsFile) EnabledStages() ([]string, error) {
	vals, _, err := tfvars.Read(f.Path)
	if err != nil {
		return nil, err
	}
	v, ok := vals[EnabledStagesKey]
	if !ok || v.IsNull() {
		return nil, nil
	}
	if !v.CanIterateElements() {
		return nil, fmt.Errorf("%s in %s is not a list", EnabledStagesKey, f.Path)
	}
	var out []string
	for it := v.ElementIterator(); it.Next(); {
		_, e := it.Element()
		if e.IsNull() || e.Type() != cty.String {
			return nil, fmt.Errorf("%s in %s holds something other than stage names", EnabledStagesKey, f.Path)
		}
		out = append(out, e.AsString())
	}
	return out, nil
}

// SetEnabledStages writes enabled_stages.
func (f TfvarsFile) SetEnabledStages(stages []string) error {
	list := cty.ListValEmpty(cty.String)
	if len(stages) > 0 {
		var vs []cty.Value
		for _, s := range stages {
			vs = append(vs, cty.StringVal(s))
		}
		list = cty.ListVal(vs)
	}
	return tfvars.Update(f.Path, map[string]cty.Value{EnabledStagesKey: list}, []string{EnabledStagesKey})
}
