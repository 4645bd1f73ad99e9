package cutover_test

import (
	"testing"

	"migrate-tui/internal/cutover"
	"migrate-tui/internal/decisions"
)

func TestRouteAndEndpointFromDecisions(t *testing.T) {
	a := decisions.Defaults().Clone()
	a["domain"] = "brmartin.co.uk"
	a["traefik_https_node_port"] = int64(32443)
	a["nodes"] = []decisions.Node{{Name: "hestia", Address: "192.168.1.5"}, {Name: "nyx"}}
	r := cutover.RouteFor(a, "whoami")
	if r.Host != "whoami.brmartin.co.uk" || len(r.Backends) != 2 || r.Backends[0] != "192.168.1.5:32443" || r.Backends[1] != "nyx:32443" {
		t.Fatalf("RouteFor = %+v", r)
	}
	if _, err := r.Render(); err != nil {
		t.Fatalf("the route from the decisions does not render: %v", err)
	}
	e := cutover.KubernetesEndpoint(a, "whoami", "192.168.1.5:32443", nil)
	if e.URL != "https://whoami-k8s.brmartin.co.uk" || e.Dial != "192.168.1.5:32443" {
		t.Fatalf("KubernetesEndpoint = %+v", e)
	}
}
