package main

import (
	"context"
	"strconv"
	"time"

	"migrate-tui/internal/checks"
	"migrate-tui/internal/connect"
	"migrate-tui/internal/cutover"
	"migrate-tui/internal/nomadwatch"
	"migrate-tui/internal/state"
)

// machineFlags are the options `cutover` takes and the wizard's screen
// leaves at their defaults.
type machineFlags struct {
	NomadAddr, DialAddr, CAFile, Kubeconfig string
	// NoCluster: a rollback only talks to Nomad and the router.
	NoCluster        bool
	AcceptUnobserved bool
	Wait             time.Duration
}

// machineDeps are the clients every service's cutover machine shares; the
// CLI and the wizard's Cutover screen build their machines here, so both
// take one path.
type machineDeps struct {
	repo  string
	dec   checks.Decisions
	nomad *nomadwatch.Client
	deps  *checks.Deps
	f     machineFlags
}

func newMachineDeps(ctx context.Context, repo string, dec checks.Decisions, f machineFlags) (*machineDeps, error) {
	st, err := state.Load(repo)
	if err != nil {
		return nil, err
	}
	nc, err := connect.Nomad(f.NomadAddr, st)
	if err != nil {
		return nil, err
	}
	// The same dependencies as check's (checks.ForRepo); a rollback needs no cluster.
	d, _, err := checks.ForRepo(ctx, repo, checks.RepoOptions{Kubeconfig: f.Kubeconfig, NomadAddr: f.NomadAddr,
		CAFile: f.CAFile, DialAddr: f.DialAddr, Timeout: time.Minute, NoCluster: f.NoCluster})
	if err != nil {
		return nil, err
	}
	d.Decisions = dec
	if f.Wait <= 0 {
		f.Wait = 5 * time.Minute
	}
	return &machineDeps{repo: repo, dec: dec, nomad: nc, deps: d, f: f}, nil
}

// machine is the cutover machine of one service. The traffic switch and
// the transition checks of other packages plug in here (Router, Checks);
// until then the switch is the printed change, confirmed.
func (md *machineDeps) machine(t cutover.Target, confirmedJob string, p cutover.Prompts) cutover.Machine {
	var backends []string
	for _, n := range md.dec.NodeNames {
		backends = append(backends, n+":"+strconv.Itoa(md.dec.TraefikHTTPSPort))
	}
	return cutover.Machine{Flow: cutover.Flow{
		Repo: md.repo,
		Gate: cutover.GateInput{Target: t, Nomad: cutover.FromClient(md.nomad), Deps: md.deps,
			AcceptUnobserved: md.f.AcceptUnobserved, ConfirmedJob: confirmedJob,
			RunOptions: checks.RunOptions{Timeout: time.Minute}},
		Routing: cutover.Routing{Service: t.Service, Host: t.Service + "." + md.dec.Domain, Backends: backends},
		Wait:    md.f.Wait,
		Prompts: p,
	}}
}
