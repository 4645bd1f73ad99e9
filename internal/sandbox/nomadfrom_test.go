package sandbox_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	nomad "github.com/hashicorp/nomad/api"

	"migrate-tui/internal/nomadsim"
	"migrate-tui/internal/sandbox"
)

// liveNomad is a second simulator playing the operator's running Nomad:
// its homelab seed, a job in another namespace and a stopped job. Every
// request it sees is recorded; writes() are the non-GET ones made after
// the setup.
type liveNomad struct {
	sim      *nomadsim.Server
	readOnly string
	mu       sync.Mutex
	armed    bool
	reqs     []string
}

func (l *liveNomad) writes() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	var w []string
	for _, r := range l.reqs {
		if !strings.HasPrefix(r, http.MethodGet+" ") {
			w = append(w, r)
		}
	}
	return w
}

func (l *liveNomad) reads() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.reqs) - len(l.writesLocked())
}

func (l *liveNomad) writesLocked() []string {
	var w []string
	for _, r := range l.reqs {
		if !strings.HasPrefix(r, http.MethodGet+" ") {
			w = append(w, r)
		}
	}
	return w
}

func startLiveNomad(t *testing.T) *liveNomad {
	t.Helper()
	l := &liveNomad{readOnly: "live-read-only-token"}
	l.sim = nomadsim.New(nomadsim.Options{Token: "live-management-token", ReadOnlyToken: l.readOnly,
		Audit: func(method, path string) {
			l.mu.Lock()
			defer l.mu.Unlock()
			if l.armed {
				l.reqs = append(l.reqs, method+" "+path)
			}
		}})
	if err := l.sim.Start("127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.sim.Close() })
	c := client(t, l.sim.URL(), l.sim.Token())
	forge := &nomad.Job{ID: new("forgejo"), Name: new("forgejo"), Namespace: new("dev"), Type: new("service"), Datacenters: []string{"dc1"},
		TaskGroups: []*nomad.TaskGroup{{Name: new("forgejo"), Count: new(1), Tasks: []*nomad.Task{{Name: "forgejo", Driver: "docker",
			Config: map[string]any{"image": "codeberg.org/forgejo/forgejo:11"}, Env: map[string]string{"USER_UID": "1000"}}}}}}
	if _, _, err := c.Jobs().Register(forge, &nomad.WriteOptions{Namespace: "dev"}); err != nil {
		t.Fatal(err)
	}
	if err := l.sim.StopJob("vaultwarden"); err != nil {
		t.Fatal(err)
	}
	l.mu.Lock()
	l.armed = true
	l.mu.Unlock()
	return l
}

func client(t *testing.T, addr, token string) *nomad.Client {
	t.Helper()
	cfg := nomad.DefaultConfig()
	cfg.Address, cfg.SecretID = addr, token
	c, err := nomad.NewClient(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// spec is a job as registered: without what the server sets.
func spec(t *testing.T, j *nomad.Job) string {
	t.Helper()
	c := *j
	c.Stop, c.Status, c.StatusDescription, c.Stable = nil, nil, nil, nil
	c.Version, c.SubmitTime, c.CreateIndex, c.ModifyIndex, c.JobModifyIndex = nil, nil, nil, nil, nil
	b, err := json.Marshal(&c)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// sameJobs: the sandbox's Nomad lists exactly the live jobs (namespace and
// id), each with the live spec and the live stop state.
func sameJobs(t *testing.T, live, box *nomad.Client) {
	t.Helper()
	q := &nomad.QueryOptions{Namespace: nomad.AllNamespacesNamespace}
	ls, _, err := live.Jobs().List(q)
	if err != nil {
		t.Fatal(err)
	}
	bs, _, err := box.Jobs().List(q)
	if err != nil {
		t.Fatal(err)
	}
	key := func(s *nomad.JobListStub) string { return s.Namespace + "/" + s.ID }
	var lk, bk []string
	for _, s := range ls {
		if s.ParentID == "" {
			lk = append(lk, key(s))
		}
	}
	for _, s := range bs {
		bk = append(bk, key(s))
	}
	slices.Sort(lk)
	slices.Sort(bk)
	if !slices.Equal(lk, bk) || !slices.Contains(bk, "dev/forgejo") {
		t.Fatalf("sandbox's Nomad lists %v; the live one %v (want the same, dev/forgejo included)", bk, lk)
	}
	for _, k := range lk {
		ns, id, _ := strings.Cut(k, "/")
		lj, _, err := live.Jobs().Info(id, &nomad.QueryOptions{Namespace: ns})
		if err != nil {
			t.Fatal(err)
		}
		bj, _, err := box.Jobs().Info(id, &nomad.QueryOptions{Namespace: ns})
		if err != nil {
			t.Fatalf("%s in the sandbox: %v", k, err)
		}
		if a, b := spec(t, lj), spec(t, bj); a != b {
			t.Errorf("%s: the sandbox's spec differs from the live one:\nlive: %s\nbox:  %s", k, a, b)
		}
		if (lj.Stop != nil && *lj.Stop) != (bj.Stop != nil && *bj.Stop) {
			t.Errorf("%s: stopped live %v, in the sandbox %v", k, lj.Stop != nil && *lj.Stop, bj.Stop != nil && *bj.Stop)
		}
	}
}

// CopyJobs between two simulators: the copy holds every live job with its
// spec, and the live Nomad saw reads only.
func TestCopyJobsReadsOnly(t *testing.T) {
	live := startLiveNomad(t)
	box := nomadsim.New(nomadsim.Options{Token: "box-token", Empty: true})
	if err := box.Start("127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { box.Close() })
	lc, bc := client(t, live.sim.URL(), live.readOnly), client(t, box.URL(), box.Token())
	idx := live.sim.Index()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	copied, err := sandbox.CopyJobs(ctx, live.sim.URL(), sandbox.LiveNomad{C: lc}, sandbox.SimNomad{C: bc})
	if err != nil {
		t.Fatal(err)
	}
	if len(copied) < len(nomadsim.HomelabJobIDs()) {
		t.Fatalf("copied %v; want at least the live seed %v", copied, nomadsim.HomelabJobIDs())
	}
	if w := live.writes(); len(w) > 0 || live.sim.Index() != idx {
		t.Fatalf("the live Nomad saw writes %v (index %d -> %d)", w, idx, live.sim.Index())
	}
	if live.reads() < len(copied)+1 {
		t.Fatalf("the live Nomad saw %d reads for %d jobs: the audit hook is not counting", live.reads(), len(copied))
	}
	sameJobs(t, client(t, live.sim.URL(), live.sim.Token()), bc)

	// A token the live Nomad does not know: the error names the address
	// and the token, and the copy stops.
	_, err = sandbox.CopyJobs(ctx, live.sim.URL(), sandbox.LiveNomad{C: client(t, live.sim.URL(), "wrong")}, sandbox.SimNomad{C: bc})
	if err == nil || !strings.Contains(err.Error(), live.sim.URL()) || !strings.Contains(err.Error(), "NOMAD_TOKEN") {
		t.Fatalf("a wrong token: %v; want an error naming the address and NOMAD_TOKEN", err)
	}
}

// The sandbox server started with NomadFrom: once up, its Nomad holds the
// live jobs and nothing was written to the live one.
func TestUpNomadFrom(t *testing.T) {
	live := startLiveNomad(t)
	stateDir := filepath.Join(t.TempDir(), "sandbox")
	t.Setenv(serveEnv, stateDir)
	t.Setenv(nomadFromEnv, live.sim.URL())
	t.Setenv("NOMAD_TOKEN", live.readOnly)
	up := sandbox.UpOptions{StateDir: stateDir, Command: []string{os.Args[0], "-test.run=^$"}}
	t.Cleanup(func() { _ = sandbox.Down(stateDir, 10*time.Second) })
	idx := live.sim.Index()
	ctx, cancel := context.WithTimeout(context.Background(), 6*time.Minute)
	defer cancel()
	env, _, err := sandbox.Up(ctx, up)
	if err != nil {
		t.Fatal(err)
	}
	if w := live.writes(); len(w) > 0 || live.sim.Index() != idx {
		t.Fatalf("the live Nomad saw writes %v (index %d -> %d)", w, idx, live.sim.Index())
	}
	sameJobs(t, client(t, live.sim.URL(), live.sim.Token()), client(t, env.NomadAddr, env.NomadToken))
	log, _ := os.ReadFile(filepath.Join(stateDir, "serve.log"))
	if strings.Contains(string(log), live.readOnly) {
		t.Error("the live Nomad's token is in serve.log")
	}
	if !strings.Contains(string(log), fmt.Sprintf("from the live Nomad %s", live.sim.URL())) {
		t.Errorf("serve.log does not say what was copied:\n%s", log)
	}
}
