package decide

import (
	"encoding/json"
	"fmt"
	"os"

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
		return nil, fmt.Errorf("answers file %s is neither YAML nor JSON: %v", path, err)
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
