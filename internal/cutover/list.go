package cutover

import (
	"context"
	"fmt"
	"path/filepath"
	"sort"
	"time"

	"migrate-tui/internal/nomadwatch"
	"migrate-tui/internal/scaffold"
	"migrate-tui/internal/state"
)

// Entry is one service in the cutover list.
type Entry struct {
	Service   string `json:"service"`
	NomadJob  string `json:"nomad_job"`
	Namespace string `json:"nomad_namespace"`
	// NomadStatus is the job's status in Nomad ("" when Nomad has no job
	// of that ID, e.g. a recorded cutover of a purged job).
	NomadStatus string     `json:"nomad_status,omitempty"`
	Phase       string     `json:"phase"`
	State       State      `json:"state"`
	Next        string     `json:"next"`
	StoppedAt   *time.Time `json:"stopped_at,omitempty"`
	Routing     bool       `json:"routing_confirmed"`
	Error       string     `json:"error,omitempty"`
}

// ListNomad lists every Nomad job (periodic and parameterized children
// left out: they are runs of their parent) with its cutover state, then
// any recorded cutover whose job Nomad no longer lists. A job's service is
// the recorded one, else the job's ID. With repo, a service on Nomad whose
// module exists is told to move, not to scaffold.
func ListNomad(ctx context.Context, n nomadwatch.Nomad, st *state.State, repo string) ([]Entry, error) {
	jobs, err := n.Jobs(ctx)
	if err != nil {
		return nil, fmt.Errorf("listing the Nomad jobs at %s: %w; check NOMAD_ADDR (or --nomad-addr) and NOMAD_TOKEN", n.Address(), err)
	}
	byJob := map[string]state.Cutover{}
	if st != nil {
		for _, c := range st.Cutovers {
			byJob[nsOr(c.Namespace)+"/"+c.NomadJob] = c
		}
	}
	var generated []string
	var genErr error
	if repo != "" {
		generated, genErr = scaffold.GeneratedServices(filepath.Join(repo, scaffold.GeneratedRoot))
	}
	var out []Entry
	seen := map[string]bool{}
	for _, j := range jobs {
		if j.ParentID != "" {
			continue
		}
		key := nsOr(j.Namespace) + "/" + j.ID
		c, ok := byJob[key]
		svc := j.ID
		if ok {
			svc = c.Service
		}
		seen[svc] = true
		e := entry(svc, c, ok)
		e.NomadJob, e.Namespace, e.NomadStatus = j.ID, nsOr(j.Namespace), j.Status
		if j.Stop {
			e.NomadStatus += " (stopped)"
		}
		e.Next = NextAction(e.State, svc, j.ID)
		if e.State == OnNomadOnly && repo != "" {
			// A service whose module exists (the PoC's hand-written ones, or
			// one scaffolded already) needs no scaffold: say so.
			if mc := moduleCheckWith(repo, svc, generated, genErr); mc.Status == Pass {
				e.Next = fmt.Sprintf("move it: cutover %s (its module: %s)", svc, mc.Found)
			}
		}
		out = append(out, e)
	}
	if st != nil {
		for _, svc := range sortedKeysCut(st.Cutovers) {
			if !seen[svc] {
				out = append(out, entry(svc, st.Cutovers[svc], true))
			}
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Service < out[j].Service })
	return out, nil
}

func entry(svc string, c state.Cutover, ok bool) Entry {
	e := Entry{Service: svc, NomadJob: svc, Namespace: "default", Phase: state.CutoverOnNomad, State: StateOf(c, ok)}
	if ok {
		e.NomadJob, e.Namespace, e.Phase, e.StoppedAt, e.Routing, e.Error = c.NomadJob, nsOr(c.Namespace), c.Phase, c.StoppedAt, c.RoutingConfirmedAt != nil, c.Error
	}
	e.Next = NextAction(e.State, svc, e.NomadJob)
	return e
}

func nsOr(ns string) string {
	if ns == "" {
		return "default"
	}
	return ns
}
