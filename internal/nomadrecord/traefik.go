package nomadrecord

import (
	"sort"
	"strings"
)

// ExternalTraefikNodes lists the nodes of the baseline running a Nomad job named traefik.
func (b Baseline) ExternalTraefikNodes() []string {
	seen := map[string]bool{}
	for _, j := range b.Jobs {
		if !strings.Contains(strings.ToLower(j.ID), "traefik") || j.Stopped {
			continue
		}
		for _, a := range j.Allocs {
			if a.ClientStatus == "running" && a.Node != "" {
				seen[strings.ToLower(a.Node)] = true
			}
		}
	}
	out := make([]string, 0, len(seen))
	for n := range seen {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}
