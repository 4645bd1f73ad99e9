package sandbox_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	nomad "github.com/hashicorp/nomad/api"
	vault "github.com/hashicorp/vault/api"
	"github.com/miekg/dns"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"

	"migrate-tui/internal/sandbox"
	"migrate-tui/internal/testtools"
)

// serveEnv makes the re-executed test binary act as the sandbox server, as
// `migrate-tui sandbox serve` does for the CLI.
const serveEnv = "MIGRATE_TUI_SANDBOX_TEST_SERVE"

// nomadFromEnv is `sandbox serve --nomad-from` for the re-executed server
// (the token comes from NOMAD_TOKEN, as in the CLI).
const nomadFromEnv = "MIGRATE_TUI_SANDBOX_TEST_NOMAD_FROM"

func TestMain(m *testing.M) {
	if dir := os.Getenv(serveEnv); dir != "" {
		so := sandbox.ServeOptions{NomadFrom: os.Getenv(nomadFromEnv), NomadFromToken: os.Getenv("NOMAD_TOKEN")}
		if err := sandbox.ServeWith(context.Background(), dir, so, os.Stderr); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

func TestUpEnvDownRoundTrip(t *testing.T) {
	stateDir := filepath.Join(t.TempDir(), "sandbox")
	t.Setenv(serveEnv, stateDir)
	up := sandbox.UpOptions{StateDir: stateDir, Command: []string{os.Args[0], "-test.run=^$"}}
	t.Cleanup(func() { _ = sandbox.Down(stateDir, 10*time.Second) })

	ctx, cancel := context.WithTimeout(context.Background(), 6*time.Minute)
	defer cancel()
	env, already, err := sandbox.Up(ctx, up)
	if err != nil {
		t.Fatal(err)
	}
	if already {
		t.Fatal("first Up reported an already running sandbox")
	}
	if !strings.HasPrefix(env.NomadAddr, "http://127.0.0.1:") || env.NomadToken == "" || env.PID == 0 || len(env.PIDs) < 6 {
		t.Fatalf("env %+v: want a loopback Nomad address, a token, the server pid and the world's pids", env)
	}
	exports := env.Exports()
	for _, want := range []string{"export KUBECONFIG=" + env.Kubeconfig, "NOMAD_ADDR=" + env.NomadAddr, "NOMAD_TOKEN=" + env.NomadToken} {
		if !strings.Contains(exports, want) {
			t.Errorf("exports %q lack %q", exports, want)
		}
	}
	// As root the real Traefik runs (its own network namespace); its
	// websecure address is exported for check's SC-004 and its API answers.
	if os.Geteuid() == 0 {
		if !strings.HasPrefix(env.IngressAddr, "127.0.0.1:") || !strings.Contains(exports, "MIGRATE_TUI_INGRESS_ADDR="+env.IngressAddr) {
			t.Errorf("ingress address %q / exports %q: want Traefik's loopback websecure address as MIGRATE_TUI_INGRESS_ADDR", env.IngressAddr, exports)
		}
		resp, err := http.Get(env.TraefikAPI + "/ping")
		if err != nil || resp.StatusCode != http.StatusOK {
			t.Errorf("Traefik's /ping at %s: %v %v", env.TraefikAPI, resp, err)
		}
		if resp != nil {
			resp.Body.Close()
		}
	}

	// Evaluated by a shell, the exports put the built tofu first on PATH and
	// point OpenTofu at a CLI config that installs from the tools mirror.
	sh := exec.Command("/bin/sh", "-c", `eval "$EXPORTS"; command -v tofu; echo "$TF_CLI_CONFIG_FILE"; echo "$PATH"`)
	sh.Env = append(os.Environ(), "EXPORTS="+exports, "PATH=/usr/bin:/bin", "TF_CLI_CONFIG_FILE=/root/.terraformrc")
	out, err := sh.Output()
	if err != nil {
		t.Fatalf("eval %q: %v", exports, err)
	}
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	wantTofu, err := testtools.Bin("tofu")
	if err != nil {
		t.Fatal(err)
	}
	if len(lines) != 3 || lines[0] != wantTofu || lines[1] != env.TFCLIConfigFile || lines[2] != filepath.Dir(wantTofu)+":/usr/bin:/bin" {
		t.Fatalf("after eval: tofu, TF_CLI_CONFIG_FILE, PATH = %q; want %s, %s, %s:/usr/bin:/bin", lines, wantTofu, env.TFCLIConfigFile, filepath.Dir(wantTofu))
	}
	if filepath.Dir(env.TFCLIConfigFile) != stateDir {
		t.Errorf("TF_CLI_CONFIG_FILE %s is not in the state directory %s", env.TFCLIConfigFile, stateDir)
	}
	mirror, err := testtools.ProviderMirror()
	if err != nil {
		t.Fatal(err)
	}
	rc, err := os.ReadFile(env.TFCLIConfigFile)
	if err != nil || !strings.Contains(string(rc), "filesystem_mirror") || !strings.Contains(string(rc), mirror) {
		t.Errorf("CLI config %s = %q, %v; want a filesystem_mirror at %s", env.TFCLIConfigFile, rc, err, mirror)
	}

	// The kubeconfig reaches a cluster with the three homelab nodes Ready.
	cfg, err := clientcmd.BuildConfigFromFlags("", env.Kubeconfig)
	if err != nil {
		t.Fatal(err)
	}
	kube, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	nodes, err := kube.CoreV1().Nodes().List(ctx, metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	ready := map[string]bool{}
	for _, n := range nodes.Items {
		for _, c := range n.Status.Conditions {
			if c.Type == corev1.NodeReady && c.Status == corev1.ConditionTrue {
				ready[n.Name] = true
			}
		}
	}
	if !ready["hestia"] || !ready["heracles"] || !ready["nyx"] || len(ready) != 3 {
		t.Errorf("Ready nodes %v: want hestia, heracles, nyx", ready)
	}

	// The Nomad address serves the simulator to a real nomad/api client.
	nc, err := nomad.NewClient(&nomad.Config{Address: env.NomadAddr, SecretID: env.NomadToken})
	if err != nil {
		t.Fatal(err)
	}
	jobs, _, err := nc.Jobs().List(nil)
	if err != nil {
		t.Fatalf("Nomad jobs through the sandbox: %v", err)
	}
	if len(jobs) == 0 {
		t.Error("the sandbox's Nomad has no jobs")
	}

	// The Vault address serves the simulator to a real vault/api client, with
	// the KV v2 secret Nomad's template blocks read.
	if !strings.Contains(exports, "VAULT_ADDR="+env.VaultAddr) || env.VaultToken == "" {
		t.Errorf("exports %q lack VAULT_ADDR=%s and a token", exports, env.VaultAddr)
	}
	vc, err := vault.NewClient(&vault.Config{Address: env.VaultAddr})
	if err != nil {
		t.Fatal(err)
	}
	vc.SetToken(env.VaultToken)
	sec, err := vc.KVv2("nomad").Get(ctx, "default/overseerr")
	if err != nil || sec == nil || sec.Data["api_key"] == nil {
		t.Errorf("Vault KV nomad/default/overseerr through the sandbox: %v %v", sec, err)
	}

	// CoreDNS (K3s's Corefile) and the Consul DNS stand-in, seeded with what
	// the homelab registers in Consul: the simulator's Consul services, Vault.
	if env.ClusterDNS == "" || env.ConsulDNS == "" || !strings.Contains(exports, "MIGRATE_TUI_CLUSTER_DNS="+env.ClusterDNS) || !strings.Contains(exports, "MIGRATE_TUI_CONSUL_DNS="+env.ConsulDNS) {
		t.Errorf("env %+v / exports %q lack the cluster DNS and the Consul DNS stand-in", env, exports)
	}
	for _, name := range []string{"vault.service.consul", "minio-minio.service.consul", "echo.service.consul"} {
		m := new(dns.Msg)
		m.SetQuestion(dns.Fqdn(name), dns.TypeA)
		r, _, err := new(dns.Client).Exchange(m, env.ConsulDNS)
		if err != nil || len(r.Answer) != 1 || r.Answer[0].(*dns.A).A.String() != "127.0.0.1" {
			t.Errorf("%s from the Consul DNS stand-in %s: %v %v, want A 127.0.0.1", name, env.ConsulDNS, r, err)
		}
	}
	m := new(dns.Msg)
	m.SetQuestion("kubernetes.default.svc.cluster.local.", dns.TypeA)
	if r, _, err := new(dns.Client).Exchange(m, env.ClusterDNS); err != nil || len(r.Answer) != 1 {
		t.Errorf("kubernetes.default.svc.cluster.local from the sandbox's CoreDNS %s: %v %v", env.ClusterDNS, r, err)
	}

	// A second up finds the running one.
	env2, already, err := sandbox.Up(ctx, up)
	if err != nil || !already || env2.PID != env.PID {
		t.Fatalf("second Up: env pid %d, already %v, err %v; want the running pid %d, already true", env2.PID, already, err, env.PID)
	}
	got, err := sandbox.ReadEnv(stateDir)
	if err != nil || got.Kubeconfig != env.Kubeconfig || got.NomadAddr != env.NomadAddr || got.TFCLIConfigFile != env.TFCLIConfigFile || got.ToolsBin != env.ToolsBin {
		t.Fatalf("ReadEnv: %+v, %v; want %+v", got, err, env)
	}

	if err := sandbox.Down(stateDir, 30*time.Second); err != nil {
		t.Fatal(err)
	}
	for _, pid := range append([]int{env.PID}, env.PIDs...) {
		if processExists(pid) {
			t.Errorf("process %d still exists after Down", pid)
		}
	}
	if _, err := os.Stat(stateDir); !os.IsNotExist(err) {
		t.Errorf("state directory %s still there after Down (%v)", stateDir, err)
	}
	if _, err := sandbox.ReadEnv(stateDir); !errors.Is(err, sandbox.ErrNotRunning) {
		t.Errorf("ReadEnv after Down: %v, want ErrNotRunning", err)
	}
	if err := sandbox.Down(stateDir, time.Second); !errors.Is(err, sandbox.ErrNotRunning) {
		t.Errorf("second Down: %v, want ErrNotRunning", err)
	}
}

func TestUpReportsAServerThatDies(t *testing.T) {
	stateDir := filepath.Join(t.TempDir(), "sandbox")
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	_, _, err := sandbox.Up(ctx, sandbox.UpOptions{StateDir: stateDir, Command: []string{"/bin/sh", "-c", "echo the world is broken >&2; exit 3"}})
	if err == nil {
		t.Fatal("Up succeeded with a server that exits")
	}
	if !strings.Contains(err.Error(), "the world is broken") {
		t.Errorf("error %q does not show the server's log", err)
	}
	if _, err := sandbox.ReadEnv(stateDir); !errors.Is(err, sandbox.ErrNotRunning) {
		t.Errorf("ReadEnv after a failed Up: %v, want ErrNotRunning", err)
	}
}

func TestExportsQuoting(t *testing.T) {
	e := sandbox.Env{Kubeconfig: "/home/o'brien/kube config", NomadAddr: "http://127.0.0.1:4646", NomadToken: "abc-123",
		TFCLIConfigFile: "/s/tofu.rc", ToolsBin: "/home/x y/bin"}
	want := `export KUBECONFIG='/home/o'\''brien/kube config' NOMAD_ADDR=http://127.0.0.1:4646 NOMAD_TOKEN=abc-123` +
		` TF_CLI_CONFIG_FILE=/s/tofu.rc PATH='/home/x y/bin':"$PATH"`
	if got := e.Exports(); got != want {
		t.Errorf("Exports() = %s, want %s", got, want)
	}
}

// processExists reports a live, non-zombie process.
func processExists(pid int) bool {
	if err := syscall.Kill(pid, 0); errors.Is(err, syscall.ESRCH) {
		return false
	}
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return false
	}
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	return i < 0 || i+2 >= len(s) || s[i+2] != 'Z'
}

func TestARecycledPIDIsNotTheSandbox(t *testing.T) {
	stateDir := t.TempDir()
	// This test process is alive, but it is not what the record says.
	record := fmt.Sprintf("%d 1\n", os.Getpid())
	if err := os.WriteFile(filepath.Join(stateDir, "serve.pid"), []byte(record), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(stateDir, "env.json"), []byte(`{"pid": 1}`), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := sandbox.ReadEnv(stateDir); !errors.Is(err, sandbox.ErrNotRunning) {
		t.Errorf("ReadEnv with a pid record of another process: %v, want ErrNotRunning", err)
	}
	if err := sandbox.Down(stateDir, time.Second); !errors.Is(err, sandbox.ErrNotRunning) {
		t.Errorf("Down with a pid record of another process: %v, want ErrNotRunning (and no signal sent)", err)
	}
}
