package cutover_test

import (
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"
	"time"

	"migrate-tui/internal/cutover"
	"migrate-tui/internal/decisions"
	"migrate-tui/internal/status"
	"migrate-tui/internal/traefikroute"
	"migrate-tui/internal/traefikroute/traefiktest"
)

// TestWhoamiTransitions composes the checks the way the state machine calls
// them for whoami: parity before the switch (the Nomad instance found
// through the simulator's registration, the Kubernetes copy at its PoC
// host), the switch at the real external Traefik, the after-switch check,
// and the rollback handing the host back to the Nomad router.
func TestWhoamiTransitions(t *testing.T) {
	ctx := ctxT(t, 3*time.Minute)
	s, nc := sim(t)
	job, err := cutover.FromClient(nc).ReadJob(ctx, "default", "whoami")
	if err != nil {
		t.Fatal(err)
	}
	// Both copies run the same image: the same answer.
	whoami := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		fmt.Fprintf(w, "Hostname: whoami\nGET %s\n", r.URL.Path)
	})
	nomadSrv := httptest.NewServer(whoami)
	t.Cleanup(nomadSrv.Close)
	if err := s.ServeServiceAt("whoami", nomadSrv.Listener.Addr().String()); err != nil {
		t.Fatal(err)
	}
	// The Consul catalog's router of the Nomad job, as the external Traefik has it.
	catalog := fmt.Appendf(nil, "http:\n  routers:\n    whoami:\n      rule: Host(`whoami.brmartin.co.uk`)\n      entryPoints: [websecure]\n      service: whoami\n      tls: {}\n  services:\n    whoami:\n      loadBalancer:\n        servers:\n          - url: %s\n", nomadSrv.URL)
	ext := traefiktest.StartExternal(t, "brmartin.co.uk", map[string][]byte{"catalog.yml": catalog})
	kube := traefiktest.TLSBackend(t, ext.Pair, whoami)
	ingress := kube.Listener.Addr().String()

	a := decisions.Defaults().Clone()
	a["domain"] = "brmartin.co.uk"
	a["nodes"] = []decisions.Node{{Name: "hestia", Address: "127.0.0.1"}}
	_, port, _ := net.SplitHostPort(ingress)
	if a["traefik_https_node_port"], err = strconv.ParseInt(port, 10, 64); err != nil {
		t.Fatal(err)
	}

	// verified → traffic switched: parity first.
	nomadURL, err := cutover.NomadServiceURL(ctx, cutover.NomadServicesFrom(nc), "default", "whoami")
	if err != nil {
		t.Fatal(err)
	}
	par := cutover.Parity(ctx, cutover.ParityInput{Service: "whoami", Path: cutover.HealthPath(job, "whoami"), BodyDigest: true,
		Nomad: cutover.Endpoint{URL: nomadURL}, Kubernetes: cutover.KubernetesEndpoint(a, "whoami", ingress, ext.Roots)})
	if par.Status != status.Pass {
		t.Fatalf("parity: %+v", par)
	}
	route := cutover.RouteFor(a, "whoami")
	route.BackendRootCAs = []string{ext.CAFile}
	sw := cutover.RouteSwitch{Dir: traefikroute.LocalDir{Path: ext.Dir}, Route: route, Entrypoint: ext.Websecure, Roots: ext.Roots, Wait: time.Minute}
	if st, err := sw.ToKubernetes(ctx); err != nil {
		t.Fatalf("switch: %+v, %v", st, err)
	}
	after := cutover.AfterSwitch(ctx, cutover.AfterSwitchInput{Route: route, Entrypoint: ext.Websecure, Roots: ext.Roots})
	if after.Status != status.Pass {
		t.Fatalf("after the switch: %+v", after)
	}
	// Rollback: the route goes, the Nomad router answers again.
	if st, err := sw.BackToNomad(ctx); err != nil {
		t.Fatalf("back to Nomad: %+v, %v", st, err)
	}
	probe := traefikroute.Probe{Entrypoint: ext.Websecure, Host: route.Host, Roots: ext.Roots}
	got, err := probe.Do(ctx)
	if err != nil || got.Status != http.StatusOK || got.RoutedBy != "" {
		t.Fatalf("after rollback: %+v, %v; want the Nomad router's 200", got, err)
	}
	if c := cutover.AfterSwitch(ctx, cutover.AfterSwitchInput{Route: route, Entrypoint: ext.Websecure, Roots: ext.Roots}); c.Status != status.Fail {
		t.Fatalf("the after-switch check passes with no route: %+v", c)
	}
}
