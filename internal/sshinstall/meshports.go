package sshinstall

import (
	"fmt"
	"strings"
)

// Host ports the chosen mesh needs between nodes, beside K3s's own (6443,
// 10250, 2379-2380/tcp, 8472/udp; Cilium's VXLAN is 8472/udp too).
//
// Cilium (Documentation/operations/system_requirements.rst at CILIUM_VERSION):
// 4240/tcp cilium-health between all nodes, 4244/tcp the Hubble server
// (Hubble Relay dials every node), 51871/udp WireGuard (encryption.type
// wireguard in k8s/cluster/cilium-helmchart.yaml.tmpl).
//
// Linkerd and Istio ambient need none: Linkerd's proxies (4143, 4191) and
// webhooks (8443, 9443) and Istio's ztunnel HBONE (15008, in-pod since 1.22)
// and istiod (15012, 15017) listen on pod IPs, carried between nodes by
// flannel's VXLAN (8472/udp) — a host firewall must let the pod and service
// CIDRs through instead (firewalld: the trusted zone, as docs.k3s.io's
// requirements say).
func meshTCP(mesh string) []int {
	if mesh == "cilium" {
		return []int{4240, 4244}
	}
	return nil
}

func meshUDP(mesh string) []int {
	if mesh == "cilium" {
		return []int{51871}
	}
	return nil
}

func udpList(mesh string) string {
	var l []string
	for _, p := range append(append([]int{}, udpPorts...), meshUDP(mesh)...) {
		l = append(l, fmt.Sprintf("%d/udp", p))
	}
	return strings.Join(l, " and ")
}

func portList(tcp, udp []int) string {
	var l []string
	for _, p := range tcp {
		l = append(l, fmt.Sprintf("%d/tcp", p))
	}
	for _, p := range udp {
		l = append(l, fmt.Sprintf("%d/udp", p))
	}
	return strings.Join(l, ", ")
}

// meshNote says what the mesh's traffic needs beyond host ports.
func meshNote(mesh string) string {
	switch mesh {
	case "cilium":
		return " (Cilium: 4240/tcp health, 4244/tcp Hubble, 51871/udp WireGuard, 8472/udp VXLAN)"
	case "linkerd", "istio-ambient":
		return " (" + mesh + " listens on pod IPs only: let the pod and service CIDRs through the host firewall)"
	}
	return ""
}

// firewallHint is the firewalld command that opens what K3s and the mesh need.
func firewallHint(mesh string) string {
	args := []string{"--add-port=6443/tcp", "--add-port=10250/tcp", "--add-port=2379-2380/tcp", "--add-port=8472/udp"}
	for _, p := range meshTCP(mesh) {
		args = append(args, fmt.Sprintf("--add-port=%d/tcp", p))
	}
	for _, p := range meshUDP(mesh) {
		args = append(args, fmt.Sprintf("--add-port=%d/udp", p))
	}
	return "open them in the node's firewall, e.g. firewall-cmd --permanent " + strings.Join(args, " ") +
		" && firewall-cmd --permanent --zone=trusted --add-source=<cluster_cidr> --add-source=<service_cidr> && firewall-cmd --reload"
}
