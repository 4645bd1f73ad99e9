package sshinstall

import (
	"context"
	"strings"
	"testing"

	"migrate-tui/internal/k3sconfig"
)

// hostNetworking is what a node running both Nomad (bridge networking through
// the CNI plugins) and K3s with Cilium has: Nomad's bridge, veth, allocation
// namespace, IPAM and CNI- rules beside K3s's flannel bridge (network cbr0),
// containerd's cni-* namespace, Cilium's interfaces, files and chains.
// Rule shapes follow the CNI bridge and portmap plugins (comment
// `name: "<network>" id: "<container>"`) that both use.
const hostNetworking = `set -e
ip link add nomad type bridge
ip link add veth-alloc type veth peer name veth-alloc-p
ip link set veth-alloc master nomad
ip netns add 5f1c2d3e-0000-4a5b-9c8d-alloc
mkdir -p /var/lib/cni/networks/nomad /var/lib/cni/networks/cbr0 /var/lib/cni/results /opt/cni/bin /etc/cni/net.d
echo 5f1c > /var/lib/cni/networks/nomad/172.26.64.5
touch /var/lib/cni/results/nomad-5f1c-eth0 /opt/cni/bin/bridge /opt/cni/bin/portmap /etc/cni/net.d/10-other.conflist
ip link add cni0 type bridge
ip link add vethk3s type veth peer name vethk3s-p
ip link set vethk3s master cni0
for i in flannel.1 cilium_host cilium_vxlan lxc_health lxc0a1b2c3d4e5f; do ip link add $i type bridge; done
ip netns add cni-1b2c3d4e-0000-0000-0000-000000000001
echo abc > /var/lib/cni/networks/cbr0/10.42.0.5
touch /var/lib/cni/results/cbr0-abc-eth0 /opt/cni/bin/cilium-cni /etc/cni/net.d/05-cilium.conflist
iptables-restore <<'RULES'
*nat
:PREROUTING ACCEPT [0:0]
:INPUT ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
:POSTROUTING ACCEPT [0:0]
:CNI-HOSTPORT-DNAT - [0:0]
:CNI-HOSTPORT-MASQ - [0:0]
:CNI-HOSTPORT-SETMARK - [0:0]
:CNI-1f2e3d4c5b6a79880a1b2c3d - [0:0]
:CNI-DN-1f2e3d4c5b6a79880a1b2 - [0:0]
:CNI-9a8b7c6d5e4f30211a2b3c4d - [0:0]
:CNI-DN-9a8b7c6d5e4f30211a2b3 - [0:0]
:KUBE-SERVICES - [0:0]
:KUBE-POSTROUTING - [0:0]
:FLANNEL-POSTRTG - [0:0]
:CILIUM_PRE_nat - [0:0]
:CILIUM_POST_nat - [0:0]
-A PREROUTING -m addrtype --dst-type LOCAL -j CNI-HOSTPORT-DNAT
-A PREROUTING -m comment --comment "kubernetes service portals" -j KUBE-SERVICES
-A PREROUTING -m comment --comment "cilium-feeder: CILIUM_PRE_nat" -j CILIUM_PRE_nat
-A OUTPUT -m addrtype --dst-type LOCAL -j CNI-HOSTPORT-DNAT
-A POSTROUTING -m comment --comment "CNI portfwd requiring masquerade" -j CNI-HOSTPORT-MASQ
-A POSTROUTING -s 172.26.64.5/32 -m comment --comment "name: \"nomad\" id: \"5f1c\"" -j CNI-1f2e3d4c5b6a79880a1b2c3d
-A POSTROUTING -s 10.42.0.5/32 -m comment --comment "name: \"cbr0\" id: \"abc\"" -j CNI-9a8b7c6d5e4f30211a2b3c4d
-A POSTROUTING -m comment --comment "flanneld masq" -j FLANNEL-POSTRTG
-A POSTROUTING -m comment --comment "cilium-feeder: CILIUM_POST_nat" -j CILIUM_POST_nat
-A POSTROUTING -m comment --comment "kubernetes postrouting rules" -j KUBE-POSTROUTING
-A CNI-1f2e3d4c5b6a79880a1b2c3d -d 172.26.64.0/20 -m comment --comment "name: \"nomad\" id: \"5f1c\"" -j ACCEPT
-A CNI-1f2e3d4c5b6a79880a1b2c3d ! -d 224.0.0.0/4 -m comment --comment "name: \"nomad\" id: \"5f1c\"" -j MASQUERADE
-A CNI-9a8b7c6d5e4f30211a2b3c4d -d 10.42.0.0/24 -m comment --comment "name: \"cbr0\" id: \"abc\"" -j ACCEPT
-A CNI-9a8b7c6d5e4f30211a2b3c4d ! -d 224.0.0.0/4 -m comment --comment "name: \"cbr0\" id: \"abc\"" -j MASQUERADE
-A CNI-HOSTPORT-DNAT -p tcp -m comment --comment "dnat name: \"nomad\" id: \"5f1c\"" -m multiport --dports 8080 -j CNI-DN-1f2e3d4c5b6a79880a1b2
-A CNI-HOSTPORT-DNAT -p tcp -m comment --comment "dnat name: \"cbr0\" id: \"abc\"" -m multiport --dports 8443 -j CNI-DN-9a8b7c6d5e4f30211a2b3
-A CNI-DN-1f2e3d4c5b6a79880a1b2 -p tcp -m tcp --dport 8080 -j DNAT --to-destination 172.26.64.5:8080
-A CNI-DN-9a8b7c6d5e4f30211a2b3 -p tcp -m tcp --dport 8443 -j DNAT --to-destination 10.42.0.5:443
-A CNI-HOSTPORT-MASQ -m mark --mark 0x2000/0x2000 -j MASQUERADE
-A CNI-HOSTPORT-SETMARK -m comment --comment "CNI portfwd masquerade mark" -j MARK --set-xmark 0x2000/0x2000
-A FLANNEL-POSTRTG -s 10.42.0.0/16 -d 10.42.0.0/16 -j RETURN
-A KUBE-POSTROUTING -m mark ! --mark 0x4000/0x4000 -j RETURN
-A CILIUM_POST_nat -s 10.42.0.0/16 ! -d 10.42.0.0/16 -j MASQUERADE
COMMIT
*filter
:INPUT ACCEPT [0:0]
:FORWARD ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
:CNI-FORWARD - [0:0]
:CNI-ADMIN - [0:0]
:NOMAD-ADMIN - [0:0]
:KUBE-FORWARD - [0:0]
:CILIUM_FORWARD - [0:0]
:FLANNEL-FWD - [0:0]
-A FORWARD -m comment --comment "CNI firewall plugin rules" -j CNI-FORWARD
-A FORWARD -m comment --comment "kubernetes forwarding rules" -j KUBE-FORWARD
-A FORWARD -m comment --comment "cilium-feeder: CILIUM_FORWARD" -j CILIUM_FORWARD
-A FORWARD -m comment --comment "flanneld forward" -j FLANNEL-FWD
-A CNI-FORWARD -m comment --comment "CNI firewall plugin admin overrides" -j CNI-ADMIN
-A CNI-FORWARD -d 172.26.64.5/32 -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT
-A CNI-FORWARD -s 172.26.64.5/32 -j ACCEPT
-A CNI-FORWARD -j NOMAD-ADMIN
-A NOMAD-ADMIN -d 172.26.64.0/20 -o nomad -j ACCEPT
-A KUBE-FORWARD -m mark --mark 0x4000/0x4000 -j ACCEPT
-A CILIUM_FORWARD -o cilium_host -j ACCEPT
-A FLANNEL-FWD -s 10.42.0.0/16 -j ACCEPT
COMMIT
RULES
`

// k3sMarks say a rule or chain is K3s's, Cilium's or their CNI network's.
var k3sMarks = []string{"KUBE-", "CILIUM", "FLANNEL", "flanneld", "cilium-feeder", `\"cbr0\"`, "9a8b7c6d5e4f30211a2b3"}

func isK3sLine(l string) bool {
	for _, m := range k3sMarks {
		if strings.Contains(l, m) {
			return true
		}
	}
	return false
}

// TestUninstallLeavesNomadNetworking runs the rendered uninstall.sh on an
// sshd node (its own network and mount namespaces) holding Nomad's and
// K3s+Cilium's networking side by side. K3s's killall would delete every
// CNI- rule, all of /var/lib/cni and the cni* state; ours must remove only
// K3s's and Cilium's and leave every Nomad rule, interface, namespace and
// file exactly as it was.
func TestUninstallLeavesNomadNetworking(t *testing.T) {
	l := newLab(t, testNode{Name: "hestia"})
	clients := l.dialAll(t, []string{"hestia"})
	c := clients["hestia"]
	ctx := context.Background()
	run := func(cmd string) string {
		t.Helper()
		r, err := c.Run(ctx, cmd, nil, false)
		if err != nil || r.Exit != 0 {
			t.Fatalf("%s: %v exit %d: %s", cmd, err, r.Exit, r.Stderr)
		}
		return r.Stdout
	}
	run(hostNetworking)
	before := run("iptables-save")
	var nomadRules, k3sRules []string
	for _, line := range strings.Split(before, "\n") {
		if !strings.HasPrefix(line, "-A ") && !strings.HasPrefix(line, ":") {
			continue
		}
		if isK3sLine(line) {
			k3sRules = append(k3sRules, line)
		} else {
			nomadRules = append(nomadRules, line)
		}
	}
	if len(k3sRules) < 20 || len(nomadRules) < 20 {
		t.Fatalf("the setup did not load: %d K3s and %d Nomad lines\n%s", len(k3sRules), len(nomadRules), before)
	}

	d := l.decisions([]string{"hestia"}, threeArch)
	d.Topology = k3sconfig.TopologyOneServer
	files, err := k3sconfig.Render(d)
	if err != nil {
		t.Fatal(err)
	}
	if err := Uninstall(ctx, InstallOptions{Files: files, Clients: clients}); err != nil {
		t.Fatal(err)
	}

	after := run("iptables-save")
	afterLines := map[string]bool{}
	for _, line := range strings.Split(after, "\n") {
		afterLines[line] = true
		if isK3sLine(line) {
			t.Errorf("K3s's rule survived: %s", line)
		}
	}
	for _, line := range nomadRules {
		// iptables-save prints a chain's counters; the declaration is what matters.
		if strings.HasPrefix(line, ":") {
			name := strings.Fields(line)[0]
			if !strings.Contains(after, "\n"+name+" ") {
				t.Errorf("Nomad's chain %s was removed", name)
			}
			continue
		}
		if !afterLines[line] {
			t.Errorf("Nomad's rule was removed: %s", line)
		}
	}

	links := run("ip -o link show")
	for _, keep := range []string{": nomad:", ": veth-alloc@"} {
		if !strings.Contains(links, keep) {
			t.Errorf("Nomad's interface %q is gone:\n%s", keep, links)
		}
	}
	for _, gone := range []string{": cni0:", ": vethk3s@", ": flannel.1:", ": cilium_host:", ": cilium_vxlan:", ": lxc_health:", ": lxc0a1b2c3d4e5f:"} {
		if strings.Contains(links, gone) {
			t.Errorf("interface %q survived the uninstall", gone)
		}
	}
	netns := run("ip netns list")
	if !strings.Contains(netns, "5f1c2d3e-0000-4a5b-9c8d-alloc") || strings.Contains(netns, "cni-1b2c3d4e") {
		t.Errorf("network namespaces after the uninstall:\n%s\nwant Nomad's allocation kept and containerd's cni-* removed", netns)
	}
	files2 := run("find /var/lib/cni /opt/cni /etc/cni -type f | sort")
	want := "/etc/cni/net.d/10-other.conflist\n/opt/cni/bin/bridge\n/opt/cni/bin/portmap\n/var/lib/cni/networks/nomad/172.26.64.5\n/var/lib/cni/results/nomad-5f1c-eth0\n"
	if files2 != want {
		t.Errorf("CNI files after the uninstall:\n%s\nwant:\n%s", files2, want)
	}
}
