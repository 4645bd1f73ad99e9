package checks_test

import (
	"bytes"
	"context"
	"encoding/json"
	"net"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	"migrate-tui/internal/checks"
)

func TestRunBoundsConcurrencyAndKeepsOrder(t *testing.T) {
	var running, peak atomic.Int32
	mk := func(id string) checks.Check {
		return checks.Check{ID: id, Title: "t " + id, Run: func(ctx context.Context, d *checks.Deps) checks.Result {
			n := running.Add(1)
			for {
				p := peak.Load()
				if n <= p || peak.CompareAndSwap(p, n) {
					break
				}
			}
			// Hold the slot until ctx says stop or others had a chance to pile up.
			select {
			case <-ctx.Done():
			case <-time.After(20 * time.Millisecond):
			}
			running.Add(-1)
			return checks.Result{Status: checks.Pass, Evidence: id}
		}}
	}
	var cs []checks.Check
	for _, id := range []string{"A", "B", "C", "D", "E", "F"} {
		cs = append(cs, mk(id))
	}
	var seen []string
	rs := checks.Run(context.Background(), cs, &checks.Deps{}, checks.RunOptions{Concurrency: 2}, checks.ObserverFunc(func(r checks.Result) { seen = append(seen, r.ID) }))
	if peak.Load() > 2 {
		t.Errorf("peak concurrency %d, want <= 2", peak.Load())
	}
	for i, r := range rs {
		if r.ID != cs[i].ID || r.Status != checks.Pass || r.Title != cs[i].Title {
			t.Errorf("result %d = %+v, want %s pass", i, r, cs[i].ID)
		}
	}
	if len(seen) != len(cs) {
		t.Errorf("observer saw %d results, want %d", len(seen), len(cs))
	}
}

func TestRunHungCheckFailsUnreachable(t *testing.T) {
	block := make(chan struct{})
	defer close(block)
	c := checks.Check{ID: "X", Title: "hangs", Run: func(ctx context.Context, d *checks.Deps) checks.Result {
		<-block // ignores ctx on purpose
		return checks.Result{Status: checks.Pass}
	}}
	rs := checks.Run(context.Background(), []checks.Check{c}, nil, checks.RunOptions{Timeout: 200 * time.Millisecond}, nil)
	if rs[0].Status != checks.Fail || !strings.Contains(rs[0].Evidence, "unreachable") {
		t.Fatalf("got %+v, want fail unreachable", rs[0])
	}
}

func TestRunPanicIsAFail(t *testing.T) {
	c := checks.Check{ID: "P", Title: "panics", Run: func(ctx context.Context, d *checks.Deps) checks.Result { panic("boom") }}
	rs := checks.Run(context.Background(), []checks.Check{c}, nil, checks.RunOptions{}, nil)
	if rs[0].Status != checks.Fail || !strings.Contains(rs[0].Evidence, "boom") {
		t.Fatalf("got %+v", rs[0])
	}
}

func TestEventuallyRetriesUntilPass(t *testing.T) {
	var n atomic.Int32
	c := checks.Check{ID: "E", Title: "converges", Eventually: true, Hint: "default hint", Run: func(ctx context.Context, d *checks.Deps) checks.Result {
		if n.Add(1) < 3 {
			return checks.Result{Status: checks.Fail, Evidence: "not yet"}
		}
		return checks.Result{Status: checks.Pass, Evidence: "now"}
	}}
	rs := checks.Run(context.Background(), []checks.Check{c}, nil, checks.RunOptions{Wait: time.Minute, Timeout: 2 * time.Minute, RetryEvery: time.Millisecond}, nil)
	if rs[0].Status != checks.Pass || n.Load() != 3 {
		t.Fatalf("got %+v after %d attempts, want pass after 3", rs[0], n.Load())
	}
	// Without Wait there is one attempt, and the default hint fills in.
	n.Store(0)
	rs = checks.Run(context.Background(), []checks.Check{c}, nil, checks.RunOptions{RetryEvery: time.Millisecond}, nil)
	if rs[0].Status != checks.Fail || n.Load() != 1 || rs[0].Hint != "default hint" {
		t.Fatalf("got %+v after %d attempts, want one failed attempt with the default hint", rs[0], n.Load())
	}
}

func TestFinalSeesPrior(t *testing.T) {
	var got []checks.Result
	cs := []checks.Check{
		{ID: "Z", Title: "final", Final: true, Run: func(ctx context.Context, d *checks.Deps) checks.Result {
			got = d.Prior
			return checks.Result{Status: checks.Pass}
		}},
		{ID: "A", Title: "a", Run: func(ctx context.Context, d *checks.Deps) checks.Result { return checks.Result{Status: checks.Warn} }},
	}
	rs := checks.Run(context.Background(), cs, nil, checks.RunOptions{}, nil)
	if len(got) != 1 || got[0].ID != "A" || got[0].Status != checks.Warn {
		t.Fatalf("final saw %+v", got)
	}
	if rs[0].ID != "Z" || rs[1].ID != "A" {
		t.Fatalf("order %s %s", rs[0].ID, rs[1].ID)
	}
}

func TestSelect(t *testing.T) {
	sel, unknown := checks.Select(checks.All(), []string{"SC-001", "SC-004", "SC-099"}, []string{"SC-004"})
	if len(sel) != 1 || sel[0].ID != "SC-001" || len(unknown) != 1 || unknown[0] != "SC-099" {
		t.Fatalf("selected %v unknown %v", sel, unknown)
	}
	if all := checks.All(); len(all) != 10 {
		t.Fatalf("%d checks, want SC-001..SC-010", len(all))
	}
}

func TestJSONShape(t *testing.T) {
	rs := []checks.Result{
		{ID: "SC-001", Title: "a", Status: checks.Pass, Evidence: "e", Duration: 1500 * time.Millisecond},
		{ID: "SC-002", Title: "b", Status: checks.Fail, Evidence: "f", Hint: "h"},
		{ID: "SC-003", Title: "c", Status: checks.Warn},
		{ID: "SC-007", Title: "d", Status: checks.Skip},
	}
	var buf bytes.Buffer
	if err := checks.WriteJSON(&buf, rs); err != nil {
		t.Fatal(err)
	}
	var got struct {
		Checks  []map[string]any `json:"checks"`
		Summary map[string]int   `json:"summary"`
	}
	dec := json.NewDecoder(&buf)
	dec.DisallowUnknownFields()
	if err := dec.Decode(&got); err != nil {
		t.Fatal(err)
	}
	want := []string{"duration_ms", "evidence", "hint", "id", "status", "title"}
	for _, c := range got.Checks {
		if len(c) != len(want) {
			t.Errorf("check keys %v, want %v", c, want)
		}
		for _, k := range want {
			if _, ok := c[k]; !ok {
				t.Errorf("check lacks %q: %v", k, c)
			}
		}
	}
	if got.Checks[0]["duration_ms"].(float64) != 1500 {
		t.Errorf("duration_ms %v", got.Checks[0]["duration_ms"])
	}
	if got.Summary["pass"] != 1 || got.Summary["fail"] != 1 || got.Summary["warn"] != 1 || got.Summary["skip"] != 1 || got.Summary["unobservable"] != 0 || len(got.Summary) != 5 {
		t.Errorf("summary %v", got.Summary)
	}
}

func TestTableTerseOnPassHintsOnFail(t *testing.T) {
	var buf bytes.Buffer
	_ = checks.WriteTable(&buf, []checks.Result{{ID: "SC-001", Title: "ok", Status: checks.Pass, Evidence: "all good"}}, false)
	if strings.Contains(buf.String(), "all good") {
		t.Errorf("passing evidence shown without --verbose:\n%s", buf.String())
	}
	buf.Reset()
	_ = checks.WriteTable(&buf, []checks.Result{{ID: "SC-004", Title: "tls", Status: checks.Fail, Evidence: "expired", Hint: "renew it"}}, false)
	if !strings.Contains(buf.String(), "expired") || !strings.Contains(buf.String(), "renew it") {
		t.Errorf("failure without evidence and hint:\n%s", buf.String())
	}
}

// An API server that accepts connections and never answers must give
// "unreachable" fails within the timeout, never a hang or a pass.
func TestSilentAPIServerIsUnreachable(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			defer c.Close() // hold it open, say nothing
		}
	}()
	cfg := &rest.Config{Host: "https://" + ln.Addr().String(), TLSClientConfig: rest.TLSClientConfig{Insecure: true}}
	kube := kubernetes.NewForConfigOrDie(cfg)
	dyn := dynamic.NewForConfigOrDie(cfg)
	d := &checks.Deps{Kube: kube, Dynamic: dyn, Decisions: checks.DefaultDecisions()}
	sel, _ := checks.Select(checks.All(), []string{"SC-001", "SC-002", "SC-009", "SC-010"}, nil)
	rs := checks.Run(context.Background(), sel, d, checks.RunOptions{Timeout: time.Second}, nil)
	for _, r := range rs {
		if r.Status != checks.Fail || !strings.Contains(r.Evidence, "unreachable") {
			t.Errorf("%s: %s %q, want fail unreachable", r.ID, r.Status, r.Evidence)
		}
	}
}
