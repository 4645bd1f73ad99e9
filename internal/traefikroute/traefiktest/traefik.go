// Package traefiktest runs the real Traefik v3 (the binary hack/bootstrap.sh
// builds) with the file provider watching a directory, as the external
// Traefik on Hestia runs, and an sshd on loopback to reach that directory
// the way migrate-tui reaches Hestia.
package traefiktest

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/util/wait"

	"migrate-tui/internal/testtools"
)

// Traefik is a running external Traefik.
type Traefik struct {
	Websecure string // 127.0.0.1:port of the websecure entrypoint (TLS)
	API       string // http://127.0.0.1:port (api.insecure, ping)
	Dir       string // the watched directory
	Log       string // its log file
}

const static = `global:
  checkNewVersion: false
  sendAnonymousUsage: false
log:
  level: INFO
  noColor: true
entryPoints:
  websecure:
    address: "%[1]s"
    http:
      tls: {}
  traefik:
    address: "%[2]s"
api:
  insecure: true
  dashboard: false
ping: {}
providers:
  file:
    directory: "%[3]s"
    watch: true
`

// FreePort is a loopback port nothing listens on now.
func FreePort(t testing.TB) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// Start runs Traefik watching dir and waits for /ping.
func Start(t testing.TB, dir string) *Traefik {
	t.Helper()
	bin, err := testtools.Bin("traefik")
	if err != nil {
		t.Fatal(err)
	}
	work := t.TempDir()
	tr := &Traefik{Websecure: FreePort(t), Dir: dir, Log: filepath.Join(work, "traefik.log")}
	apiAddr := FreePort(t)
	tr.API = "http://" + apiAddr
	cfg := filepath.Join(work, "traefik.yml")
	if err := os.WriteFile(cfg, fmt.Appendf(nil, static, tr.Websecure, apiAddr, dir), 0o600); err != nil {
		t.Fatal(err)
	}
	logf, err := os.Create(tr.Log)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "--configFile="+cfg)
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
		logf.Close()
	})
	client := &http.Client{Timeout: 2 * time.Second}
	err = wait.PollUntilContextTimeout(context.Background(), 100*time.Millisecond, 2*time.Minute, true, func(ctx context.Context) (bool, error) {
		resp, err := client.Get(tr.API + "/ping")
		if err != nil {
			return false, nil
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK, nil
	})
	if err != nil {
		b, _ := os.ReadFile(tr.Log)
		t.Fatalf("traefik never answered /ping at %s: %v\n%s", tr.API, err, b)
	}
	return tr
}

// DumpLog prints Traefik's log when the test failed.
func (tr *Traefik) DumpLog(t testing.TB) {
	t.Helper()
	if t.Failed() {
		b, _ := os.ReadFile(tr.Log)
		t.Logf("traefik log:\n%s", b)
	}
}
