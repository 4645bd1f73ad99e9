package main

import (
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"migrate-tui/internal/checks"
	"migrate-tui/internal/connect"
	"migrate-tui/internal/cutover"
	"migrate-tui/internal/decisions"
	"migrate-tui/internal/decisions/tfanswers"
	"migrate-tui/internal/nomadwatch"
	"migrate-tui/internal/rightsize"
	"migrate-tui/internal/sshinstall"
	"migrate-tui/internal/state"
	"migrate-tui/internal/status"
	"migrate-tui/internal/traefikroute"
)

// machineFlags are the options `cutover` takes and the wizard's screen
// leaves at their defaults.
type machineFlags struct {
	NomadAddr, DialAddr, CAFile, Kubeconfig string
	// NoCluster: a rollback only talks to Nomad and the router.
	NoCluster        bool
	AcceptUnobserved bool
	Wait             time.Duration
	// SSH reaches the external Traefik's route directory on its node
	// (as the cluster stage reaches the nodes: user, keys, known_hosts).
	SSHUser             string
	SSHKeys, KnownHosts []string
	// Parity and Spot are the service's parity request and data spot
	// check (cutover's flags; the screen keeps the defaults).
	Parity cutover.ParitySettings
	Spot   cutover.SpotCommands
}

// machineDeps are the clients every service's cutover machine shares; the
// CLI and the wizard's Cutover screen build their machines here, so both
// take one path.
type machineDeps struct {
	repo  string
	dec   checks.Decisions
	ans   decisions.Answers
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
	ans, _, err := tfanswers.Read(filepath.Join(repo, "terraform.tfvars"))
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return nil, err
	}
	if ans == nil {
		ans = decisions.Defaults()
	}
	return &machineDeps{repo: repo, dec: dec, ans: ans, nomad: nc, deps: d, f: f}, nil
}

// machine is the cutover machine of one service: the one place the CLI
// and the wizard's screen get it from. With traefik_route_dir set, the
// switch writes the external Traefik's file-provider route and proves it
// (and after-switch checks it before the Nomad job stops); without, the
// switch is the printed change, confirmed.
func (md *machineDeps) machine(t cutover.Target, confirmedJob string, p cutover.Prompts) cutover.Machine {
	var backends []string
	for _, n := range md.dec.NodeNames {
		backends = append(backends, n+":"+strconv.Itoa(md.dec.TraefikHTTPSPort))
	}
	gate := cutover.GateInput{Target: t, Nomad: cutover.FromClient(md.nomad), Deps: md.deps,
		AcceptUnobserved: md.f.AcceptUnobserved, ConfirmedJob: confirmedJob,
		RunOptions: checks.RunOptions{Timeout: time.Minute}}
	m := cutover.Machine{Flow: cutover.Flow{
		Repo:    md.repo,
		Gate:    gate,
		Routing: cutover.Routing{Service: t.Service, Host: t.Service + "." + md.dec.Domain, Backends: backends},
		Wait:    md.f.Wait,
		Prompts: p,
	}}
	in := cutover.ChecksInput{Gate: gate, Services: cutover.NomadServicesFrom(md.nomad), Answers: md.ans,
		Ingress: md.deps.TLS.DialAddr, Roots: md.deps.TLS.Roots, Parity: md.f.Parity, Spot: md.f.Spot}
	if md.dec.TraefikRouteDir != "" {
		route, loc := md.route(t.Service)
		m.Router = cutover.SwitchRouter{
			Place: traefikroute.FileName(t.Service) + " in " + where(loc),
			Open: func(ctx context.Context) (cutover.TrafficSwitch, io.Closer, error) {
				dir, c, err := traefikroute.Open(ctx, loc)
				if err != nil {
					return nil, nil, err
				}
				return cutover.RouteSwitch{Dir: dir, Route: route, Entrypoint: md.dec.TraefikWebsecure, Roots: md.deps.TLS.Roots}, c, nil
			},
		}
		in.AfterSwitch = &cutover.AfterSwitchInput{Route: route, Entrypoint: md.dec.TraefikWebsecure, Roots: md.deps.TLS.Roots}
	}
	m.Checks = cutover.TransitionChecks(in)
	return m
}

// route is the service's route and where its file goes: this machine when
// traefik_route_node is empty, localhost or this host's name, else the
// node over SSH (its nodes entry's address, else its name).
func (md *machineDeps) route(service string) (traefikroute.Route, traefikroute.Location) {
	r := cutover.RouteFor(md.ans, service)
	loc := traefikroute.Location{Path: md.dec.TraefikRouteDir}
	if node := md.dec.TraefikRouteNode; !isThisMachine(node) {
		loc.Node, loc.Address = node, node
		for i, n := range md.dec.NodeNames {
			if strings.EqualFold(n, node) && i < len(md.dec.NodeAddrs) && md.dec.NodeAddrs[i] != "" {
				loc.Address = md.dec.NodeAddrs[i]
			}
		}
		user := md.f.SSHUser
		if user == "" {
			user = os.Getenv("USER")
		}
		loc.Auth = sshinstall.Auth{User: user, KeyFiles: md.f.SSHKeys, KnownHosts: md.f.KnownHosts}
	} else if md.f.CAFile != "" {
		// Traefik runs here: it can read the CA the K3s ingress's
		// certificate chains to (a private CA; the ACME wildcard needs none).
		r.BackendRootCAs = []string{md.f.CAFile}
	}
	return r, loc
}

func isThisMachine(node string) bool {
	if node == "" || node == "localhost" {
		return true
	}
	h, err := os.Hostname()
	if err != nil {
		return false
	}
	short, _, _ := strings.Cut(h, ".")
	return strings.EqualFold(node, h) || strings.EqualFold(node, short)
}

func where(l traefikroute.Location) string {
	if l.Node == "" {
		return l.Path + " (this machine)"
	}
	return l.Path + " on " + l.Node
}

// rightsize is the service's VPA target beside its Nomad job's resources
// (rightsize.ForService), for `cutover --check` and the screen. What could
// not be read is a skip with the reason, never a figure.
func (md *machineDeps) rightsize(ctx context.Context, service string) rightsize.Service {
	st, err := state.Load(md.repo)
	if err != nil {
		return rightsize.Service{Service: service, Where: "nomad", Status: status.Skip, Evidence: "the state file could not be read: " + err.Error()}
	}
	if md.deps.Kube == nil {
		return rightsize.Service{Service: service, Where: "nomad", Status: status.Skip, Evidence: "no cluster connection (a rollback reads none)"}
	}
	d := *md.deps
	d.Nomad = checks.NomadWatch{N: md.nomad}
	s, err := rightsize.ForService(ctx, &d, st, service)
	if err != nil {
		s.Status, s.Evidence = status.Skip, "right-sizing not read: "+err.Error()
		if s.Where == "" {
			s.Where = "nomad"
			if rightsize.OnKubernetes(st)[service] {
				s.Where = "kubernetes"
			}
		}
	}
	return s
}
