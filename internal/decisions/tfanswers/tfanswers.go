// Package tfanswers reads the decisions back out of terraform.tfvars. It
// sits above both internal/decisions and internal/tfvars, which must not
// import each other (tfvars' tests use the catalogue).
package tfanswers

import (
	"errors"
	"fmt"

	"github.com/zclconf/go-cty/cty"

	"migrate-tui/internal/decisions"
	"migrate-tui/internal/tfvars"
)

// Read returns terraform.tfvars at path over the catalogue's defaults, and
// the file's raw values (for keys that are not decisions, such as
// enabled_stages). A value of the wrong type is an error naming the key and
// the file, and that key keeps its default.
func Read(path string) (decisions.Answers, map[string]cty.Value, error) {
	vals, _, err := tfvars.Read(path)
	if err != nil {
		return nil, nil, err
	}
	ans := decisions.Defaults()
	var errs []error
	for k, v := range vals {
		dec := decisions.Get(k)
		if dec == nil {
			continue
		}
		x, err := dec.FromCty(v)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s in %s: %w", k, path, err))
			continue
		}
		ans[k] = x
	}
	return ans, vals, errors.Join(errs...)
}
