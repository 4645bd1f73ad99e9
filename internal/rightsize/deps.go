package rightsize

import (
	"context"
	"fmt"
	"sort"

	"migrate-tui/internal/checks"
	"migrate-tui/internal/state"
)

// depsVPA reads VPA targets through the checks' dependencies, the same
// cluster connection and namespace `check` uses.
type depsVPA struct{ d *checks.Deps }

func (v depsVPA) Targets(ctx context.Context, services []string) ([]checks.ServiceVPA, error) {
	return checks.VPATargets(ctx, v.d, services)
}

// FromDeps right-sizes with the checks' dependencies: their cluster, their
// Nomad (nil: every service is skipped with the reason, unless its cutover
// saved the job; o.CoreMHz 0: read from Nomad's nodes, SlowestCoreMHz) and,
// when services is empty, every PoC service, every service a cutover moved
// and every workload a VPA in the PoC namespace targets.
func FromDeps(ctx context.Context, d *checks.Deps, st *state.State, services []string, o Options) (Report, error) {
	if o.OnKubernetes == nil {
		o.OnKubernetes = OnKubernetes(st)
	}
	if len(services) == 0 {
		more, err := checks.VPAServices(ctx, d)
		if err != nil {
			return Report{}, fmt.Errorf("reading the VPA targets: %w", err)
		}
		services = Services(d.Decisions.PoCServices, st, more)
	}
	var n Nomad
	if d.Nomad != nil {
		n = d.Nomad
	}
	if st != nil && len(st.Cutovers) > 0 && (n != nil || o.CoreMHz > 0) {
		n = withCutovers{n: n, cutovers: st.Cutovers}
	}
	if nw, ok := d.Nomad.(checks.NomadWatch); ok && o.CoreMHz == 0 && nw.N != nil {
		mhz, src, err := CoreMHzFromNomad(ctx, nw.N)
		if err != nil {
			return Report{}, err
		}
		o.CoreMHz, o.CoreMHzSource = mhz, src
	}
	return Compute(ctx, depsVPA{d}, n, services, o)
}

// OnKubernetes names the services whose Nomad job a cutover stopped (and
// did not roll back).
func OnKubernetes(st *state.State) map[string]bool {
	out := map[string]bool{}
	if st == nil {
		return out
	}
	for svc, c := range st.Cutovers {
		if c.Phase == state.CutoverOnKubernetes || c.Phase == state.CutoverStopping {
			out[svc] = true
		}
	}
	return out
}

// Services is the sorted union of the PoC services, the services with a
// cutover record and the extra names.
func Services(poc []string, st *state.State, extra []string) []string {
	seen := map[string]bool{}
	var out []string
	add := func(s string) {
		if s != "" && !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	for _, s := range poc {
		add(s)
	}
	if st != nil {
		for svc := range st.Cutovers {
			add(svc)
		}
	}
	for _, s := range extra {
		add(s)
	}
	sort.Strings(out)
	return out
}

// ForService right-sizes one service (the cutover check and screen): its
// row of FromDeps, whatever it says (a skip or warn carries the reason).
func ForService(ctx context.Context, d *checks.Deps, st *state.State, service string) (Service, error) {
	r, err := FromDeps(ctx, d, st, []string{service}, Options{})
	if err != nil {
		return Service{Service: service}, err
	}
	if len(r.Services) != 1 {
		return Service{Service: service}, fmt.Errorf("right-sizing %s: %d rows (a bug in migrate-tui)", service, len(r.Services))
	}
	return r.Services[0], nil
}
