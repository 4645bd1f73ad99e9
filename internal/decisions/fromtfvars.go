package decisions

import (
	"errors"
	"fmt"

	"migrate-tui/internal/tfvars"
)

// AnswersFromTfvars reads terraform.tfvars at path over the catalogue's
// defaults. Keys that are not decisions are ignored; a value of the wrong
// type is an error naming the key and the file, and the default stays.
func AnswersFromTfvars(path string) (Answers, error) {
	vals, _, err := tfvars.Read(path)
	if err != nil {
		return nil, err
	}
	ans := Defaults()
	var errs []error
	for k, v := range vals {
		dec := Get(k)
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
	return ans, errors.Join(errs...)
}
