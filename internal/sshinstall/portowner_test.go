package sshinstall

import (
	"context"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/util/wait"
)

// TestHelperListen is not a test: started as a child process (through a
// symlink, so its process name is the link's) it listens on the port in
// SSHINSTALL_LISTEN and writes SSHINSTALL_READY.
func TestHelperListen(t *testing.T) {
	port := os.Getenv("SSHINSTALL_LISTEN")
	if port == "" {
		return
	}
	ln, err := net.Listen("tcp", ":"+port)
	if err != nil {
		os.Exit(3)
	}
	defer ln.Close()
	// Written whole, then renamed: the parent polls the file and must never
	// read half a PID (it kills what it reads).
	ready := os.Getenv("SSHINSTALL_READY")
	if os.WriteFile(ready+".tmp", []byte(strconv.Itoa(os.Getpid())), 0o644) != nil || os.Rename(ready+".tmp", ready) != nil {
		os.Exit(4)
	}
	time.Sleep(10 * time.Minute)
	os.Exit(0)
}

// listenAs starts a process named name on node, listening on port, and
// kills it when the test ends.
func listenAs(t *testing.T, c *Client, name string, port int) {
	t.Helper()
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	link := filepath.Join(dir, name)
	if err := os.Symlink(self, link); err != nil {
		t.Fatal(err)
	}
	ready := filepath.Join(dir, "ready")
	cmd := fmt.Sprintf("env SSHINSTALL_LISTEN=%d SSHINSTALL_READY=%s setsid %s -test.run='^TestHelperListen$' </dev/null >/dev/null 2>&1 &", port, ready, link)
	if r, err := c.Run(context.Background(), cmd, nil, true); err != nil || r.Exit != 0 {
		t.Fatalf("%s: %v %+v", cmd, err, r)
	}
	var pid int
	// Starting a test binary over ssh on a busy machine takes seconds; only
	// a hang outlasts two minutes.
	err = wait.PollUntilContextTimeout(context.Background(), 50*time.Millisecond, 2*time.Minute, true, func(context.Context) (bool, error) {
		b, err := os.ReadFile(ready)
		if err != nil || len(b) == 0 {
			return false, nil
		}
		pid, _ = strconv.Atoi(string(b))
		return pid > 0, nil
	})
	if err != nil {
		t.Fatalf("%s never listened on %d", name, port)
	}
	t.Cleanup(func() { syscall.Kill(pid, syscall.SIGKILL) })
}

// Resuming an interrupted install: a node where K3s already listens on its
// ports passes ports-free (before the fix it failed and blocked the rerun);
// a port held by another program still fails, naming it.
func TestPortsFreeAcceptsK3sItself(t *testing.T) {
	l := newLab(t, testNode{Name: "hestia"})
	clients := l.dialAll(t, []string{"hestia"})
	c := clients["hestia"]
	n := Node{Name: "hestia", Address: l.addrs["hestia"], Arch: "amd64", Role: "server"}
	e := &Env{Nodes: []Node{n}, Clients: clients}
	ctx := context.Background()

	listenAs(t, c, "k3s-server", 6443)
	if r, err := c.Run(ctx, "mkdir -p /var/lib/rancher/k3s/server && echo x > "+K3sServerTokenPath, nil, true); err != nil || r.Exit != 0 {
		t.Fatal(err, r)
	}
	r := checkPortsFree(ctx, e, n)
	if r.Status != Pass || !strings.Contains(r.Evidence, "6443/tcp (k3s-server(") {
		t.Fatalf("K3s on its own port: %+v", r)
	}

	listenAs(t, c, "squatter", 10250)
	r = checkPortsFree(ctx, e, n)
	if r.Status != Fail || !strings.Contains(r.Evidence, "10250/tcp held by squatter(") || strings.Contains(r.Evidence, "6443") {
		t.Fatalf("another program on 10250: %+v", r)
	}
}

func TestParseSS(t *testing.T) {
	out := `tcp LISTEN 0 4096 *:6443 *:* users:(("k3s-server",pid=812,fd=14))
tcp LISTEN 0 4096 [::]:10250 [::]:* users:(("k3s-server",pid=812,fd=20),("nomad",pid=9,fd=3))
udp UNCONN 0 0 0.0.0.0:8472 0.0.0.0:*
tcp LISTEN 0 4096 127.0.0.1%lo:2379 0.0.0.0:* users:(("etcd",pid=5,fd=7))
garbage line
`
	o := parseSS(out)
	mine, foreign := splitBusyByOwner([]string{"6443/tcp", "10250/tcp", "8472/udp", "2379/tcp", "2380/tcp"}, o, true)
	if strings.Join(mine, "|") != "6443/tcp (k3s-server(812))|8472/udp (kernel socket)" {
		t.Errorf("mine = %q", mine)
	}
	if strings.Join(foreign, "|") != "10250/tcp held by k3s-server(812), nomad(9)|2379/tcp held by etcd(5)|2380/tcp (owner unknown)" {
		t.Errorf("foreign = %q", foreign)
	}
	// Where K3s never ran, a kernel socket on 8472/udp is someone else's.
	if _, f := splitBusyByOwner([]string{"8472/udp"}, o, false); len(f) != 1 {
		t.Errorf("kernel socket without K3s: %q", f)
	}
}

// The installer reads ss output from the node: hostile lines never panic.
func FuzzParseSS(f *testing.F) {
	f.Add(`tcp LISTEN 0 4096 *:6443 *:* users:(("k3s-server",pid=812,fd=14))`)
	f.Add("udp UNCONN 0 0 [::]:8472 [::]:*\n")
	f.Add(`tcp LISTEN 0 1 :: :: users:(("",pid=,fd=))`)
	f.Fuzz(func(t *testing.T, out string) {
		o := parseSS(out)
		var busy []string
		for k := range o {
			busy = append(busy, k)
		}
		mine, foreign := splitBusyByOwner(append(busy, "1/tcp"), o, true)
		if len(mine)+len(foreign) != len(busy)+1 {
			t.Fatalf("lost ports: %d+%d of %d", len(mine), len(foreign), len(busy)+1)
		}
	})
}
