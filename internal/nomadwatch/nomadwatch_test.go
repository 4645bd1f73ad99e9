package nomadwatch_test

import (
	"context"
	"encoding/json"
	"errors"
	"net"
	"reflect"
	"strings"
	"testing"

	"migrate-tui/internal/nomadsim"
	"migrate-tui/internal/nomadwatch"
)

const token = "0f5e2c1a-1111-4222-8333-444455556666"

func startSim(t *testing.T, o nomadsim.Options) *nomadsim.Server {
	t.Helper()
	s := nomadsim.New(o)
	if err := s.Start("127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

func newClient(t *testing.T, addr, tok string) *nomadwatch.Client {
	t.Helper()
	// The environment must not leak into the test (a developer's NOMAD_*).
	for _, k := range []string{"NOMAD_ADDR", "NOMAD_TOKEN", "NOMAD_CACERT", "NOMAD_CLIENT_CERT", "NOMAD_CLIENT_KEY", "NOMAD_SKIP_VERIFY", "NOMAD_NAMESPACE", "NOMAD_REGION"} {
		t.Setenv(k, "")
	}
	c, err := nomadwatch.NewClient(addr, tok)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// closedAddr is a loopback address nothing listens on.
func closedAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	_ = ln.Close()
	return addr
}

func TestClearErrors(t *testing.T) {
	sim := startSim(t, nomadsim.Options{Token: token, ReadTokens: map[string][]string{"jobs-only": {"/v1/job", "/v1/allocation"}}})
	down := closedAddr(t)
	tests := []struct {
		name    string
		addr    string
		token   string
		is      error
		want    []string // all must appear in the message
		wantErr bool
	}{
		{name: "good token", addr: sim.URL(), token: token},
		{name: "unknown token", addr: sim.URL(), token: "not-a-token", is: nomadwatch.ErrPermission,
			want: []string{sim.URL(), "ACL token not found", "NOMAD_TOKEN is not a token this Nomad knows"}},
		{name: "no token", addr: sim.URL(), is: nomadwatch.ErrPermission,
			want: []string{"no token was sent", "Set NOMAD_TOKEN", `node { policy = "read" }`}},
		{name: "token lacks node read", addr: sim.URL(), token: "jobs-only", is: nomadwatch.ErrPermission,
			want: []string{"refused to list nodes", "403 Permission denied", `lacks node { policy = "read" }`}},
		{name: "nothing listening", addr: "http://" + down, is: nomadwatch.ErrUnreachable,
			want: []string{"Nomad at http://" + down + " did not answer", "connection refused", "NOMAD_ADDR"}},
		{name: "https to a plain HTTP Nomad", addr: strings.Replace(sim.URL(), "http://", "https://", 1), token: token, is: nomadwatch.ErrUnreachable,
			want: []string{"use http:// in NOMAD_ADDR"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := newClient(t, tt.addr, tt.token)
			err := c.CheckAccess(context.Background())
			if tt.is == nil {
				if err != nil {
					t.Fatalf("want access, got %v", err)
				}
				return
			}
			if !errors.Is(err, tt.is) {
				t.Fatalf("error %v is not %v", err, tt.is)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q lacks %q", err, w)
				}
			}
		})
	}
}

func TestPing(t *testing.T) {
	sim := startSim(t, nomadsim.Options{Token: token})
	if err := newClient(t, sim.URL(), token).Ping(context.Background()); err != nil {
		t.Fatalf("ping: %v", err)
	}
	if err := newClient(t, "http://"+closedAddr(t), token).Ping(context.Background()); !errors.Is(err, nomadwatch.ErrUnreachable) {
		t.Fatalf("ping of a closed port: %v, want ErrUnreachable", err)
	}
}

func TestInventory(t *testing.T) {
	sim := startSim(t, nomadsim.Options{Token: token})
	c := newClient(t, sim.URL(), token)
	if err := sim.SetNodeDown("nyx"); err != nil {
		t.Fatal(err)
	}
	nodes, err := nomadwatch.Inventory(context.Background(), c)
	if err != nil {
		t.Fatal(err)
	}
	type row struct {
		Name, Arch, Address, Status string
		MemoryMB, AllocatedMemoryMB int64
		Allocations                 int
	}
	var got []row
	for _, n := range nodes {
		got = append(got, row{n.Name, n.Arch, n.Address, n.Status, n.MemoryMB, n.AllocatedMemoryMB, n.Allocations})
	}
	// Allocated memory, by hand from the seed: heracles runs whoami (32),
	// echo-server (64 + proxy 64), minio (1024 + proxy 64) and vaultwarden
	// (256 + litestream 128; the finished restore task is not counted);
	// hestia runs traefik (256), whoami (32), open-webui (1536 + 128) and
	// plex (2048); nyx is down, so its allocations are lost and count nothing.
	want := []row{
		{"heracles", "arm64", "192.168.1.6", "ready", 8192, 32 + 128 + 1088 + 384, 4},
		{"hestia", "amd64", "192.168.1.5", "ready", 32768, 256 + 32 + 1664 + 2048, 4},
		{"nyx", "arm64", "192.168.1.7", "down", 8192, 0, 0},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("inventory\n got %+v\nwant %+v", got, want)
	}
	if free := nodes[0].FreeMemoryMB(); free != 8192-512-1632 {
		t.Errorf("heracles free memory %d MB, want %d", free, 8192-512-1632)
	}
}

func TestCompare(t *testing.T) {
	tests := []struct {
		name   string
		change func(t *testing.T, s *nomadsim.Server, c *nomadwatch.Client)
		want   []nomadwatch.Kind
		says   []string // sentences (substrings), in order
	}{
		{name: "nothing changed", change: func(*testing.T, *nomadsim.Server, *nomadwatch.Client) {}},
		{
			name:   "allocation failed",
			change: func(t *testing.T, s *nomadsim.Server, _ *nomadwatch.Client) { must(t, s.FailAllocation("overseerr")) },
			want:   []nomadwatch.Kind{nomadwatch.KindAllocFailed},
			says:   []string{"on nyx failed (task overseerr exited 1) after the baseline (was running)"},
		},
		{
			name: "sidecar failed",
			change: func(t *testing.T, s *nomadsim.Server, _ *nomadwatch.Client) {
				must(t, s.FailTask("vaultwarden", "litestream", 2))
			},
			want: []nomadwatch.Kind{nomadwatch.KindAllocFailed},
			says: []string{"job vaultwarden: allocation ", "failed (task litestream exited 2) after the baseline (was running)"},
		},
		{
			name:   "restart",
			change: func(t *testing.T, s *nomadsim.Server, _ *nomadwatch.Client) { must(t, s.RestartAllocation("minio")) },
			want:   []nomadwatch.Kind{nomadwatch.KindTaskRestarted},
			says:   []string{"job minio: task minio in allocation ", "restarted 1 time since the baseline (restarts 0 → 1); last exit: Exit Code: 137"},
		},
		{
			name:   "unhealthy",
			change: func(t *testing.T, s *nomadsim.Server, _ *nomadwatch.Client) { must(t, s.SetUnhealthy("open-webui")) },
			want:   []nomadwatch.Kind{nomadwatch.KindAllocUnhealthy},
			says:   []string{"on hestia is unhealthy after the baseline (was healthy)"},
		},
		{
			name:   "job stopped",
			change: func(t *testing.T, s *nomadsim.Server, _ *nomadwatch.Client) { must(t, s.StopJob("plex")) },
			want:   []nomadwatch.Kind{nomadwatch.KindJobStopped},
			says:   []string{"job plex: stopped after the baseline (was running)"},
		},
		{
			name: "job purged",
			change: func(t *testing.T, _ *nomadsim.Server, c *nomadwatch.Client) {
				_, _, err := c.API().Jobs().Deregister("whoami", true, nil)
				must(t, err)
			},
			want: []nomadwatch.Kind{nomadwatch.KindJobMissing},
			says: []string{"job whoami: no longer registered in Nomad"},
		},
		{
			name:   "node down",
			change: func(t *testing.T, s *nomadsim.Server, _ *nomadwatch.Client) { must(t, s.SetNodeDown("nyx")) },
			want:   []nomadwatch.Kind{nomadwatch.KindAllocLost, nomadwatch.KindAllocLost},
			says:   []string{"job echo: allocation ", "job overseerr: allocation "},
		},
		{
			name: "job updated to a new version",
			change: func(t *testing.T, _ *nomadsim.Server, c *nomadwatch.Client) {
				job, _, err := c.API().Jobs().Info("whoami", nil)
				must(t, err)
				job.Meta["image"] = "traefik/whoami:v1.11"
				_, _, err = c.API().Jobs().Register(job, nil)
				must(t, err)
			},
		},
		{
			name: "periodic job ran",
			change: func(t *testing.T, s *nomadsim.Server, _ *nomadwatch.Client) {
				_, err := s.LaunchPeriodic("backup")
				must(t, err)
			},
		},
		{
			name:   "periodic parent stopped is still a stop",
			change: func(t *testing.T, s *nomadsim.Server, _ *nomadwatch.Client) { must(t, s.StopJob("backup")) },
			want:   []nomadwatch.Kind{nomadwatch.KindJobStopped},
			says:   []string{"job backup: stopped"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sim := startSim(t, nomadsim.Options{Token: token})
			c := newClient(t, sim.URL(), token)
			ctx := context.Background()
			before, err := nomadwatch.TakeBaseline(ctx, c)
			if err != nil {
				t.Fatal(err)
			}
			// The baseline lives in a JSON state file between runs.
			raw, err := json.Marshal(before)
			if err != nil {
				t.Fatal(err)
			}
			var stored nomadwatch.Baseline
			if err := json.Unmarshal(raw, &stored); err != nil {
				t.Fatal(err)
			}

			tt.change(t, sim, c)
			after, err := nomadwatch.TakeBaseline(ctx, c)
			if err != nil {
				t.Fatal(err)
			}
			regs := nomadwatch.Compare(stored, after)
			var kinds []nomadwatch.Kind
			for _, r := range regs {
				kinds = append(kinds, r.Kind)
			}
			if !reflect.DeepEqual(kinds, tt.want) {
				t.Fatalf("regressions %v, want kinds %v", regs, tt.want)
			}
			for i, w := range tt.says {
				if !strings.Contains(regs[min(i, len(regs)-1)].Message, w) {
					t.Errorf("regression %q lacks %q", regs[min(i, len(regs)-1)].Message, w)
				}
			}
		})
	}
}

func TestBaselineShape(t *testing.T) {
	sim := startSim(t, nomadsim.Options{})
	b, err := nomadwatch.TakeBaseline(context.Background(), newClient(t, sim.URL(), ""))
	if err != nil {
		t.Fatal(err)
	}
	if b.Version != nomadwatch.BaselineVersion || b.Address != sim.URL() || b.TakenAt.IsZero() {
		t.Errorf("baseline header %d %q %v", b.Version, b.Address, b.TakenAt)
	}
	jobs, allocs := b.Running()
	if jobs != 9 || allocs != 10 {
		t.Errorf("running jobs %d, allocations %d; want 9 and 10 (%s)", jobs, allocs, b)
	}
	echo, ok := b.Job("echo")
	if !ok || len(echo.Groups) != 2 || echo.Groups[0].Desired != 1 || echo.Groups[0].Running != 1 {
		t.Errorf("echo groups %+v", echo.Groups)
	}
	for _, a := range echo.Allocs {
		if a.Healthy == nil || !*a.Healthy || len(a.Tasks) != 2 {
			t.Errorf("echo alloc %+v, want healthy with task + connect proxy", a)
		}
	}
	var child bool
	for _, j := range b.Jobs {
		child = child || (j.ParentID == "backup" && j.Status == "dead")
	}
	if parent, _ := b.Job("backup"); !parent.Periodic || !child {
		t.Errorf("backup: periodic parent %+v, dead child seen %v", parent, child)
	}
}

func TestNodeOverhead(t *testing.T) {
	sim := startSim(t, nomadsim.Options{Token: token})
	if err := sim.SetNodeDown("nyx"); err != nil {
		t.Fatal(err)
	}
	got, err := nomadwatch.NodeOverhead(context.Background(), newClient(t, sim.URL(), token))
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 3 {
		t.Fatalf("got %d nodes: %+v", len(got), got)
	}
	for _, m := range got {
		if m.Node == "nyx" {
			if m.Skipped == "" {
				t.Errorf("down node nyx not skipped: %+v", m)
			}
			continue
		}
		// rounding each figure down to whole MB may cost one MB
		if d := m.OutsideAllocationsMB - nomadsim.AgentMemoryMiB; d < -1 || d > 1 || m.AllocationsMB <= 0 {
			t.Errorf("%s: outside allocations %d MB (want ~%d), allocations %d MB", m.Node, m.OutsideAllocationsMB, nomadsim.AgentMemoryMiB, m.AllocationsMB)
		}
		if m.HostCPUMHz-m.AllocationsCPUMHz != nomadsim.AgentCPUMHz || m.AllocationsCPUMHz <= 0 {
			t.Errorf("%s: CPU host %d MHz, allocations %d MHz; want the agents' %d MHz outside allocations", m.Node, m.HostCPUMHz, m.AllocationsCPUMHz, nomadsim.AgentCPUMHz)
		}
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// BenchmarkBaselineAndCompare is the Nomad guard's cost per stage boundary:
// two requests and a comparison, whatever the number of jobs.
func BenchmarkBaselineAndCompare(b *testing.B) {
	sim := nomadsim.New(nomadsim.Options{Token: token})
	if err := sim.Start("127.0.0.1:0"); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = sim.Close() })
	c, err := nomadwatch.NewClient(sim.URL(), token)
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	before, err := nomadwatch.TakeBaseline(ctx, c)
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		after, err := nomadwatch.TakeBaseline(ctx, c)
		if err != nil {
			b.Fatal(err)
		}
		if regs := nomadwatch.Compare(before, after); len(regs) != 0 {
			b.Fatalf("unexpected regressions %v", regs)
		}
	}
}
