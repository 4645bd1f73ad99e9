package state

import (
	"strings"

	"migrate-tui/internal/decisions"
)

// DecisionContext builds the cross-checks' context from the state: the mesh K3s
// was installed with, where the external Traefik runs (from the baseline:
// the nodes of a job called traefik; Hestia when preflight has not run) and
// each node's free memory.
func (st *State) DecisionContext() decisions.Context {
	c := decisions.DefaultContext()
	if st == nil {
		return c
	}
	c.InstalledMesh = st.InstalledMesh()
	if p := st.Preflight; p != nil {
		if p.Baseline != nil {
			if nodes := p.Baseline.ExternalTraefikNodes(); len(nodes) > 0 {
				c.ExternalTraefikNodes = nodes
			}
		}
		if len(p.Inventory) > 0 {
			c.NodeMemoryMB = map[string]int{}
			for _, n := range p.Inventory {
				c.NodeMemoryMB[strings.ToLower(n.Name)] = int(n.FreeMemoryMB())
			}
		}
	}
	return c
}
