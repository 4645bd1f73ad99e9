package cutover_test

import (
	"crypto/x509"
	"fmt"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"migrate-tui/internal/cutover"
	"migrate-tui/internal/status"
	"migrate-tui/internal/traefikroute"
	"migrate-tui/internal/traefikroute/traefiktest"
)

// TestAfterSwitchAgainstRealTraefik: the real external Traefik (file
// provider, the wildcard as default certificate) and a TLS server standing
// in for the K3s ingress. The check passes only once the route is loaded,
// and fails for the right reason without it, with an untrusted
// certificate, and with the ingress down.
func TestAfterSwitchAgainstRealTraefik(t *testing.T) {
	ctx := ctxT(t, 3*time.Minute)
	ext := traefiktest.StartExternal(t, "brmartin.co.uk", nil)
	var down atomic.Bool // the handler runs on Traefik's requests, not the test's goroutine
	kube := traefiktest.TLSBackend(t, ext.Pair, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if down.Load() {
			http.Error(w, "no endpoints", http.StatusServiceUnavailable)
			return
		}
		fmt.Fprint(w, "whoami on Kubernetes")
	}))
	route := traefikroute.Route{Service: "whoami", Host: "whoami.brmartin.co.uk", Backends: []string{kube.Listener.Addr().String()}, BackendRootCAs: []string{ext.CAFile}}
	in := cutover.AfterSwitchInput{Route: route, Entrypoint: ext.Websecure, Roots: ext.Roots}
	dir := traefikroute.LocalDir{Path: ext.Dir}

	check := func(t *testing.T, in cutover.AfterSwitchInput, want status.Status, found string) {
		t.Helper()
		got := cutover.AfterSwitch(ctx, in)
		if got.Status != want || !strings.Contains(got.Found, found) {
			t.Fatalf("got %s %q; want %s with %q", got.Status, got.Found, want, found)
		}
		if want != status.Pass && got.Next == "" {
			t.Errorf("no next step: %+v", got)
		}
	}
	t.Run("no route yet", func(t *testing.T) {
		check(t, in, status.Fail, "HTTP 404 not through route whoami-k8s")
	})
	if _, err := traefikroute.Apply(ctx, dir, route); err != nil {
		t.Fatal(err)
	}
	probe := traefikroute.Probe{Entrypoint: ext.Websecure, Host: route.Host, Roots: ext.Roots}
	if _, err := traefikroute.WaitRouted(ctx, probe, route, true, time.Minute); err != nil {
		t.Fatal(err)
	}
	t.Run("routed with a valid certificate", func(t *testing.T) {
		check(t, in, status.Pass, "HTTP 200 through route whoami-k8s")
	})
	t.Run("certificate not trusted", func(t *testing.T) {
		bad := in
		bad.Roots = x509.NewCertPool()
		check(t, bad, status.Fail, "does not verify")
	})
	t.Run("the Kubernetes copy fails", func(t *testing.T) {
		down.Store(true)
		defer down.Store(false)
		check(t, in, status.Fail, "HTTP 503 through route whoami-k8s")
	})
	t.Run("rolled back", func(t *testing.T) {
		if _, err := traefikroute.Remove(ctx, dir, "whoami"); err != nil {
			t.Fatal(err)
		}
		if _, err := traefikroute.WaitRouted(ctx, probe, route, false, time.Minute); err != nil {
			t.Fatal(err)
		}
		check(t, in, status.Fail, "not through route")
	})
}
