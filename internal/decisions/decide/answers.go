package decide

import (
	"encoding/json"
	"fmt"
	"os"
	"strings"

	"sigs.k8s.io/yaml"

	"migrate-tui/internal/decisions"
)

// ReadAnswers reads a YAML or JSON file of KEY: VALUE (`decide --answers`).
// Every value is checked by its decision (URLs, names, types); an unknown
// key or a bad value is an error naming the file.
func ReadAnswers(path string) (decisions.Answers, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading answers: %w", err)
	}
	js, err := yaml.YAMLToJSON(data)
	if err != nil {
		return nil, fmt.Errorf("answers file %s is neither YAML nor JSON: %s", path, withoutValues(err))
	}
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(js, &raw); err != nil {
		return nil, fmt.Errorf("answers file %s must be a mapping of KEY: VALUE: %v", path, err)
	}
	out := decisions.Answers{}
	for k, r := range raw {
		d := decisions.Get(k)
		if d == nil {
			return nil, fmt.Errorf("answers file %s: %w", path, decisions.UnknownKeyError(k))
		}
		v, err := d.Decode(r)
		if err != nil {
			return nil, fmt.Errorf("answers file %s: %w", path, err)
		}
		out[k] = v
	}
	return out, nil
}

// withoutValues drops what a YAML conversion error quotes of the file: the
// converter's "unsupported map key of type: T, key: K, value: V" would echo
// a value (a URL with a password, a token) into the terminal and the logs.
func withoutValues(err error) string {
	msg := err.Error()
	if i := strings.Index(msg, ", key:"); i >= 0 {
		return msg[:i] + " (the offending key and value are not repeated here)"
	}
	return msg
}
