package sshinstall

import (
	"crypto/ed25519"
	"crypto/rand"
	"encoding/hex"
	"encoding/pem"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/skeema/knownhosts"
	"golang.org/x/crypto/ssh"
)

// testNode describes one sshd "node" in its own network namespace.
type testNode struct {
	Name    string
	Machine string // what uname -m reports ("" = the host's)
	Cmdline string // a fake /proc/cmdline ("" = the host's)
	Cgroups string // a fake /proc/cgroups ("" = the host's)
}

// lab is a set of sshd nodes on a private bridge: the host side is .1, node
// i is .(i+2); each sshd runs in its own network, mount and UTS namespace
// (hostname = node name; /etc/rancher, /var/lib/rancher and /usr/local/bin
// are private tmpfs, so each node installs into its own filesystem view).
type lab struct {
	t          *testing.T
	dir        string
	bridge     string
	subnet     string // e.g. 10.231.42
	hostIP     string
	addrs      map[string]string // node -> ip:22
	hostKeys   map[string]ssh.PublicKey
	keyFile    string
	knownHosts string
}

// privateDirs are the directories each node sees as its own tmpfs, beside
// /usr/local/bin: what the K3s install and uninstall write or remove, so
// nothing reaches the host's.
var privateDirs = []string{"/etc/rancher", "/var/lib/rancher", "/var/lib/kubelet", "/var/lib/cni", "/opt/cni", "/etc/cni", "/etc/systemd/system", "/run/netns"}

func requireRoot(t *testing.T) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Fatal("the SSH tests run sshd in network namespaces and need root (hack/test.sh runs as root)")
	}
	if _, err := os.Stat("/usr/sbin/sshd"); err != nil {
		t.Fatal("sshd not found: apt-get install -y openssh-server (hack/test.sh installs it)")
	}
}

func sh(t *testing.T, args ...string) {
	t.Helper()
	if out, err := exec.Command(args[0], args[1:]...).CombinedOutput(); err != nil {
		t.Fatalf("%s: %v: %s", strings.Join(args, " "), err, out)
	}
}

// freeSubnet picks a 10.231.N /24 no host interface already has: a lab
// left behind by a killed run keeps its bridge, and a second bridge on the
// same subnet would send this lab's traffic to the old one's namespaces.
func freeSubnet(t *testing.T, seed byte) string {
	t.Helper()
	out, err := exec.Command("ip", "-o", "-4", "addr", "show").Output()
	if err != nil {
		t.Fatalf("ip addr show: %v", err)
	}
	for i := 0; i < 200; i++ {
		s := fmt.Sprintf("10.231.%d", 10+(int(seed)+i)%200)
		if !strings.Contains(string(out), " "+s+".") {
			return s
		}
	}
	t.Fatal("every 10.231.N subnet is taken by another bridge; remove stale h6b* bridges (ip link del NAME)")
	return ""
}

func newLab(t *testing.T, nodes ...testNode) *lab {
	requireRoot(t)
	id := make([]byte, 3)
	rand.Read(id)
	tag := hex.EncodeToString(id)
	l := &lab{t: t, dir: t.TempDir(), bridge: "h6b" + tag, subnet: freeSubnet(t, id[0]),
		addrs: map[string]string{}, hostKeys: map[string]ssh.PublicKey{}}
	l.hostIP = l.subnet + ".1"

	// Mount points for the per-node tmpfs views must exist on the host.
	for _, d := range privateDirs {
		if _, err := os.Stat(d); os.IsNotExist(err) {
			os.MkdirAll(d, 0o755)
			t.Cleanup(func() { os.Remove(d) })
		}
	}
	os.MkdirAll("/run/sshd", 0o755)

	sh(t, "ip", "link", "add", l.bridge, "type", "bridge")
	t.Cleanup(func() { exec.Command("ip", "link", "del", l.bridge).Run() })
	sh(t, "ip", "addr", "add", l.hostIP+"/24", "dev", l.bridge)
	sh(t, "ip", "link", "set", l.bridge, "up")

	// The client key all nodes accept.
	pub, priv, _ := ed25519.GenerateKey(rand.Reader)
	pk, _ := ssh.NewPublicKey(pub)
	block, _ := ssh.MarshalPrivateKey(priv, "")
	l.keyFile = filepath.Join(l.dir, "id_ed25519")
	os.WriteFile(l.keyFile, pem.EncodeToMemory(block), 0o600)
	authKeys := filepath.Join(l.dir, "authorized_keys")
	os.WriteFile(authKeys, ssh.MarshalAuthorizedKey(pk), 0o600)

	for i, n := range nodes {
		ns := fmt.Sprintf("h6n%s%d", tag, i)
		veth, peer := fmt.Sprintf("h6v%s%d", tag, i), fmt.Sprintf("h6p%s%d", tag, i)
		ip := fmt.Sprintf("%s.%d", l.subnet, i+2)
		sh(t, "ip", "netns", "add", ns)
		t.Cleanup(func() { exec.Command("ip", "netns", "del", ns).Run() })
		sh(t, "ip", "link", "add", veth, "type", "veth", "peer", "name", peer)
		t.Cleanup(func() { exec.Command("ip", "link", "del", veth).Run() })
		sh(t, "ip", "link", "set", peer, "netns", ns)
		sh(t, "ip", "link", "set", veth, "master", l.bridge)
		sh(t, "ip", "link", "set", veth, "up")
		sh(t, "ip", "-n", ns, "addr", "add", ip+"/24", "dev", peer)
		sh(t, "ip", "-n", ns, "link", "set", peer, "up")
		sh(t, "ip", "-n", ns, "link", "set", "lo", "up")

		nd := filepath.Join(l.dir, n.Name)
		os.MkdirAll(nd, 0o755)
		hpub, hpriv, _ := ed25519.GenerateKey(rand.Reader)
		hk, _ := ssh.NewPublicKey(hpub)
		hblock, _ := ssh.MarshalPrivateKey(hpriv, "")
		hostKey := filepath.Join(nd, "host_key")
		os.WriteFile(hostKey, pem.EncodeToMemory(hblock), 0o600)
		l.hostKeys[n.Name] = hk

		var mounts []string
		for _, d := range append([]string{"/usr/local/bin"}, privateDirs...) {
			mounts = append(mounts, "mount -t tmpfs none "+d)
		}
		fake := func(name, content, target string) {
			p := filepath.Join(nd, name)
			os.WriteFile(p, []byte(content), 0o755)
			mounts = append(mounts, fmt.Sprintf("mount --bind %s %s", p, target))
		}
		if n.Cmdline != "" {
			fake("cmdline", n.Cmdline+"\n", "/proc/cmdline")
		}
		if n.Cgroups != "" {
			fake("cgroups", n.Cgroups, "/proc/cgroups")
		}
		if n.Machine != "" {
			fake("uname", "#!/bin/sh\nif [ \"$1\" = -m ]; then echo "+n.Machine+"; else echo Linux; fi\n", "/usr/bin/uname")
		}
		script := fmt.Sprintf("set -e; hostname %s; %s; exec /usr/sbin/sshd -D -e -f /dev/null -o HostKey=%s -o ListenAddress=%s -o Port=22 -o AuthorizedKeysFile=%s -o StrictModes=no -o PidFile=%s -o PermitRootLogin=prohibit-password -o UsePAM=no",
			n.Name, strings.Join(mounts, "; "), hostKey, ip, authKeys, filepath.Join(nd, "sshd.pid"))
		cmd := exec.Command("ip", "netns", "exec", ns, "unshare", "--mount", "--uts", "--propagation", "private", "sh", "-c", script)
		logf, _ := os.Create(filepath.Join(nd, "sshd.log"))
		cmd.Stdout, cmd.Stderr = logf, logf
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() {
			cmd.Process.Kill()
			cmd.Wait()
			logf.Close()
		})
		l.addrs[n.Name] = net.JoinHostPort(ip, "22")
	}
	// Wait for every sshd to accept connections.
	for name, a := range l.addrs {
		deadline := time.Now().Add(2 * time.Minute) // a hang, not a busy machine, fails
		for {
			c, err := net.DialTimeout("tcp", a, time.Second)
			if err == nil {
				c.Close()
				break
			}
			if time.Now().After(deadline) {
				log, _ := os.ReadFile(filepath.Join(l.dir, name, "sshd.log"))
				t.Fatalf("sshd of %s at %s never answered: %v\n%s", name, a, err, log)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	l.knownHosts = filepath.Join(l.dir, "known_hosts")
	l.writeKnownHosts()
	return l
}

// writeKnownHosts records the host keys of the given nodes (all if none).
func (l *lab) writeKnownHosts(only ...string) {
	var b strings.Builder
	for name, k := range l.hostKeys {
		if len(only) > 0 && !contains(only, name) {
			continue
		}
		b.WriteString(knownhosts.Line([]string{l.addrs[name]}, k) + "\n")
	}
	os.WriteFile(l.knownHosts, []byte(b.String()), 0o600)
}

func contains(xs []string, x string) bool {
	for _, y := range xs {
		if y == x {
			return true
		}
	}
	return false
}

func (l *lab) auth() Auth {
	return Auth{User: "root", KeyFiles: []string{l.keyFile}, KnownHosts: []string{l.knownHosts}, AgentSocket: "/nonexistent", Timeout: 5 * time.Second}
}
