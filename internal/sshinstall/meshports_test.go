package sshinstall

import (
	"context"
	"strings"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/util/wait"
)

// TestPreflightProbesTheMeshPorts: with service_mesh = cilium the preflight
// probes Cilium's TCP ports from the other nodes (a node that drops them
// fails, naming 4240 and 4244) and refuses a node where one is taken; with
// linkerd it probes only K3s's ports and says the mesh needs the pod CIDRs
// through the firewall instead.
func TestPreflightProbesTheMeshPorts(t *testing.T) {
	l := newLab(t, testNode{Name: "hestia"}, testNode{Name: "nyx"})
	clients := l.dialAll(t, []string{"hestia", "nyx"})
	ctx := context.Background()
	ghost := Node{Name: "heracles", Address: l.subnet + ".250", Arch: "arm64", Role: "agent"}
	nodes := []Node{{Name: "hestia", Address: l.addrs["hestia"], Role: "server"}, {Name: "nyx", Address: l.addrs["nyx"], Role: "server"}, ghost}

	e := &Env{Nodes: nodes, Clients: clients, Mesh: "cilium"}
	r := checkReachable(ctx, e, ghost)
	for _, want := range []string{"4240/tcp from hestia", "4244/tcp from nyx", "10250/tcp from hestia"} {
		if r.Status != Fail || !strings.Contains(r.Evidence, want) {
			t.Errorf("cilium, firewalled node: %+v, want %q blocked", r, want)
		}
	}
	if !strings.Contains(r.Hint, "--add-port=4240/tcp") || !strings.Contains(r.Hint, "--add-port=51871/udp") {
		t.Errorf("hint %q does not open Cilium's ports", r.Hint)
	}
	e.Mesh = "linkerd"
	r = checkReachable(ctx, e, ghost)
	if strings.Contains(r.Evidence, "4240") || strings.Contains(r.Hint, "4240") || !strings.Contains(r.Evidence, "10250/tcp from hestia") {
		t.Errorf("linkerd, firewalled node: %+v, want K3s's ports only", r)
	}

	// Between live nodes Cilium's ports answer (refused: nothing listens).
	e.Mesh, e.Nodes = "cilium", nodes[:2]
	if r := checkReachable(ctx, e, nodes[0]); r.Status != Pass || !strings.Contains(r.Evidence, "51871/udp") {
		t.Fatalf("cilium between live nodes: %+v", r)
	}
	e.Mesh = "linkerd"
	if r := checkReachable(ctx, e, nodes[0]); r.Status != Pass || !strings.Contains(r.Evidence, "pod and service CIDRs") {
		t.Fatalf("linkerd between live nodes: %+v", r)
	}

	// Something on hestia holds Cilium's health port.
	hold := `python3 -c 'import socket,time
s=socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1); s.bind(("0.0.0.0", 4240)); s.listen(); time.sleep(300)' >/dev/null 2>&1 </dev/null & echo $!`
	out, err := clients["hestia"].Run(ctx, hold, nil, false)
	if err != nil || out.Exit != 0 {
		t.Fatalf("starting a listener on 4240: %v %+v", err, out)
	}
	pid := strings.TrimSpace(out.Stdout)
	t.Cleanup(func() { clients["hestia"].Run(context.Background(), "kill "+pid, nil, false) })
	// The listener binds asynchronously: look again until it shows.
	var free CheckResult
	e.Mesh = "cilium"
	_ = wait.PollUntilContextTimeout(ctx, 100*time.Millisecond, time.Minute, true, func(ctx context.Context) (bool, error) {
		free = checkPortsFree(ctx, e, nodes[0])
		return free.Status == Fail, nil
	})
	if free.Status != Fail || !strings.Contains(free.Evidence, "4240/tcp") || !strings.Contains(free.Hint, "4240/tcp") {
		t.Fatalf("cilium, 4240 taken: %+v", free)
	}
	e.Mesh = "linkerd"
	if r := checkPortsFree(ctx, e, nodes[0]); r.Status != Pass {
		t.Fatalf("linkerd does not need 4240: %+v", r)
	}
}
