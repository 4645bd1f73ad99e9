package traefikroute_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/util/wait"

	"migrate-tui/internal/sshinstall"
	"migrate-tui/internal/traefikroute"
	"migrate-tui/internal/traefikroute/traefiktest"
)

func digest(s string) string {
	h := sha256.Sum256([]byte(s))
	return hex.EncodeToString(h[:])
}

// world is a real Traefik v3 with the file provider watching dir, holding
// the operator's own files: the wildcard as default certificate, and a
// router for overseerr to a "Nomad" backend (standing in for the Consul
// catalog's router of the Nomad job).
type world struct {
	dir     string
	tr      *traefiktest.Traefik
	caFile  string
	probe   func(host string) traefikroute.Probe
	kube    string // host:port of the stand-in K3s ingress
	nomad   string // body the Nomad backend answers
	own     map[string][]byte
	kubeFor func(host string) string // body the K3s ingress answers for host
}

func newWorld(t *testing.T) *world {
	t.Helper()
	w := &world{}
	w.nomad = "answered by the Nomad allocation"
	nomad := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) { fmt.Fprint(rw, w.nomad) }))
	t.Cleanup(nomad.Close)
	catalog := fmt.Appendf(nil, "http:\n  routers:\n    overseerr:\n      rule: Host(`overseerr.brmartin.co.uk`)\n      entryPoints: [websecure]\n      service: overseerr\n      tls: {}\n  services:\n    overseerr:\n      loadBalancer:\n        servers:\n          - url: %s\n", nomad.URL)
	ext := traefiktest.StartExternal(t, "brmartin.co.uk", map[string][]byte{"catalog.yml": catalog})
	w.dir, w.tr, w.caFile, w.own = ext.Dir, ext.Traefik, ext.CAFile, ext.Own
	w.kubeFor = func(host string) string { return "answered by the K3s ingress for " + host }
	kube := traefiktest.TLSBackend(t, ext.Pair, http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) { fmt.Fprint(rw, w.kubeFor(r.Host)) }))
	w.kube = kube.Listener.Addr().String()
	w.probe = func(host string) traefikroute.Probe {
		return traefikroute.Probe{Entrypoint: w.tr.Websecure, Host: host, Roots: ext.Roots}
	}
	// Traefik has loaded the directory once the catalog router answers.
	err := wait.PollUntilContextTimeout(context.Background(), 100*time.Millisecond, time.Minute, true, func(ctx context.Context) (bool, error) {
		a, err := w.probe("overseerr.brmartin.co.uk").Do(ctx)
		return err == nil && a.Digest == digest(w.nomad), nil
	})
	if err != nil {
		t.Fatalf("the external Traefik never routed overseerr to the Nomad stand-in (catalog.yml): %v", err)
	}
	return w
}

func (w *world) route(service string) traefikroute.Route {
	return traefikroute.Route{Service: service, Host: service + ".brmartin.co.uk", Backends: []string{w.kube}, BackendRootCAs: []string{w.caFile}}
}

// untouched checks the operator's files are byte-identical and nothing but
// them and want is in the directory (no temp file left behind).
func (w *world) untouched(t *testing.T, want ...string) {
	t.Helper()
	for name, b := range w.own {
		got, err := os.ReadFile(filepath.Join(w.dir, name))
		if err != nil || string(got) != string(b) {
			t.Errorf("%s changed (%v): %q", name, err, got)
		}
		want = append(want, name)
	}
	ents, _ := os.ReadDir(w.dir)
	var names []string
	for _, e := range ents {
		names = append(names, e.Name())
	}
	slices.Sort(names)
	slices.Sort(want)
	if !slices.Equal(names, want) {
		t.Errorf("directory holds %v, want %v", names, want)
	}
}

func TestRouteThroughRealTraefik(t *testing.T) {
	ctx := context.Background()
	w := newWorld(t)
	local := traefikroute.LocalDir{Path: w.dir}

	t.Run("a host with no route: 404, routed, 404 again", func(t *testing.T) {
		r := w.route("whoami")
		p := w.probe(r.Host)
		before, err := p.Do(ctx)
		if err != nil || before.Status != http.StatusNotFound || before.RoutedBy != "" {
			t.Fatalf("before the route: %+v, %v; want Traefik's 404", before, err)
		}
		msg, err := traefikroute.Apply(ctx, local, r)
		if err != nil {
			t.Fatal(err)
		}
		t.Log(msg)
		got, err := traefikroute.WaitRouted(ctx, p, r, true, time.Minute)
		if err != nil {
			t.Fatal(err)
		}
		if got.Status != http.StatusOK || got.Digest != digest(w.kubeFor(r.Host)) || !got.CertOK {
			t.Fatalf("through the route: %+v; want 200 from the K3s ingress with a verified certificate", got)
		}
		w.untouched(t, traefikroute.FileName("whoami"))
		if _, err := traefikroute.Remove(ctx, local, "whoami"); err != nil {
			t.Fatal(err)
		}
		if _, err := traefikroute.WaitRouted(ctx, p, r, false, time.Minute); err != nil {
			t.Fatal(err)
		}
		after, err := p.Do(ctx)
		if err != nil || after.Status != http.StatusNotFound {
			t.Fatalf("after removal: %+v, %v; want 404", after, err)
		}
		w.untouched(t)
		if msg, err := traefikroute.Remove(ctx, local, "whoami"); err != nil || !strings.Contains(msg, "nothing to remove") {
			t.Fatalf("second removal: %q, %v; want nothing to remove", msg, err)
		}
	})

	t.Run("the route wins over the Nomad router of the same host, and hands it back", func(t *testing.T) {
		r := w.route("overseerr")
		p := w.probe(r.Host)
		before, err := p.Do(ctx)
		if err != nil || before.Digest != digest(w.nomad) {
			t.Fatalf("before: %+v, %v; want Nomad's answer", before, err)
		}
		if _, err := traefikroute.Apply(ctx, local, r); err != nil {
			t.Fatal(err)
		}
		got, err := traefikroute.WaitRouted(ctx, p, r, true, time.Minute)
		if err != nil || got.Digest != digest(w.kubeFor(r.Host)) {
			t.Fatalf("routed: %+v, %v; want the K3s ingress's answer", got, err)
		}
		if _, err := traefikroute.Remove(ctx, local, "overseerr"); err != nil {
			t.Fatal(err)
		}
		back, err := traefikroute.WaitRouted(ctx, p, r, false, time.Minute)
		if err != nil || back.Digest != digest(w.nomad) {
			t.Fatalf("after removal: %+v, %v; want Nomad's answer again", back, err)
		}
		w.untouched(t)
	})

	t.Run("over SSH with known_hosts", func(t *testing.T) {
		sshd := traefiktest.StartSSHD(t)
		remote, c, err := traefikroute.Open(ctx, traefikroute.Location{Path: w.dir, Node: "hestia", Address: sshd.Addr, Auth: sshd.Auth})
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		if _, ok := remote.(traefikroute.SSHDir); !ok {
			t.Fatalf("Open with a node gave %T, want an SSHDir", remote)
		}
		r := w.route("whoami")
		p := w.probe(r.Host)
		if _, err := traefikroute.Apply(ctx, remote, r); err != nil {
			t.Fatal(err)
		}
		if _, err := traefikroute.WaitRouted(ctx, p, r, true, time.Minute); err != nil {
			t.Fatal(err)
		}
		local, _ := r.Render()
		if b, err := os.ReadFile(filepath.Join(w.dir, traefikroute.FileName("whoami"))); err != nil || string(b) != string(local) {
			t.Fatalf("the file written over SSH differs from the rendered route (%v)", err)
		}
		w.untouched(t, traefikroute.FileName("whoami"))
		if ok, err := traefikroute.Present(ctx, remote, "whoami"); err != nil || !ok {
			t.Fatalf("Present over SSH: %v, %v", ok, err)
		}
		if _, err := traefikroute.Remove(ctx, remote, "whoami"); err != nil {
			t.Fatal(err)
		}
		if _, err := traefikroute.WaitRouted(ctx, p, r, false, time.Minute); err != nil {
			t.Fatal(err)
		}
		w.untouched(t)
		// A node whose host key is not known is refused before anything runs.
		bad := sshd.Auth
		bad.KnownHosts = []string{filepath.Join(t.TempDir(), "empty")}
		os.WriteFile(bad.KnownHosts[0], nil, 0o600)
		var hk *sshinstall.HostKeyError
		if _, err := sshinstall.Dial(ctx, "hestia", sshd.Addr, bad); !errors.As(err, &hk) {
			t.Fatalf("unknown host key: %v; want a HostKeyError", err)
		}
	})

	t.Run("a file of the same name that is not migrate-tui's is left alone", func(t *testing.T) {
		name := traefikroute.FileName("plex")
		mine := []byte("http: {}\n# the operator's\n")
		path := filepath.Join(w.dir, name)
		if err := os.WriteFile(path, mine, 0o644); err != nil {
			t.Fatal(err)
		}
		defer os.Remove(path)
		var no *traefikroute.NotOursError
		if _, err := traefikroute.Apply(ctx, local, w.route("plex")); !errors.As(err, &no) {
			t.Fatalf("Apply over the operator's file: %v; want NotOursError", err)
		}
		if _, err := traefikroute.Remove(ctx, local, "plex"); !errors.As(err, &no) {
			t.Fatalf("Remove of the operator's file: %v; want NotOursError", err)
		}
		if b, _ := os.ReadFile(path); string(b) != string(mine) {
			t.Fatalf("the operator's file changed: %q", b)
		}
	})
}
