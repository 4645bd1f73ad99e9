package cutover_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/nomad/api"

	"migrate-tui/internal/cutover"
	"migrate-tui/internal/status"
	"migrate-tui/internal/tlssecret/tlstest"
	"migrate-tui/internal/traefikroute/traefiktest"
)

// app answers like whoami: a fixed body and content type at /health.
type app struct {
	status int
	ctype  string
	body   string
	cookie string
}

func (a *app) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path != "/health" {
		http.NotFound(w, r)
		return
	}
	w.Header().Set("Content-Type", a.ctype)
	if a.cookie != "" {
		w.Header().Set("Set-Cookie", a.cookie)
	}
	w.WriteHeader(a.status)
	fmt.Fprint(w, a.body)
}

// TestParity runs the same request against a real server behind the Nomad
// simulator's registration of whoami and a real TLS server standing in for
// the K3s ingress (the wildcard certificate, reached at a dial address with
// the PoC host as Host and SNI).
func TestParity(t *testing.T) {
	ctx := ctxT(t, 2*time.Minute)
	s, c := sim(t)
	nomadApp := &app{status: 200, ctype: "text/plain; charset=utf-8", body: "Hostname: whoami\n"}
	nomadSrv := httptest.NewServer(nomadApp)
	t.Cleanup(nomadSrv.Close)
	if err := s.ServeServiceAt("whoami", nomadSrv.Listener.Addr().String()); err != nil {
		t.Fatal(err)
	}
	nomadURL, err := cutover.NomadServiceURL(ctx, cutover.NomadServicesFrom(c), "default", "whoami")
	if err != nil {
		t.Fatal(err)
	}
	if nomadURL != nomadSrv.URL {
		t.Fatalf("NomadServiceURL = %s, want the registration's %s", nomadURL, nomadSrv.URL)
	}
	pair := tlstest.Valid(t, "brmartin.co.uk")
	_, roots := traefiktest.CA(t, pair)
	kubeApp := &app{status: 200, ctype: "text/plain; charset=utf-8", body: "Hostname: whoami\n"}
	kube := traefiktest.TLSBackend(t, pair, kubeApp)
	in := cutover.ParityInput{
		Service:    "whoami",
		Path:       "/health",
		Nomad:      cutover.Endpoint{URL: nomadURL},
		Kubernetes: cutover.Endpoint{URL: "https://whoami-k8s.brmartin.co.uk", Dial: kube.Listener.Addr().String(), Roots: roots},
	}

	for _, tc := range []struct {
		name      string
		body      bool
		headers   []string
		simulated bool
		mutate    func()
		want      status.Status
		found     []string
	}{
		{name: "equal", want: status.Pass, found: []string{"HTTP 200", `Content-Type "text/plain; charset=utf-8"`}},
		{name: "equal with body digest", body: true, want: status.Pass},
		{name: "status differs", mutate: func() { kubeApp.status = 503 }, want: status.Fail, found: []string{"status 200 on Nomad, 503 on Kubernetes"}},
		{name: "gateway error from a simulated copy", simulated: true, mutate: func() { kubeApp.status = 502 }, want: status.Unobservable,
			found: []string{"answered HTTP 502", "simulated (KWOK) nodes"}},
		{name: "other difference from a simulated copy", simulated: true, mutate: func() { kubeApp.status = 404 }, want: status.Fail,
			found: []string{"status 200 on Nomad, 404 on Kubernetes"}},
		{name: "content type differs", mutate: func() { kubeApp.ctype = "application/json" }, want: status.Fail,
			found: []string{`Content-Type "text/plain; charset=utf-8" on Nomad, "application/json" on Kubernetes`}},
		{name: "body differs, not compared", mutate: func() { kubeApp.body = "Hostname: other\n" }, want: status.Pass},
		{name: "body differs, compared", body: true, mutate: func() { kubeApp.body = "Hostname: other\n" }, want: status.Fail, found: []string{"body sha256", "on Kubernetes"}},
		{name: "a session header differs, shown as digests", headers: []string{"Set-Cookie"}, mutate: func() { kubeApp.cookie = "session=kube-secret" }, want: status.Fail,
			found: []string{"Set-Cookie sha256:"}},
		{name: "Kubernetes copy down", mutate: func() { kube.Close() }, want: status.Fail, found: []string{"the Kubernetes copy (https://whoami-k8s.brmartin.co.uk via"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			*kubeApp = *nomadApp
			if tc.mutate != nil {
				tc.mutate()
			}
			in := in
			in.BodyDigest, in.Headers, in.KubernetesSimulated = tc.body, tc.headers, tc.simulated
			got := cutover.Parity(ctx, in)
			if got.Status != tc.want {
				t.Fatalf("status %s, want %s: %+v", got.Status, tc.want, got)
			}
			for _, f := range tc.found {
				if !strings.Contains(got.Found, f) {
					t.Errorf("found %q lacks %q", got.Found, f)
				}
			}
			if strings.Contains(got.Found, "secret") {
				t.Errorf("a session value was printed: %q", got.Found)
			}
			if got.Status != status.Pass && got.Next == "" {
				t.Errorf("a blocking parity check names no next step: %+v", got)
			}
		})
	}
}

func TestHealthPathDefault(t *testing.T) {
	job := &api.Job{TaskGroups: []*api.TaskGroup{{Tasks: []*api.Task{{Name: "overseerr", Services: []*api.Service{
		{Name: "overseerr", Checks: []api.ServiceCheck{{Type: "tcp"}, {Type: "http", Path: "/api/v1/status"}}}}}}}}}
	if got := cutover.HealthPath(job, "overseerr"); got != "/api/v1/status" {
		t.Errorf("HealthPath = %q, want the http check's path", got)
	}
	if got := cutover.HealthPath(job, "other"); got != "/" {
		t.Errorf("HealthPath of a service without checks = %q, want /", got)
	}
}
