package sshinstall

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"migrate-tui/internal/k3sconfig"
)

// TestCiliumInstallDoesNotStall installs one server and two agents with
// service_mesh = cilium on sshd nodes whose stand-in K3s keeps every node
// NotReady until the CNI runs (flannel-backend none). The Cilium HelmChart
// must be on the first server's disk when K3s installs there, before any
// join; the joins must happen while the nodes are still NotReady; the agents
// must hold the agent token only.
func TestCiliumInstallDoesNotStall(t *testing.T) {
	l := newLab(t, threeNodes...)
	names := []string{"hestia", "heracles", "nyx"}
	clients := l.dialAll(t, names)
	records := filepath.Join(l.dir, "records")
	os.MkdirAll(records, 0o777)
	inst := serveStandIn(t, l, records)

	d := l.decisions(names, threeArch)
	d.Topology = k3sconfig.TopologyOneServer
	d.Nodes[1].Role, d.Nodes[2].Role = k3sconfig.RoleAgent, k3sconfig.RoleAgent
	files, err := k3sconfig.Render(d)
	if err != nil {
		t.Fatal(err)
	}
	want, err := k3sconfig.CiliumHelmChart(d)
	if err != nil {
		t.Fatal(err)
	}
	err = Install(context.Background(), InstallOptions{Files: files, Clients: clients, InstallerURL: inst.URL,
		KubeconfigPath: filepath.Join(t.TempDir(), "k3s.yaml"), Poll: 50 * time.Millisecond, ReadyTimeout: 3 * time.Minute,
		Progress: releaseCNIOnFinalWait(records, nil)})
	if err != nil {
		t.Fatal(err)
	}

	got, err := os.ReadFile(filepath.Join(records, "hestia.cilium.yaml"))
	if err != nil {
		t.Fatalf("the Cilium HelmChart was not in hestia's %s when its installer ran", k3sconfig.ManifestsDir)
	}
	if string(got) != string(want) {
		t.Errorf("hestia's HelmChart differs from CiliumHelmChart:\n%s", got)
	}
	for _, n := range []string{"heracles", "nyx"} {
		if _, err := os.Stat(filepath.Join(records, n+".cilium.yaml")); err == nil {
			t.Errorf("agent %s got the Cilium HelmChart; only the first server's deploy controller applies it", n)
		}
	}
	// The stand-in ran hestia first; the agents joined while every node was
	// NotReady (the CNI came up only in the final wait).
	events, _ := os.ReadFile(filepath.Join(records, "events.log"))
	wantEvents := "hestia installed while nodes NotReady\nheracles installed while nodes NotReady\nnyx installed while nodes NotReady\n"
	if string(events) != wantEvents {
		t.Fatalf("install events:\n%s\nwant:\n%s", events, wantEvents)
	}

	serverToken, _ := os.ReadFile(filepath.Join(records, "hestia.token-sha"))
	agentToken, _ := os.ReadFile(filepath.Join(records, "hestia.agent-token-sha"))
	if len(serverToken) == 0 || len(agentToken) == 0 || string(serverToken) == string(agentToken) {
		t.Fatalf("hestia: server token %q, agent token %q: want two different tokens", serverToken, agentToken)
	}
	for _, n := range []string{"heracles", "nyx"} {
		if _, err := os.Stat(filepath.Join(records, n+".token-sha")); err == nil {
			t.Errorf("agent %s holds the server token %s", n, k3sconfig.TokenFile)
		}
		b, err := os.ReadFile(filepath.Join(records, n+".agent-token-sha"))
		if err != nil || string(b) != string(agentToken) {
			t.Errorf("agent %s: agent token %q, want hestia's", n, b)
		}
		cfg, _ := os.ReadFile(filepath.Join(records, n+".config.yaml"))
		if !strings.Contains(string(cfg), "token-file: \""+k3sconfig.AgentTokenFile+"\"") {
			t.Errorf("agent %s joins with:\n%s", n, cfg)
		}
	}
}

// TestReadyTimeoutNamesTheCNI: when the CNI never comes up, the install
// fails after the joins with the reason and where to look.
func TestReadyTimeoutNamesTheCNI(t *testing.T) {
	l := newLab(t, testNode{Name: "hestia"})
	clients := l.dialAll(t, []string{"hestia"})
	records := filepath.Join(l.dir, "records")
	os.MkdirAll(records, 0o777)
	inst := serveStandIn(t, l, records)
	d := l.decisions([]string{"hestia"}, threeArch)
	d.Topology = k3sconfig.TopologyOneServer
	files, err := k3sconfig.Render(d)
	if err != nil {
		t.Fatal(err)
	}
	err = Install(context.Background(), InstallOptions{Files: files, Clients: clients, InstallerURL: inst.URL,
		KubeconfigPath: filepath.Join(t.TempDir(), "k3s.yaml"), Poll: 50 * time.Millisecond, ReadyTimeout: 15 * time.Second})
	if err == nil || !strings.Contains(err.Error(), "not Ready yet: hestia") || !strings.Contains(err.Error(), "helmchart cilium") {
		t.Fatalf("Install = %v, want a Ready timeout naming hestia and the Cilium HelmChart", err)
	}
}
