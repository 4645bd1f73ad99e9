package traefiktest

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/pem"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/skeema/knownhosts"
	"golang.org/x/crypto/ssh"
	"k8s.io/apimachinery/pkg/util/wait"

	"migrate-tui/internal/sshinstall"
)

// SSHD is an sshd on loopback standing in for Hestia: its host key is in
// KnownHosts, the key in Auth logs in.
type SSHD struct {
	Addr string
	Auth sshinstall.Auth
}

// StartSSHD runs Debian's sshd on a loopback port (needs root, as the
// sshinstall tests do).
func StartSSHD(t testing.TB) *SSHD {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Fatal("the SSH route test runs sshd, which needs root (hack/test.sh runs as root)")
	}
	if _, err := os.Stat("/usr/sbin/sshd"); err != nil {
		t.Fatal("sshd not found: apt-get install -y openssh-server (hack/test.sh installs it)")
	}
	os.MkdirAll("/run/sshd", 0o755)
	dir := t.TempDir()
	pemKey := func(path string) ssh.PublicKey {
		pub, priv, err := ed25519.GenerateKey(rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		block, err := ssh.MarshalPrivateKey(priv, "")
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, pem.EncodeToMemory(block), 0o600); err != nil {
			t.Fatal(err)
		}
		pk, _ := ssh.NewPublicKey(pub)
		return pk
	}
	hostKey := filepath.Join(dir, "host_key")
	hk := pemKey(hostKey)
	clientKey := filepath.Join(dir, "id_ed25519")
	ck := pemKey(clientKey)
	authKeys := filepath.Join(dir, "authorized_keys")
	os.WriteFile(authKeys, ssh.MarshalAuthorizedKey(ck), 0o600)
	addr := FreePort(t)
	host, port, _ := net.SplitHostPort(addr)
	cmd := exec.Command("/usr/sbin/sshd", "-D", "-e", "-f", "/dev/null", "-o", "HostKey="+hostKey, "-o", "ListenAddress="+host,
		"-o", "Port="+port, "-o", "AuthorizedKeysFile="+authKeys, "-o", "StrictModes=no", "-o", "PidFile="+filepath.Join(dir, "sshd.pid"),
		"-o", "PermitRootLogin=prohibit-password", "-o", "UsePAM=no")
	logf, _ := os.Create(filepath.Join(dir, "sshd.log"))
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
		logf.Close()
	})
	err := wait.PollUntilContextTimeout(context.Background(), 50*time.Millisecond, 2*time.Minute, true, func(context.Context) (bool, error) {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err != nil {
			return false, nil
		}
		c.Close()
		return true, nil
	})
	if err != nil {
		b, _ := os.ReadFile(filepath.Join(dir, "sshd.log"))
		t.Fatalf("sshd at %s never answered: %v\n%s", addr, err, b)
	}
	known := filepath.Join(dir, "known_hosts")
	os.WriteFile(known, []byte(knownhosts.Line([]string{addr}, hk)+"\n"), 0o600)
	return &SSHD{Addr: addr, Auth: sshinstall.Auth{User: "root", KeyFiles: []string{clientKey}, KnownHosts: []string{known}, AgentSocket: "/nonexistent", Timeout: 5 * time.Second}}
}
