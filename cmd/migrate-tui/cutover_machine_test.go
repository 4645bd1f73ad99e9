package main

import (
	"os"
	"slices"
	"testing"

	"migrate-tui/internal/checks"
	"migrate-tui/internal/cutover"
	"migrate-tui/internal/decisions"
)

// The one wiring point picks the router and the checks from the settings:
// the printed route without traefik_route_dir; with it, the file route at
// this machine or at the node over SSH (the nodes entry's address, the
// cutover's SSH flags), and after-switch before the stop.
func TestMachineWiringFollowsTheRouteSettings(t *testing.T) {
	host, err := os.Hostname()
	if err != nil {
		t.Fatal(err)
	}
	dec := checks.DefaultDecisions() // nodes hestia, heracles, nyx with their LAN addresses
	for _, tc := range []struct {
		name, dir, node string
		wantRouter      bool
		wantNode        string // "" is this machine
		wantAddr        string
	}{
		{"no route dir: the printed change", "", "hestia", false, "", ""},
		{"on hestia over SSH at its nodes address", "/srv/traefik/dynamic", "hestia", true, "hestia", "192.168.1.5"},
		{"a node outside nodes by its name", "/srv/traefik/dynamic", "gateway.lan", true, "gateway.lan", "gateway.lan"},
		{"empty node: this machine", "/srv/traefik/dynamic", "", true, "", ""},
		{"localhost", "/srv/traefik/dynamic", "localhost", true, "", ""},
		{"this host's name", "/srv/traefik/dynamic", host, true, "", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := dec
			d.TraefikRouteDir, d.TraefikRouteNode, d.TraefikWebsecure = tc.dir, tc.node, "192.168.1.5:443"
			md := &machineDeps{repo: t.TempDir(), dec: d, ans: decisions.Defaults(), deps: &checks.Deps{Decisions: d},
				f: machineFlags{SSHUser: "ops", KnownHosts: []string{"/k/known_hosts"}, CAFile: "/etc/ca.pem"}}
			m := md.machine(cutover.Target{Service: "whoami"}, "", cutover.Prompts{})
			if len(m.Checks[cutover.Verified]) != 4 {
				t.Errorf("%d checks entering verified, want parity, data, data-volumes, secrets", len(m.Checks[cutover.Verified]))
			}
			if !tc.wantRouter {
				if m.Router != nil || m.Checks[cutover.NomadStopped] != nil {
					t.Fatalf("without traefik_route_dir: router %T, %d after-switch checks", m.Router, len(m.Checks[cutover.NomadStopped]))
				}
				return
			}
			if _, ok := m.Router.(cutover.SwitchRouter); !ok || len(m.Checks[cutover.NomadStopped]) != 1 {
				t.Fatalf("with traefik_route_dir: router %T, %d after-switch checks", m.Router, len(m.Checks[cutover.NomadStopped]))
			}
			r, loc := md.route("whoami")
			if loc.Path != tc.dir || loc.Node != tc.wantNode || (tc.wantNode != "" && loc.Address != tc.wantAddr) {
				t.Errorf("location %+v, want node %q at %q", loc, tc.wantNode, tc.wantAddr)
			}
			if tc.wantNode != "" && (loc.Auth.User != "ops" || !slices.Equal(loc.Auth.KnownHosts, []string{"/k/known_hosts"})) {
				t.Errorf("SSH auth %+v does not carry the cutover's flags", loc.Auth)
			}
			// The CA file is a path here: only a Traefik on this machine reads it.
			if local := tc.wantNode == ""; local != slices.Equal(r.BackendRootCAs, []string{"/etc/ca.pem"}) {
				t.Errorf("backend CAs %v for node %q", r.BackendRootCAs, tc.wantNode)
			}
			if r.Host != "whoami.brmartin.co.uk" || len(r.Backends) != 3 || r.Backends[0] != "192.168.1.5:32443" {
				t.Errorf("route %+v", r)
			}
		})
	}
}
