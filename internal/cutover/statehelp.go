package cutover

import (
	"sort"

	"migrate-tui/internal/state"
)

func sortedKeysCut(m map[string]state.Cutover) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// lookup finds a service's cutover record; a nil state has none.
func lookup(st *state.State, service string) (state.Cutover, bool) {
	if st == nil {
		return state.Cutover{}, false
	}
	c, ok := st.Cutovers[service]
	return c, ok
}
