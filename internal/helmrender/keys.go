package helmrender

import (
	"regexp"
	"sort"
	"strings"

	"helm.sh/helm/v3/pkg/chart"
)

// Most charts' values.schema.json (Cilium's and ESO's among them) do not set
// additionalProperties: false, so Helm accepts a misspelt key and silently
// ignores it. UnknownKeys closes that gap: a key is known when the chart's
// values.yaml has it or a template reads it (.Values.a.b); below a key whose
// default is an empty map or that only templates read (extraArgs,
// podAnnotations, resources...) anything goes.

var valuesRef = regexp.MustCompile(`\.Values((?:\.[A-Za-z_][A-Za-z0-9_]*)+)`)

// knownKeys returns the dotted key paths a chart defines or reads.
func knownKeys(ch *chart.Chart) map[string]bool {
	known := map[string]bool{}
	var walk func(prefix string, m map[string]any)
	walk = func(prefix string, m map[string]any) {
		for k, v := range m {
			p := join(prefix, k)
			known[p] = true
			if sub, ok := v.(map[string]any); ok {
				walk(p, sub)
			}
		}
	}
	walk("", ch.Values)
	for _, t := range ch.Templates {
		for _, m := range valuesRef.FindAllStringSubmatch(string(t.Data), -1) {
			parts := strings.Split(strings.TrimPrefix(m[1], "."), ".")
			for i := range parts {
				known[strings.Join(parts[:i+1], ".")] = true
			}
		}
	}
	return known
}

// UnknownKeys lists the key paths of values the chart neither defines nor
// reads, sorted. Keys named after a dependency (or its alias) and "global"
// belong to subcharts and are not checked.
func UnknownKeys(ch *chart.Chart, values map[string]any) []string {
	known := knownKeys(ch)
	skip := map[string]bool{"global": true}
	for _, d := range ch.Metadata.Dependencies {
		skip[d.Name] = true
		if d.Alias != "" {
			skip[d.Alias] = true
		}
	}
	var out []string
	var walk func(prefix string, user map[string]any, defaults any)
	walk = func(prefix string, user map[string]any, defaults any) {
		defMap, _ := defaults.(map[string]any)
		for k, v := range user {
			p := join(prefix, k)
			if prefix == "" && skip[k] {
				continue
			}
			if !known[p] {
				out = append(out, p)
				continue
			}
			sub, ok := v.(map[string]any)
			if !ok {
				continue
			}
			// Free-form below an empty or template-only default.
			if d, ok := defMap[k].(map[string]any); ok && len(d) > 0 {
				walk(p, sub, d)
			}
		}
	}
	walk("", values, ch.Values)
	sort.Strings(out)
	return out
}

func join(prefix, k string) string {
	if prefix == "" {
		return k
	}
	return prefix + "." + k
}
