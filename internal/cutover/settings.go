package cutover

import (
	"crypto/x509"
	"net"
	"strconv"

	"migrate-tui/internal/decisions"
	"migrate-tui/internal/traefikroute"
)

// RouteFor is a service's route from the decisions: its production host
// (<service>.<domain>) to the K3s Traefik's NodePort
// (traefik_https_node_port) on every node, by address (the external
// Traefik then needs no name resolution for the nodes), else by name.
func RouteFor(a decisions.Answers, service string) traefikroute.Route {
	port := a.Int("traefik_https_node_port")
	if port == 0 {
		port = decisions.Defaults().Int("traefik_https_node_port")
	}
	domain := a.Str("domain")
	if domain == "" {
		domain = decisions.Defaults().Str("domain")
	}
	var backends []string
	for _, n := range a.Nodes() {
		host := n.Address
		if host == "" {
			host = n.Name
		}
		backends = append(backends, net.JoinHostPort(host, strconv.FormatInt(port, 10)))
	}
	return traefikroute.Route{Service: service, Host: service + "." + domain, Backends: backends}
}

// KubernetesEndpoint is the Kubernetes copy before the switch: its PoC host
// (poc_host_pattern) dialled at the K3s ingress (a node's NodePort), so the
// request reaches Kubernetes while the production host still goes to Nomad.
func KubernetesEndpoint(a decisions.Answers, service, ingress string, roots *x509.CertPool) Endpoint {
	domain := a.Str("domain")
	if domain == "" {
		domain = decisions.Defaults().Str("domain")
	}
	host := decisions.PoCHost(a.Str("poc_host_pattern"), service, domain)
	return Endpoint{URL: "https://" + host, Dial: ingress, Roots: roots}
}
