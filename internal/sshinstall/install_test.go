package sshinstall

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/agent"
	"k8s.io/client-go/tools/clientcmd"

	"migrate-tui/internal/k3sconfig"
)

// standIn is the stand-in for get.k3s.io: it records what each node asked
// for (hostname = node name), the tokens and auto-deploy manifests present
// when it ran, fakes `k3s kubectl get --raw /readyz` and `get nodes -o json`
// from the nodes installed so far, writes a kubeconfig on servers and, like
// the real installer, k3s-uninstall.sh (servers) or k3s-agent-uninstall.sh
// (agents) that records its run.
//
// Like K3s with flannel-backend none, once a server with that setting is
// installed (cni-pending) every node reports NotReady until the CNI runs,
// which the test signals with the file cni-released. events.log says, per
// install, whether the nodes were Ready at that moment.
const standIn = `#!/bin/sh
set -eu
R=%[1]s
n=$(hostname)
echo "$n $INSTALL_K3S_EXEC $INSTALL_K3S_VERSION" >> $R/order.log
cp /etc/rancher/k3s/config.yaml $R/$n.config.yaml
[ -s /etc/rancher/k3s/cluster-token ] && sha256sum /etc/rancher/k3s/cluster-token | cut -c1-64 > $R/$n.token-sha
[ -s /etc/rancher/k3s/agent-token ] && sha256sum /etc/rancher/k3s/agent-token | cut -c1-64 > $R/$n.agent-token-sha
m=/var/lib/rancher/k3s/server/manifests/migrate-tui-cilium.yaml
[ -e $m ] && cp $m $R/$n.cilium.yaml
grep -q '^flannel-backend: "none"' /etc/rancher/k3s/config.yaml && touch $R/cni-pending
state=Ready
[ -e $R/cni-pending ] && [ ! -e $R/cni-released ] && state=NotReady
echo "$n installed while nodes $state" >> $R/events.log
cat > /usr/local/bin/k3s <<'K3S'
#!/bin/sh
if [ "$*" = "kubectl get --raw /readyz" ]; then
  [ -e %[1]s/$(hostname).installed ] && echo ok && exit 0
  echo "The connection to the server 127.0.0.1:6443 was refused" >&2
  exit 1
fi
if [ "$*" = "kubectl get nodes -o json" ]; then
  ready=True
  [ -e %[1]s/cni-pending ] && [ ! -e %[1]s/cni-released ] && ready=False
  printf '{"apiVersion":"v1","kind":"NodeList","items":['
  sep=
  for f in %[1]s/*.installed; do
    [ -e "$f" ] || continue
    printf '%%s{"metadata":{"name":"%%s"},"status":{"conditions":[{"type":"Ready","status":"%%s"}]}}' "$sep" "$(basename "$f" .installed)" "$ready"
    sep=,
  done
  printf ']}\n'
  exit 0
fi
echo "fake k3s: $*" >&2
exit 1
K3S
chmod 755 /usr/local/bin/k3s
# The service manager the uninstall talks to: it records each stop.
cat > /usr/local/bin/systemctl <<'SYSTEMCTL'
#!/bin/sh
[ "$1" = stop ] && echo "$(hostname) stop $2" >> %[1]s/order.log
exit 0
SYSTEMCTL
chmod 755 /usr/local/bin/systemctl
un=/usr/local/bin/k3s-uninstall.sh
[ "$INSTALL_K3S_EXEC" = agent ] && un=/usr/local/bin/k3s-agent-uninstall.sh
cat > $un <<'UN'
#!/bin/sh
echo "$(hostname) uninstall" >> %[1]s/order.log
rm -f %[1]s/$(hostname).installed
UN
chmod 755 $un
if [ "$INSTALL_K3S_EXEC" = server ]; then
cat > /etc/rancher/k3s/k3s.yaml <<'KC'
apiVersion: v1
kind: Config
clusters:
- cluster:
    certificate-authority-data: dGVzdC1jYQ==
    server: https://127.0.0.1:6443
  name: default
contexts:
- context:
    cluster: default
    user: default
  name: default
current-context: default
users:
- name: default
  user:
    token: stand-in
KC
fi
touch $R/$n.installed
`

// releaseCNIOnFinalWait wraps a progress function: when the install starts
// its final wait for every node to be Ready (so after every join), the CNI
// "comes up". An install that waited for a Ready node before joining would
// never get there.
func releaseCNIOnFinalWait(records string, next func(Step)) func(Step) {
	return func(s Step) {
		if strings.HasPrefix(s.What, "waiting for ") && strings.HasSuffix(s.What, " to be Ready") {
			os.WriteFile(filepath.Join(records, "cni-released"), nil, 0o644)
		}
		if next != nil {
			next(s)
		}
	}
}

type installerServer struct {
	URL string
	mu  sync.Mutex
	hit []string // remote IPs, in order
}

func serveStandIn(t *testing.T, l *lab, records string) *installerServer {
	t.Helper()
	ln, err := net.Listen("tcp", net.JoinHostPort(l.hostIP, "0"))
	if err != nil {
		t.Fatal(err)
	}
	s := &installerServer{URL: "http://" + ln.Addr().String() + "/install.sh"}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		host, _, _ := net.SplitHostPort(r.RemoteAddr)
		s.mu.Lock()
		s.hit = append(s.hit, host)
		s.mu.Unlock()
		fmt.Fprintf(w, standIn, records)
	})}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	return s
}

func (l *lab) decisions(names []string, arch map[string]string) k3sconfig.Decisions {
	d := k3sconfig.Defaults()
	d.Nodes = nil
	for _, n := range names {
		d.Nodes = append(d.Nodes, k3sconfig.Node{Name: n, Address: hostOnly(l.addrs[n]), Arch: arch[n], Role: "server"})
	}
	return d
}

func (l *lab) dialAll(t *testing.T, names []string) map[string]*Client {
	t.Helper()
	cs := map[string]*Client{}
	for _, n := range names {
		c, err := Dial(context.Background(), n, l.addrs[n], l.auth())
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		cs[n] = c
	}
	return cs
}

var threeNodes = []testNode{{Name: "hestia"}, {Name: "heracles", Machine: "aarch64"}, {Name: "nyx", Machine: "aarch64"}}
var threeArch = map[string]string{"hestia": "amd64", "heracles": "arm64", "nyx": "arm64"}

func TestPreflightAndInstallInOrder(t *testing.T) {
	l := newLab(t, threeNodes...)
	names := []string{"hestia", "heracles", "nyx"}
	clients := l.dialAll(t, names)
	ctx := context.Background()

	var nodes []Node
	for _, n := range names {
		nodes = append(nodes, Node{Name: n, Address: l.addrs[n], Arch: threeArch[n], Role: "server", NomadMemoryMB: 64000, NomadAllocatedMB: 2000})
	}
	results := Preflight(ctx, &Env{Nodes: nodes, Clients: clients, ServerMemoryMB: 1024, AgentMemoryMB: 512})
	for _, r := range results {
		if r.Status == Fail {
			t.Errorf("preflight %s/%s failed: %s (hint: %s)", r.Node, r.ID, r.Evidence, r.Hint)
		}
	}
	if len(results) != len(names)*len(Checks()) {
		t.Fatalf("%d results, want %d", len(results), len(names)*len(Checks()))
	}

	records := filepath.Join(l.dir, "records")
	os.MkdirAll(records, 0o777)
	inst := serveStandIn(t, l, records)
	files, err := k3sconfig.Render(l.decisions(names, threeArch))
	if err != nil {
		t.Fatal(err)
	}
	kubeconfig := filepath.Join(t.TempDir(), "kube", "k3s.yaml")
	var steps []Step
	err = Install(ctx, InstallOptions{Files: files, Clients: clients, InstallerURL: inst.URL, KubeconfigPath: kubeconfig,
		Poll: 50e6, Progress: releaseCNIOnFinalWait(records, func(s Step) { steps = append(steps, s) })})
	if err != nil {
		t.Fatal(err)
	}

	order, _ := os.ReadFile(filepath.Join(records, "order.log"))
	wantOrder := "hestia server v1.34.3+k3s1\nheracles server v1.34.3+k3s1\nnyx server v1.34.3+k3s1\n"
	if string(order) != wantOrder {
		t.Fatalf("installer runs:\n%s\nwant:\n%s", order, wantOrder)
	}
	if len(inst.hit) != 3 || inst.hit[0] != hostOnly(l.addrs["hestia"]) {
		t.Fatalf("installer downloads from %v, want hestia first and one per node", inst.hit)
	}
	for i, f := range files {
		got, err := os.ReadFile(filepath.Join(records, f.Node.Name+".config.yaml"))
		if err != nil {
			t.Fatal(err)
		}
		if string(got) != string(f.Config) {
			t.Errorf("%s got config:\n%s\nwant:\n%s", f.Node.Name, got, f.Config)
		}
		init := strings.Contains(string(got), "cluster-init: true")
		if init != (i == 0) {
			t.Errorf("%s: cluster-init in config = %v, want it only on the first server", f.Node.Name, init)
		}
	}
	var shas []string
	for _, n := range names {
		b, err := os.ReadFile(filepath.Join(records, n+".token-sha"))
		if err != nil {
			t.Fatalf("%s had no join token when the installer ran", n)
		}
		shas = append(shas, string(b))
	}
	if shas[0] != shas[1] || shas[1] != shas[2] {
		t.Error("nodes got different join tokens")
	}
	for _, n := range names {
		b, err := os.ReadFile(filepath.Join(records, n+".agent-token-sha"))
		if err != nil {
			t.Fatalf("server %s had no agent token when the installer ran (agent-token-file)", n)
		}
		if string(b) == shas[0] {
			t.Fatalf("the agent token is the server token")
		}
		shas = append(shas, string(b))
	}
	for _, s := range steps {
		for _, sha := range shas {
			if strings.Contains(s.What, strings.TrimSpace(sha)) {
				t.Fatal("progress mentions the token")
			}
		}
	}

	cfg, err := clientcmd.LoadFromFile(kubeconfig)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := cfg.Clusters["default"].Server, "https://"+hostOnly(l.addrs["hestia"])+":6443"; got != want {
		t.Errorf("kubeconfig server = %s, want %s", got, want)
	}
	if st, _ := os.Stat(kubeconfig); st.Mode().Perm() != 0o600 {
		t.Errorf("kubeconfig mode %v, want 0600", st.Mode().Perm())
	}

	// Uninstall runs on every node, the first server last, with our own
	// script: K3s's k3s-uninstall.sh (whose killall deletes Nomad's CNI-
	// rules) is never run.
	if err := Uninstall(ctx, InstallOptions{Files: files, Clients: clients}); err != nil {
		t.Fatal(err)
	}
	order, _ = os.ReadFile(filepath.Join(records, "order.log"))
	if !strings.HasSuffix(string(order), "nyx stop k3s\nheracles stop k3s\nhestia stop k3s\n") || strings.Contains(string(order), "uninstall") {
		t.Fatalf("uninstall order:\n%s", order)
	}
	for _, n := range names {
		r, err := clients[n].Run(ctx, "test -e /usr/local/bin/k3s || test -e /etc/rancher/k3s/config.yaml || test -e "+k3sconfig.TokenFile, nil, false)
		if err != nil || r.Exit == 0 {
			t.Errorf("%s: K3s's binary, config or token is still there after the uninstall (%v)", n, err)
		}
	}
}

func TestPreflightCatchesDisabledMemoryCgroup(t *testing.T) {
	cgroupsOff := "#subsys_name\thierarchy\tnum_cgroups\tenabled\ncpu\t1\t1\t1\nmemory\t0\t1\t0\n"
	l := newLab(t, testNode{Name: "hestia"}, testNode{Name: "heracles", Machine: "aarch64",
		Cmdline: "console=serial0,115200 root=PARTUUID=1 rootwait cgroup_disable=memory", Cgroups: cgroupsOff})
	names := []string{"hestia", "heracles"}
	clients := l.dialAll(t, names)
	nodes := []Node{{Name: "hestia", Address: l.addrs["hestia"], Arch: "amd64", Role: "server"},
		{Name: "heracles", Address: l.addrs["heracles"], Arch: "arm64", Role: "server"}}
	results := Preflight(context.Background(), &Env{Nodes: nodes, Clients: clients, ServerMemoryMB: 1024})
	failed := Failed(results)
	if len(failed) != 1 || failed[0].Node != "heracles" || failed[0].ID != "memory-cgroup" {
		t.Fatalf("failed checks = %+v, want only heracles/memory-cgroup", failed)
	}
	f := failed[0]
	if !strings.Contains(f.Evidence, "cgroup_disable=memory") || !strings.Contains(f.Hint, "cgroup_memory=1 cgroup_enable=memory") {
		t.Fatalf("result = %+v, want the cmdline named and the fix in the hint", f)
	}
}

func TestUnknownAndChangedHostKeysRefused(t *testing.T) {
	l := newLab(t, testNode{Name: "hestia"}, testNode{Name: "nyx"})
	l.writeKnownHosts("hestia") // nyx's key was never recorded
	_, err := Dial(context.Background(), "nyx", l.addrs["nyx"], l.auth())
	var he *HostKeyError
	if !errors.As(err, &he) || he.Changed || !strings.Contains(err.Error(), "is not in") {
		t.Fatalf("unknown host key: %v, want a HostKeyError saying it is not in known_hosts", err)
	}
	if _, err := Dial(context.Background(), "hestia", l.addrs["hestia"], l.auth()); err != nil {
		t.Fatalf("known host refused: %v", err)
	}
	// Record nyx under hestia's key: a changed key.
	l.hostKeys["nyx"] = l.hostKeys["hestia"]
	l.writeKnownHosts()
	_, err = Dial(context.Background(), "nyx", l.addrs["nyx"], l.auth())
	if !errors.As(err, &he) || !he.Changed || !strings.Contains(err.Error(), "CHANGED") {
		t.Fatalf("changed host key: %v, want a HostKeyError saying it changed", err)
	}
	// No known_hosts file at all is refused too.
	a := l.auth()
	a.KnownHosts = []string{filepath.Join(t.TempDir(), "absent")}
	if _, err := Dial(context.Background(), "hestia", l.addrs["hestia"], a); err == nil {
		t.Fatal("connected without a known_hosts file")
	}
}

func TestUnreachablePortsAreReported(t *testing.T) {
	l := newLab(t, testNode{Name: "hestia"}, testNode{Name: "nyx"})
	clients := l.dialAll(t, []string{"hestia", "nyx"})
	// A node nothing answers for (like a firewall that drops): every port
	// probe from the others comes back blocked.
	ghost := Node{Name: "heracles", Address: l.subnet + ".250", Arch: "arm64", Role: "server"}
	e := &Env{Nodes: []Node{{Name: "hestia", Address: l.addrs["hestia"], Role: "server"}, {Name: "nyx", Address: l.addrs["nyx"], Role: "server"}, ghost}, Clients: clients}
	r := checkReachable(context.Background(), e, ghost)
	if r.Status != Fail || !strings.Contains(r.Evidence, "6443/tcp from hestia") || !strings.Contains(r.Evidence, "2380/tcp from nyx") {
		t.Fatalf("result = %+v, want 6443..2380 blocked from hestia and nyx", r)
	}
	// Between the live nodes the ports answer (refused: nothing listens yet).
	e.Nodes = e.Nodes[:2]
	if r := checkReachable(context.Background(), e, e.Nodes[0]); r.Status != Pass {
		t.Fatalf("hestia reachable = %+v", r)
	}
}

func TestAgentAuth(t *testing.T) {
	l := newLab(t, testNode{Name: "hestia"})
	key, err := os.ReadFile(l.keyFile)
	if err != nil {
		t.Fatal(err)
	}
	priv, err := ssh.ParseRawPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	kr := agent.NewKeyring()
	if err := kr.Add(agent.AddedKey{PrivateKey: priv}); err != nil {
		t.Fatal(err)
	}
	sock := filepath.Join(t.TempDir(), "agent.sock")
	ln, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() { agent.ServeAgent(kr, c); c.Close() }()
		}
	}()
	a := l.auth()
	a.KeyFiles, a.AgentSocket = nil, sock
	c, err := Dial(context.Background(), "hestia", l.addrs["hestia"], a)
	if err != nil {
		t.Fatalf("login through ssh-agent: %v", err)
	}
	r, err := c.Run(context.Background(), "hostname", nil, false)
	c.Close()
	if err != nil || strings.TrimSpace(r.Stdout) != "hestia" {
		t.Fatalf("hostname = %q, %v", r.Stdout, err)
	}
	// No agent and no key: a clear refusal before connecting.
	a.AgentSocket = filepath.Join(t.TempDir(), "none")
	if _, err := Dial(context.Background(), "hestia", l.addrs["hestia"], a); err == nil || !strings.Contains(err.Error(), "ssh-agent") {
		t.Fatalf("no key: %v", err)
	}
}

func TestRunClusterFromTheRepository(t *testing.T) {
	cgroupsOff := "#subsys_name\thierarchy\tnum_cgroups\tenabled\nmemory\t0\t1\t0\n"
	l := newLab(t, testNode{Name: "hestia"}, testNode{Name: "heracles", Machine: "aarch64", Cmdline: "root=/dev/mmcblk0p2 cgroup_disable=memory", Cgroups: cgroupsOff},
		testNode{Name: "nyx", Machine: "aarch64"})
	records := filepath.Join(l.dir, "records")
	os.MkdirAll(records, 0o777)
	inst := serveStandIn(t, l, records)
	repo := t.TempDir()
	kubeconfig := filepath.Join(t.TempDir(), "k3s.yaml")
	node := func(name, arch, role string) string {
		return fmt.Sprintf("{ name = %q, address = %q, arch = %q, role = %q }", name, hostOnly(l.addrs[name]), arch, role)
	}
	write := func(topology string, nodes ...string) {
		os.WriteFile(filepath.Join(repo, "terraform.tfvars"), []byte(fmt.Sprintf("kubeconfig_path = %q\ncontrol_plane_topology = %q\nnodes = [%s]\n",
			kubeconfig, topology, strings.Join(nodes, ", "))), 0o644)
	}
	o := ClusterOptions{RepoDir: repo, Auth: l.auth(), InstallerURL: inst.URL, Progress: releaseCNIOnFinalWait(records, nil)}

	// Heracles's boot command line disables the memory cgroup: preflight
	// stops everything before a single node is touched.
	write("ha-3-servers", node("hestia", "amd64", "server"), node("heracles", "arm64", "server"), node("nyx", "arm64", "server"))
	results, err := RunCluster(context.Background(), o)
	var pe *PreflightError
	if !errors.As(err, &pe) || len(pe.Failed) != 1 || pe.Failed[0].Node != "heracles" || !strings.Contains(err.Error(), "cgroup_enable=memory") {
		t.Fatalf("RunCluster = %v (results %d), want heracles's memory cgroup to stop it", err, len(results))
	}
	if len(inst.hit) != 0 {
		t.Fatalf("the installer was fetched %d times although preflight failed", len(inst.hit))
	}

	// Without heracles (one server, one agent) the install runs and the
	// kubeconfig lands at kubeconfig_path.
	write("1-server-2-agents", node("hestia", "amd64", "server"), node("nyx", "arm64", "agent"))
	if _, err := RunCluster(context.Background(), o); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(kubeconfig); err != nil {
		t.Fatalf("no kubeconfig at kubeconfig_path: %v", err)
	}
	o.Uninstall = true
	if _, err := RunCluster(context.Background(), o); err != nil {
		t.Fatal(err)
	}
	order, _ := os.ReadFile(filepath.Join(records, "order.log"))
	if string(order) != "hestia server v1.34.3+k3s1\nnyx agent v1.34.3+k3s1\nnyx stop k3s-agent\nhestia stop k3s\n" {
		t.Fatalf("installer runs:\n%s", order)
	}
}
