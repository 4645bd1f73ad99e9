package nomadsim_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/nomad/api"

	"migrate-tui/internal/nomadsim"
)

const testToken = "4b1c7a52-0000-4000-8000-000000000001"

// start runs a seeded simulator on a loopback port for one test.
func start(t *testing.T, o nomadsim.Options) *nomadsim.Server {
	t.Helper()
	s := nomadsim.New(o)
	if err := s.Start("127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("close simulator: %v", err)
		}
	})
	return s
}

// client is the real nomad/api client pointed at the simulator.
func client(t *testing.T, s *nomadsim.Server, token string) *api.Client {
	t.Helper()
	cfg := api.DefaultConfig()
	cfg.Address = s.URL()
	cfg.SecretID = token
	c, err := api.NewClient(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestListReadStopSeesAllocationChange(t *testing.T) {
	s := start(t, nomadsim.Options{Token: testToken})
	c := client(t, s, testToken)

	jobs, _, err := c.Jobs().List(nil)
	if err != nil {
		t.Fatalf("list jobs: %v", err)
	}
	var ids []string
	for _, j := range jobs {
		ids = append(ids, j.ID)
	}
	for _, want := range nomadsim.HomelabJobIDs() {
		if !slices.Contains(ids, want) {
			t.Errorf("job list %v lacks %q", ids, want)
		}
	}

	job, _, err := c.Jobs().Info("overseerr", nil)
	if err != nil {
		t.Fatalf("read overseerr: %v", err)
	}
	var tasks []string
	for _, tk := range job.TaskGroups[0].Tasks {
		tasks = append(tasks, tk.Name)
	}
	if want := []string{"litestream-restore", "overseerr", "litestream"}; !slices.Equal(tasks, want) {
		t.Errorf("overseerr tasks = %v, want %v", tasks, want)
	}
	if *job.Status != "running" || *job.Type != "service" {
		t.Errorf("overseerr status/type = %s/%s, want running/service", *job.Status, *job.Type)
	}

	allocs, meta, err := c.Jobs().Allocations("whoami", false, nil)
	if err != nil {
		t.Fatalf("whoami allocations: %v", err)
	}
	if len(allocs) != 2 {
		t.Fatalf("whoami has %d allocations, want 2", len(allocs))
	}
	for _, a := range allocs {
		if a.ClientStatus != "running" || a.DeploymentStatus == nil || a.DeploymentStatus.Healthy == nil || !*a.DeploymentStatus.Healthy {
			t.Errorf("whoami alloc %s: client status %s, deployment status %+v; want running and healthy", a.ID, a.ClientStatus, a.DeploymentStatus)
		}
	}

	// A blocking query started before the stop returns once the stop lands.
	type result struct {
		allocs []*api.AllocationListStub
		meta   *api.QueryMeta
		err    error
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	done := make(chan result, 1)
	go func() {
		q := (&api.QueryOptions{WaitIndex: meta.LastIndex, WaitTime: time.Minute}).WithContext(ctx)
		a, m, err := c.Jobs().Allocations("whoami", false, q)
		done <- result{a, m, err}
	}()

	if _, _, err := c.Jobs().Deregister("whoami", false, nil); err != nil {
		t.Fatalf("stop whoami: %v", err)
	}
	r := <-done
	if r.err != nil {
		t.Fatalf("blocking allocations query: %v", r.err)
	}
	if r.meta.LastIndex <= meta.LastIndex {
		t.Errorf("blocking query index %d, want past %d", r.meta.LastIndex, meta.LastIndex)
	}
	for _, a := range r.allocs {
		if a.DesiredStatus != "stop" || a.ClientStatus != "complete" {
			t.Errorf("after stop, alloc %s is desired %s / client %s, want stop / complete", a.ID, a.DesiredStatus, a.ClientStatus)
		}
	}
	job, _, err = c.Jobs().Info("whoami", nil)
	if err != nil {
		t.Fatalf("read stopped whoami: %v", err)
	}
	if !*job.Stop || *job.Status != "dead" {
		t.Errorf("stopped whoami: Stop=%v Status=%s, want true/dead", *job.Stop, *job.Status)
	}
	regs, _, err := c.Services().Get("whoami", nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(regs) != 0 {
		t.Errorf("whoami still has %d service registrations after stop", len(regs))
	}

	// purge removes it
	if _, _, err := c.Jobs().Deregister("whoami", true, nil); err != nil {
		t.Fatalf("purge whoami: %v", err)
	}
	if _, _, err := c.Jobs().Info("whoami", nil); err == nil || !strings.Contains(err.Error(), "404") {
		t.Errorf("read purged job: err = %v, want a 404", err)
	}
}

func TestACL(t *testing.T) {
	const readOnly = "4b1c7a52-0000-4000-8000-0000000000r0"
	tests := []struct {
		name      string
		server    nomadsim.Options
		token     string
		write     bool
		wantError string // "" = allowed
	}{
		{name: "management token reads", server: nomadsim.Options{Token: testToken}, token: testToken},
		{name: "management token writes", server: nomadsim.Options{Token: testToken}, token: testToken, write: true},
		{name: "unknown token", server: nomadsim.Options{Token: testToken}, token: "wrong", wantError: "403 (ACL token not found)"},
		{name: "no token", server: nomadsim.Options{Token: testToken}, wantError: "403 (Permission denied)"},
		{name: "read-only token reads", server: nomadsim.Options{Token: testToken, ReadOnlyToken: readOnly}, token: readOnly},
		{name: "read-only token cannot write", server: nomadsim.Options{Token: testToken, ReadOnlyToken: readOnly}, token: readOnly, write: true, wantError: "403 (Permission denied)"},
		{name: "ACLs off", server: nomadsim.Options{}, token: ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := client(t, start(t, tt.server), tt.token)
			var err error
			if tt.write {
				_, _, err = c.Jobs().Deregister("plex", false, nil)
			} else {
				_, _, err = c.Nodes().List(nil)
			}
			switch {
			case tt.wantError == "" && err != nil:
				t.Fatalf("want success, got %v", err)
			case tt.wantError != "" && err == nil:
				t.Fatalf("want an error containing %q, got success", tt.wantError)
			case tt.wantError != "" && !strings.Contains(err.Error(), tt.wantError):
				t.Fatalf("error %q does not contain %q", err, tt.wantError)
			}
			if tt.wantError != "" {
				var ure api.UnexpectedResponseError
				if !errors.As(err, &ure) || ure.StatusCode() != 403 {
					t.Errorf("error %v is not an UnexpectedResponseError with status 403", err)
				}
			}
		})
	}
}

func TestBlockingQuery(t *testing.T) {
	s := start(t, nomadsim.Options{})
	c := client(t, s, "")
	_, meta, err := c.Allocations().List(nil)
	if err != nil {
		t.Fatal(err)
	}
	if meta.LastIndex != s.Index() {
		t.Fatalf("X-Nomad-Index %d, server index %d", meta.LastIndex, s.Index())
	}

	// No change: the query waits out its wait time and answers the same index.
	_, m, err := c.Allocations().List(&api.QueryOptions{WaitIndex: meta.LastIndex, WaitTime: 50 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	if m.LastIndex != meta.LastIndex {
		t.Errorf("index moved from %d to %d with no change", meta.LastIndex, m.LastIndex)
	}

	tests := []struct {
		name   string
		mutate func() error
	}{
		{"fail", func() error { return s.FailAllocation("overseerr") }},
		{"restart", func() error { return s.RestartAllocation("vaultwarden") }},
		{"unhealthy", func() error { return s.SetUnhealthy("minio") }},
		{"stop", func() error { return s.StopJob("plex") }},
		{"node down", func() error { return s.SetNodeDown("nyx") }},
		{"periodic launch", func() error { _, err := s.LaunchPeriodic("backup"); return err }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := s.Index()
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			got := make(chan uint64, 1)
			errc := make(chan error, 1)
			go func() {
				_, m, err := c.Allocations().List((&api.QueryOptions{WaitIndex: before, WaitTime: time.Minute}).WithContext(ctx))
				if err != nil {
					errc <- err
					return
				}
				got <- m.LastIndex
			}()
			if err := tt.mutate(); err != nil {
				t.Fatal(err)
			}
			select {
			case idx := <-got:
				if idx <= before {
					t.Errorf("blocking query returned index %d, want past %d", idx, before)
				}
			case err := <-errc:
				t.Fatal(err)
			}
		})
	}
}

func TestWireShapes(t *testing.T) {
	s := start(t, nomadsim.Options{Token: testToken})
	c := client(t, s, testToken)

	self, err := c.Agent().Self()
	if err != nil {
		t.Fatal(err)
	}
	if self.Member.Name != "hestia.global" {
		t.Errorf("agent self member %q", self.Member.Name)
	}
	leader, err := c.Status().Leader()
	if err != nil || leader == "" {
		t.Errorf("leader %q, %v", leader, err)
	}

	stubs, _, err := c.Nodes().List(nil)
	if err != nil {
		t.Fatal(err)
	}
	arch := map[string]string{}
	for _, stub := range stubs {
		n, _, err := c.Nodes().Info(stub.ID, nil)
		if err != nil {
			t.Fatal(err)
		}
		arch[n.Name] = n.Attributes["cpu.arch"]
		if n.Attributes["kernel.name"] != "linux" || n.Attributes["memory.totalbytes"] == "" || n.NodeResources.Memory.MemoryMB == 0 {
			t.Errorf("node %s lacks kernel.name/memory attributes or NodeResources: %v", n.Name, n.Attributes)
		}
		hs, err := c.Nodes().Stats(n.ID, nil)
		if err != nil {
			t.Fatalf("client stats for %s: %v", n.Name, err)
		}
		if hs.Memory.Total != uint64(n.NodeResources.Memory.MemoryMB)*1024*1024 || hs.Memory.Used == 0 || len(hs.CPU) == 0 {
			t.Errorf("node %s host stats %+v", n.Name, hs.Memory)
		}
		nallocs, _, err := c.Nodes().Allocations(n.ID, nil)
		if err != nil {
			t.Fatal(err)
		}
		if len(nallocs) == 0 {
			t.Errorf("node %s has no allocations", n.Name)
		}
	}
	if want := map[string]string{"hestia": "amd64", "heracles": "arm64", "nyx": "arm64"}; !mapsEqual(arch, want) {
		t.Errorf("node arch %v, want %v", arch, want)
	}

	allocs, _, err := c.Jobs().Allocations("overseerr", false, nil)
	if err != nil || len(allocs) != 1 {
		t.Fatalf("overseerr allocations %v, %v", allocs, err)
	}
	alloc, _, err := c.Allocations().Info(allocs[0].ID, nil)
	if err != nil {
		t.Fatal(err)
	}
	if st := alloc.TaskStates["litestream-restore"]; st == nil || st.State != "dead" || st.Failed {
		t.Errorf("prestart litestream-restore state %+v, want dead and not failed", st)
	}
	if st := alloc.TaskStates["litestream"]; st == nil || st.State != "running" {
		t.Errorf("litestream sidecar state %+v, want running", st)
	}
	usage, err := c.Allocations().Stats(alloc, nil)
	if err != nil {
		t.Fatal(err)
	}
	if usage.ResourceUsage.MemoryStats.RSS == 0 || usage.Tasks["overseerr"] == nil {
		t.Errorf("alloc stats %+v", usage.ResourceUsage.MemoryStats)
	}

	dep, _, err := c.Jobs().LatestDeployment("overseerr", nil)
	if err != nil || dep == nil || dep.Status != "successful" {
		t.Errorf("latest overseerr deployment %+v, %v", dep, err)
	}
	deps, _, err := c.Deployments().List(nil)
	if err != nil || len(deps) == 0 {
		t.Errorf("deployments %d, %v", len(deps), err)
	}

	svcs, _, err := c.Services().List(nil)
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, ns := range svcs {
		for _, sv := range ns.Services {
			if sv.ServiceName == "whoami" && slices.Contains(sv.Tags, "traefik.enable=true") {
				found = true
			}
		}
	}
	if !found {
		t.Errorf("no whoami service with traefik tags in %+v", svcs)
	}
	regs, _, err := c.Services().Get("whoami", nil)
	if err != nil || len(regs) != 2 {
		t.Errorf("whoami registrations %d, %v; want 2", len(regs), err)
	}

	minio, _, err := c.Jobs().Info("minio", nil)
	if err != nil {
		t.Fatal(err)
	}
	if v := minio.TaskGroups[0].Volumes["data"]; v == nil || v.Type != "csi" || v.Source != "glusterfs_minio_data" {
		t.Errorf("minio volume %+v", v)
	}

	prefixed, _, err := c.Jobs().PrefixList("backup")
	if err != nil {
		t.Fatal(err)
	}
	var parent, child bool
	for _, j := range prefixed {
		parent = parent || (j.ID == "backup" && j.Periodic && j.Status == "running")
		child = child || (j.ParentID == "backup" && j.Status == "dead" && j.JobSummary.Summary["backup"].Complete == 1)
	}
	if !parent || !child {
		t.Errorf("backup prefix list: periodic parent %v, finished child %v: %+v", parent, child, prefixed)
	}
}

func TestRegisterPlacesByConstraint(t *testing.T) {
	s := start(t, nomadsim.Options{Empty: true})
	c := client(t, s, "")
	j := api.NewServiceJob("hello", "hello", "global", 50)
	tg := api.NewTaskGroup("web", 2).Constrain(api.NewConstraint("${attr.cpu.arch}", "=", "arm64"))
	tg.AddTask(api.NewTask("web", "docker").SetConfig("image", "nginx"))
	j.AddTaskGroup(tg)
	j.Datacenters = []string{"dc1"}
	if _, _, err := c.Jobs().Register(j, nil); err != nil {
		t.Fatal(err)
	}
	allocs, _, err := c.Jobs().Allocations("hello", false, nil)
	if err != nil {
		t.Fatal(err)
	}
	var nodes []string
	for _, a := range allocs {
		nodes = append(nodes, a.NodeName)
	}
	slices.Sort(nodes)
	if want := []string{"heracles", "nyx"}; !slices.Equal(nodes, want) {
		t.Errorf("arm64-constrained allocations on %v, want %v", nodes, want)
	}
	// registering again makes version 1 and replaces the allocations
	if _, _, err := c.Jobs().Register(j, nil); err != nil {
		t.Fatal(err)
	}
	got, _, err := c.Jobs().Info("hello", nil)
	if err != nil || *got.Version != 1 {
		t.Fatalf("re-registered job version %v, %v", got.Version, err)
	}
	allocs, _, _ = c.Jobs().Allocations("hello", false, nil)
	running := 0
	for _, a := range allocs {
		if a.ClientStatus == "running" {
			running++
		}
	}
	if running != 2 || len(allocs) != 4 {
		t.Errorf("after update: %d allocations, %d running; want 4 and 2", len(allocs), running)
	}
}

func TestMutatorsNameWhatIsMissing(t *testing.T) {
	s := nomadsim.New(nomadsim.Options{})
	tests := []struct {
		name string
		err  error
		want string
	}{
		{"fail unknown job", s.FailAllocation("nope"), `job "nope" not found`},
		{"restart unknown task", s.RestartTask("overseerr", "nope"), `no running allocation with a running task "nope"`},
		{"stop unknown job", s.StopJob("nope"), `stop job "nope"`},
		{"unknown node", s.SetNodeDown("zeus"), `node "zeus" not found`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.err == nil || !strings.Contains(tt.err.Error(), tt.want) {
				t.Errorf("err = %v, want it to contain %q", tt.err, tt.want)
			}
		})
	}
}

func mapsEqual(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}
