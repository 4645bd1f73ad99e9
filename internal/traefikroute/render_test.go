package traefikroute

import (
	"strings"
	"testing"

	"sigs.k8s.io/yaml"
)

func TestRenderIsTraefikDynamicConfig(t *testing.T) {
	r := Route{Service: "whoami", Host: "whoami.brmartin.co.uk", Backends: []string{"hestia:32443", "nyx:32443"}}
	b, err := r.Render()
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(string(b), marker("whoami")) {
		t.Fatalf("no ownership marker:\n%s", b)
	}
	var got dynamic
	if err := yaml.UnmarshalStrict(b, &got); err != nil {
		t.Fatalf("%v\n%s", err, b)
	}
	rt := got.HTTP.Routers["whoami-k8s"]
	if rt.Rule != "Host(`whoami.brmartin.co.uk`)" || rt.Priority != Priority || rt.EntryPoints[0] != "websecure" || rt.TLS == nil {
		t.Errorf("router: %+v", rt)
	}
	s := got.HTTP.Services["whoami-k8s"].LoadBalancer
	if len(s.Servers) != 2 || s.Servers[1].URL != "https://nyx:32443" || s.ServersTransport != "whoami-k8s" {
		t.Errorf("service: %+v", s)
	}
	if got.HTTP.ServersTransports["whoami-k8s"].ServerName != r.Host {
		t.Errorf("transport: %+v", got.HTTP.ServersTransports)
	}
}

func TestValidateRefuses(t *testing.T) {
	ok := Route{Service: "whoami", Host: "whoami.brmartin.co.uk", Backends: []string{"hestia:32443"}}
	for name, mut := range map[string]func(*Route){
		"service with a slash":  func(r *Route) { r.Service = "../etc" },
		"host with a backtick":  func(r *Route) { r.Host = "a`) || Host(`b.example.org" },
		"no backends":           func(r *Route) { r.Backends = nil },
		"backend without port":  func(r *Route) { r.Backends = []string{"hestia"} },
		"backend with a quote":  func(r *Route) { r.Backends = []string{"he'stia:1"} },
		"unknown scheme":        func(r *Route) { r.Scheme = "h2c" },
		"entrypoint with space": func(r *Route) { r.EntryPoints = []string{"web secure"} },
	} {
		r := ok
		mut(&r)
		if _, err := r.Render(); err == nil {
			t.Errorf("%s: rendered, want refused", name)
		}
	}
	if _, err := ok.Render(); err != nil {
		t.Fatal(err)
	}
}
