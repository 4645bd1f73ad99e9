package cutover_test

import (
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"migrate-tui/internal/cutover"
	"migrate-tui/internal/status"
	"migrate-tui/internal/traefikroute"
	"migrate-tui/internal/traefikroute/traefiktest"
)

// TestRouteSwitch drives the switch the state machine uses against the
// real external Traefik: to Kubernetes and back, and a route whose backend
// does not answer is taken back out.
func TestRouteSwitch(t *testing.T) {
	ctx := ctxT(t, 3*time.Minute)
	ext := traefiktest.StartExternal(t, "brmartin.co.uk", nil)
	kube := traefiktest.TLSBackend(t, ext.Pair, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, "whoami on Kubernetes") }))
	sw := cutover.RouteSwitch{
		Dir:        traefikroute.LocalDir{Path: ext.Dir},
		Route:      traefikroute.Route{Service: "whoami", Host: "whoami.brmartin.co.uk", Backends: []string{kube.Listener.Addr().String()}, BackendRootCAs: []string{ext.CAFile}},
		Entrypoint: ext.Websecure, Roots: ext.Roots, Wait: time.Minute,
	}
	st, err := sw.ToKubernetes(ctx)
	if err != nil || st.Status != status.Pass || !strings.Contains(st.Detail, "HTTP 200 through route whoami-k8s") {
		t.Fatalf("ToKubernetes: %+v, %v", st, err)
	}
	if on, err := sw.Switched(ctx); err != nil || !on {
		t.Fatalf("Switched after ToKubernetes: %v, %v", on, err)
	}
	st, err = sw.BackToNomad(ctx)
	if err != nil || st.Status != status.Pass {
		t.Fatalf("BackToNomad: %+v, %v", st, err)
	}
	if on, err := sw.Switched(ctx); err != nil || on {
		t.Fatalf("Switched after BackToNomad: %v, %v", on, err)
	}

	t.Run("a route that does not answer is removed again", func(t *testing.T) {
		dead := traefiktest.FreePort(t) // nothing listens: Traefik answers 502
		bad := sw
		bad.Route.Backends = []string{dead}
		bad.Wait = 3 * time.Second
		st, err := bad.ToKubernetes(ctx)
		if !errors.Is(err, cutover.ErrRouteNotProven) || st.Status != status.Fail || !strings.Contains(st.Detail, "is routed as before") {
			t.Fatalf("ToKubernetes to a dead backend: %+v, %v", st, err)
		}
		if _, err := os.Stat(filepath.Join(ext.Dir, traefikroute.FileName("whoami"))); !os.IsNotExist(err) {
			t.Fatalf("the unproven route file is still there (%v)", err)
		}
	})
}
