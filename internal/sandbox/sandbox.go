// Package sandbox runs the test world and the Nomad simulator as a detached
// "homelab in a box": Up starts a background server process (a re-exec of
// the migrate-tui binary), Serve is what that process runs, ReadEnv reads what
// it published, Down stops it and removes its files.
package sandbox

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"k8s.io/apimachinery/pkg/util/wait"

	"migrate-tui/internal/atomicfile"
	"migrate-tui/internal/checks"
	"migrate-tui/internal/nomadsim"
	"migrate-tui/internal/testtools"
	"migrate-tui/internal/testworld"
	"migrate-tui/internal/vaultsim"
)

// Files in the state directory.
const (
	pidFile   = "serve.pid"  // the server process, written by Up
	envFile   = "env.json"   // the published Env, written by Serve when ready
	shellFile = "env.sh"     // the same as export lines
	logFile   = "serve.log"  // the server process's output
	kubeFile  = "kubeconfig" // admin kubeconfig of the sandbox's API server
	worldDir  = "world"      // the test world's directories and logs
	// tofu.rc, the OpenTofu/Terraform CLI config testtools.WriteCLIConfig
	// writes: providers come from the tools mirror, never the network.
	cliConfigFile = "tofu.rc"
)

// ErrNotRunning is returned when no sandbox runs in the state directory.
var ErrNotRunning = errors.New("sandbox is not running")

// DefaultStateDir is ~/.local/state/migrate-tui/sandbox (XDG_STATE_HOME
// respected).
func DefaultStateDir() string {
	base := os.Getenv("XDG_STATE_HOME")
	if base == "" {
		home, err := os.UserHomeDir()
		if err != nil {
			home = os.TempDir()
		}
		base = filepath.Join(home, ".local", "state")
	}
	return filepath.Join(base, "migrate-tui", "sandbox")
}

// Env is what a running sandbox publishes.
type Env struct {
	Kubeconfig string `json:"kubeconfig"`
	NomadAddr  string `json:"nomadAddr"`
	NomadToken string `json:"nomadToken"`
	// VaultAddr and VaultToken reach the Vault API simulator, so the vault
	// stage's Vault side (Kubernetes auth, policies, roles) runs here too.
	VaultAddr  string `json:"vaultAddr"`
	VaultToken string `json:"vaultToken"`
	// TFCLIConfigFile installs providers from the tools' local mirror, so
	// `migrate-tui apply` works offline (exported as TF_CLI_CONFIG_FILE).
	TFCLIConfigFile string `json:"tfCliConfigFile"`
	// IngressAddr is the websecure address of the sandbox's real Traefik
	// (standing in for traefik_https_node_port on a node), exported as
	// MIGRATE_TUI_INGRESS_ADDR so `check` dials it for SC-004; TraefikAPI is
	// Traefik's API (GET /api/http/routers). Empty when Traefik is not
	// running (its network namespace needs root).
	IngressAddr string `json:"ingressAddr,omitempty"`
	TraefikAPI  string `json:"traefikApi,omitempty"`
	// ToolsBin holds the built tofu; the exports put it first on PATH.
	ToolsBin string `json:"toolsBin"`
	// ClusterDNS is the sandbox's CoreDNS (K3s's Corefile, importing the
	// applied coredns-custom); ConsulDNS the Consul DNS stand-in it forwards
	// .consul to once consul_dns_servers names it. Both host:port on
	// loopback, UDP and TCP.
	ClusterDNS string `json:"clusterDns,omitempty"`
	ConsulDNS  string `json:"consulDns,omitempty"`
	// S3Endpoint is the S3 server standing in for MinIO, exported as
	// MIGRATE_TUI_S3_ENDPOINT for the services stage's bucket check
	// (minio_endpoint's *.service.consul does not resolve here).
	S3Endpoint string    `json:"s3Endpoint,omitempty"`
	PID        int       `json:"pid"`  // the server process
	PIDs       []int     `json:"pids"` // the world's processes (each its own process group)
	StartedAt  time.Time `json:"startedAt"`
}

// Exports renders the environment as one shell line: KUBECONFIG,
// NOMAD_ADDR, NOMAD_TOKEN, TF_CLI_CONFIG_FILE and PATH with the tools' bin
// directory first (the caller's $PATH is expanded by the shell that evals it).
func (e Env) Exports() string {
	line := fmt.Sprintf("export KUBECONFIG=%s NOMAD_ADDR=%s NOMAD_TOKEN=%s",
		shellQuote(e.Kubeconfig), shellQuote(e.NomadAddr), shellQuote(e.NomadToken))
	if e.VaultAddr != "" {
		line += " VAULT_ADDR=" + shellQuote(e.VaultAddr) + " VAULT_TOKEN=" + shellQuote(e.VaultToken)
	}
	if e.TFCLIConfigFile != "" {
		line += " TF_CLI_CONFIG_FILE=" + shellQuote(e.TFCLIConfigFile)
	}
	if e.IngressAddr != "" {
		line += " " + checks.IngressAddrEnv + "=" + shellQuote(e.IngressAddr)
	}
	if e.ClusterDNS != "" {
		line += " MIGRATE_TUI_CLUSTER_DNS=" + shellQuote(e.ClusterDNS) + " MIGRATE_TUI_CONSUL_DNS=" + shellQuote(e.ConsulDNS)
	}
	if e.S3Endpoint != "" {
		line += " MIGRATE_TUI_S3_ENDPOINT=" + shellQuote(e.S3Endpoint)
	}
	if e.ToolsBin != "" {
		line += " PATH=" + shellQuote(e.ToolsBin) + `:"$PATH"`
	}
	return line
}

func shellQuote(s string) string {
	if s != "" && strings.IndexFunc(s, func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("/._-:@+=,", r))
	}) < 0 {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// UpOptions says how to start the server process.
type UpOptions struct {
	StateDir string
	// Command is the server process: a binary and its arguments, which must
	// end up calling Serve(ctx, StateDir). The CLI passes itself with
	// "sandbox serve --state-dir DIR".
	Command []string
	// Progress receives a line now and then while Up waits; may be nil.
	Progress io.Writer
}

// Up starts the sandbox in the background and waits until it is ready. When
// one is already running it returns its Env and alreadyRunning = true.
func Up(ctx context.Context, o UpOptions) (env Env, alreadyRunning bool, err error) {
	if len(o.Command) == 0 {
		return Env{}, false, errors.New("sandbox: no server command")
	}
	if err := os.MkdirAll(o.StateDir, 0o700); err != nil {
		return Env{}, false, fmt.Errorf("sandbox state directory %s: %w", o.StateDir, err)
	}
	if pid, ok := runningPID(o.StateDir); ok {
		env, err := readEnv(o.StateDir)
		if err != nil {
			return Env{}, true, fmt.Errorf("sandbox already running (pid %d) but not ready yet or its %s is unreadable (%v); wait, or run `migrate-tui sandbox down`", pid, filepath.Join(o.StateDir, envFile), err)
		}
		return env, true, nil
	}
	// Leftovers of a sandbox that died: start clean.
	removeFiles(o.StateDir)
	if o.Progress != nil {
		fmt.Fprintf(o.Progress, "sandbox: starting (state in %s; this takes about a minute)\n", o.StateDir)
	}

	logf, err := os.OpenFile(filepath.Join(o.StateDir, logFile), os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o600)
	if err != nil {
		return Env{}, false, err
	}
	defer logf.Close()
	devnull, err := os.Open(os.DevNull)
	if err != nil {
		return Env{}, false, err
	}
	defer devnull.Close()
	cmd := exec.Command(o.Command[0], o.Command[1:]...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = devnull, logf, logf
	// A session of its own: it outlives this process and the terminal.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	if err := cmd.Start(); err != nil {
		return Env{}, false, fmt.Errorf("start the sandbox server %s: %w", o.Command[0], err)
	}
	pid := cmd.Process.Pid
	// The start time guards against a recycled pid belonging to someone else.
	record := fmt.Sprintf("%d %s\n", pid, startTime(pid))
	if err := atomicfile.WriteFile(filepath.Join(o.StateDir, pidFile), []byte(record), 0o600); err != nil {
		_ = syscall.Kill(-pid, syscall.SIGKILL)
		return Env{}, false, err
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()

	fail := func(err error) (Env, bool, error) {
		stopGroup(pid, 30*time.Second, exited)
		// Keep serve.log for the post-mortem; the next up truncates it.
		for _, f := range []string{envFile, shellFile, kubeFile, pidFile, cliConfigFile} {
			_ = os.Remove(filepath.Join(o.StateDir, f))
		}
		return Env{}, false, err
	}
	lastNote := time.Now()
	err = wait.PollUntilContextTimeout(ctx, 300*time.Millisecond, 6*time.Minute, true, func(ctx context.Context) (bool, error) {
		select {
		case werr := <-exited:
			exited <- werr
			return false, fmt.Errorf("the sandbox server exited (%v) before it was ready; last lines of %s:\n%s",
				werr, filepath.Join(o.StateDir, logFile), tail(filepath.Join(o.StateDir, logFile), 20))
		default:
		}
		if o.Progress != nil && time.Since(lastNote) > 15*time.Second {
			fmt.Fprintln(o.Progress, "sandbox: still starting (API server, controllers, KWOK nodes, metrics, CRDs)...")
			lastNote = time.Now()
		}
		e, err := readEnv(o.StateDir)
		if err != nil {
			return false, nil
		}
		env = e
		return true, nil
	})
	if err != nil {
		if ctx.Err() != nil || wait.Interrupted(err) {
			return fail(fmt.Errorf("sandbox did not become ready: %w; its log was %s", err, filepath.Join(o.StateDir, logFile)))
		}
		return fail(err)
	}
	return env, false, nil
}

// ReadEnv returns the environment of the running sandbox, or an error
// wrapping ErrNotRunning.
func ReadEnv(stateDir string) (Env, error) {
	if _, ok := runningPID(stateDir); !ok {
		return Env{}, fmt.Errorf("%w (no live server recorded in %s); start it with `migrate-tui sandbox up`", ErrNotRunning, stateDir)
	}
	env, err := readEnv(stateDir)
	if err != nil {
		return Env{}, fmt.Errorf("sandbox server is running but not ready (%v); wait for `migrate-tui sandbox up` to finish", err)
	}
	return env, nil
}

// Down stops the running sandbox (SIGTERM to its process group, waiting for
// it, SIGKILL after grace) and removes its files. It returns ErrNotRunning
// (after removing any leftovers) when none runs.
func Down(stateDir string, grace time.Duration) error {
	pid, running := runningPID(stateDir)
	env, _ := readEnv(stateDir)
	if running {
		stopGroup(pid, grace, nil)
		if alive(pid) {
			return fmt.Errorf("sandbox server (pid %d) is still running after SIGTERM and SIGKILL; stop it by hand (kill -9 -%d)", pid, pid)
		}
		// The world's processes die with the server (it stops them, and the
		// kernel kills them if it was killed); make sure of it. Only for a
		// server just seen alive: stale pids may belong to others by now.
		for _, p := range env.PIDs {
			if alive(p) {
				_ = syscall.Kill(-p, syscall.SIGKILL)
			}
		}
	}
	removeFiles(stateDir)
	_ = os.Remove(stateDir) // only when empty
	if !running {
		return ErrNotRunning
	}
	return nil
}

// ServeOptions are the server process's settings beyond its state directory.
type ServeOptions struct {
	// NomadFrom, when set, is a live Nomad's address: the simulator starts
	// without its homelab seed and holds a copy of that Nomad's jobs
	// (CopyJobs; only reads reach it), read with NomadFromToken.
	NomadFrom, NomadFromToken string
}

// Serve is the server process: it starts the world and the Nomad simulator,
// publishes the environment, and runs until ctx ends or SIGTERM/SIGINT.
func Serve(ctx context.Context, stateDir string, log io.Writer) error {
	return ServeWith(ctx, stateDir, ServeOptions{}, log)
}

// ServeWith is Serve with options.
func ServeWith(ctx context.Context, stateDir string, so ServeOptions, log io.Writer) error {
	ctx, stop := signal.NotifyContext(ctx, syscall.SIGTERM, syscall.SIGINT, syscall.SIGHUP)
	defer stop()
	if err := os.MkdirAll(filepath.Join(stateDir, worldDir), 0o700); err != nil {
		return err
	}
	fmt.Fprintln(log, "sandbox: starting the test world (etcd, kube-apiserver, controllers, KWOK, metrics-server, VPA recommender, CRDs, local-path provisioner, CoreDNS and a Consul DNS stand-in)")
	traefik := os.Geteuid() == 0
	if !traefik {
		fmt.Fprintln(log, "sandbox: not root, so no Traefik (its network namespace needs root): check cannot observe SC-004 here")
	}
	startCtx, cancel := context.WithTimeout(ctx, 5*time.Minute)
	w, err := testworld.Start(startCtx, testworld.Options{
		Controllers: true, KWOK: true, Metrics: true, VPARecommender: true, CRDs: true, LocalPath: true,
		// The real Traefik runs in a network namespace of its own: root only.
		Traefik: traefik,
		CoreDNS: true,
		// MinIO's stand-in: the services stage checks the Litestream bucket.
		S3:  true,
		Dir: filepath.Join(stateDir, worldDir),
	})
	cancel()
	if err != nil {
		return fmt.Errorf("sandbox: start the test world: %w", err)
	}
	defer func() {
		fmt.Fprintln(log, "sandbox: stopping the test world")
		if err := w.Stop(); err != nil {
			fmt.Fprintln(log, "sandbox: stop:", err)
		}
	}()

	token, err := randomToken()
	if err != nil {
		return err
	}
	nomad := nomadsim.New(nomadsim.Options{Token: token, Empty: so.NomadFrom != ""})
	if err := nomad.Start("127.0.0.1:0"); err != nil {
		return fmt.Errorf("sandbox: start the Nomad simulator: %w", err)
	}
	defer nomad.Close()
	if so.NomadFrom != "" {
		// Before the environment is published: a ready sandbox holds the copy.
		if err := seedFrom(ctx, so, nomad, log); err != nil {
			return fmt.Errorf("sandbox: %w", err)
		}
	}
	// The Consul DNS stand-in answers for what the homelab registers in
	// Consul: the simulator's Consul services, Vault, Consul and Nomad.
	services, err := consulServices(nomad.URL(), nomad.Token())
	if err != nil {
		return fmt.Errorf("sandbox: seed the Consul DNS stand-in: %w", err)
	}
	for name, ip := range services {
		if err := w.DNS.Consul.Set(name, ip); err != nil {
			return fmt.Errorf("sandbox: seed the Consul DNS stand-in: %w", err)
		}
	}
	fmt.Fprintf(log, "sandbox: Consul DNS stand-in on %s answers %s\n", w.DNS.Consul.Addr(), strings.Join(serviceNames(services), ", "))

	vaultToken, err := randomToken()
	if err != nil {
		return err
	}
	vault := vaultsim.New(vaultToken)
	if err := vault.Start("127.0.0.1:0"); err != nil {
		return fmt.Errorf("sandbox: start the Vault simulator: %w", err)
	}
	defer vault.Close()
	// What Nomad's template blocks read today (nomad/default/<service>); a
	// made-up value, not a secret.
	vault.PutKV("nomad", "default/overseerr", map[string]any{"api_key": "sandbox-value"})
	// The Kubernetes copy's own S3 credentials (overseerr_litestream_vault_key):
	// the sandbox S3 server's root account, which may create the bucket.
	vault.PutKV("nomad", "default/overseerr-k8s", map[string]any{"MINIO_ACCESS_KEY": w.S3.AccessKey, "MINIO_SECRET_KEY": w.S3.SecretKey})

	kube, err := os.ReadFile(w.Kubeconfig)
	if err != nil {
		return err
	}
	kubePath := filepath.Join(stateDir, kubeFile)
	if err := atomicfile.WriteFile(kubePath, kube, 0o600); err != nil {
		return err
	}
	cliConfig, err := testtools.WriteCLIConfig(stateDir)
	if err != nil {
		return fmt.Errorf("sandbox: write the OpenTofu CLI config (providers from the tools mirror): %w", err)
	}
	tofu, err := testtools.Bin("tofu")
	if err != nil {
		return fmt.Errorf("sandbox: %w", err)
	}
	env := Env{
		Kubeconfig:      kubePath,
		NomadAddr:       nomad.URL(),
		NomadToken:      nomad.Token(),
		VaultAddr:       vault.URL(),
		VaultToken:      vaultToken,
		TFCLIConfigFile: cliConfig,
		ToolsBin:        filepath.Dir(tofu),
		ClusterDNS:      w.DNS.Addr,
		ConsulDNS:       w.DNS.Consul.Addr(),
		S3Endpoint:      w.S3.Endpoint,
		PID:             os.Getpid(),
		PIDs:            w.PIDs(),
		StartedAt:       time.Now().UTC(),
	}
	if w.Traefik != nil {
		env.IngressAddr, env.TraefikAPI = w.Traefik.Websecure, w.Traefik.API
		fmt.Fprintf(log, "sandbox: Traefik (websecure %s, API %s) in network namespace %s\n", w.Traefik.Websecure, w.Traefik.API, w.Traefik.Netns)
	}
	b, err := json.MarshalIndent(env, "", "  ")
	if err != nil {
		return err
	}
	if err := atomicfile.WriteFile(filepath.Join(stateDir, shellFile), []byte(env.Exports()+"\n"), 0o600); err != nil {
		return err
	}
	// env.json last: its presence means ready.
	if err := atomicfile.WriteFile(filepath.Join(stateDir, envFile), b, 0o600); err != nil {
		return err
	}
	fmt.Fprintf(log, "sandbox: ready; KUBECONFIG=%s NOMAD_ADDR=%s\n", kubePath, nomad.URL())
	<-ctx.Done()
	// Unpublish first so nobody picks up an environment that is going away.
	_ = os.Remove(filepath.Join(stateDir, envFile))
	return nil
}

// runningPID returns the recorded server pid when that process is alive and
// is still the one Up started (same start time).
func runningPID(stateDir string) (int, bool) {
	b, err := os.ReadFile(filepath.Join(stateDir, pidFile))
	if err != nil {
		return 0, false
	}
	fields := strings.Fields(string(b))
	if len(fields) != 2 {
		return 0, false
	}
	pid, err := strconv.Atoi(fields[0])
	if err != nil || pid <= 0 {
		return 0, false
	}
	return pid, alive(pid) && startTime(pid) == fields[1]
}

// startTime is the process's start time in clock ticks since boot (field 22
// of /proc/PID/stat), or "" when it cannot be read.
func startTime(pid int) string {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return ""
	}
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return ""
	}
	// Fields after the command: state is field 3, starttime field 22.
	f := strings.Fields(string(b[i+1:]))
	if len(f) < 20 {
		return ""
	}
	return f[19]
}

func readEnv(stateDir string) (Env, error) {
	var env Env
	b, err := os.ReadFile(filepath.Join(stateDir, envFile))
	if err != nil {
		return env, err
	}
	if err := json.Unmarshal(b, &env); err != nil {
		return env, fmt.Errorf("%s: %w", envFile, err)
	}
	return env, nil
}

// alive reports whether pid is a live (not zombie) process.
func alive(pid int) bool {
	if err := syscall.Kill(pid, 0); err != nil && !errors.Is(err, syscall.EPERM) {
		return false
	}
	// A zombie whose parent does not reap it still answers kill 0.
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return !errors.Is(err, os.ErrNotExist)
	}
	if i := bytes.LastIndexByte(b, ')'); i >= 0 && i+2 < len(b) {
		return b[i+2] != 'Z'
	}
	return true
}

// stopGroup sends SIGTERM to the process group pid leads, waits up to grace,
// then SIGKILLs it. exited, when not nil, is the child's Wait result.
func stopGroup(pid int, grace time.Duration, exited chan error) {
	_ = syscall.Kill(-pid, syscall.SIGTERM)
	deadline := time.Now().Add(grace)
	for time.Now().Before(deadline) {
		if exited != nil {
			select {
			case err := <-exited:
				exited <- err
				return
			default:
			}
		}
		if !alive(pid) {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	_ = syscall.Kill(-pid, syscall.SIGKILL)
	if exited != nil {
		err := <-exited
		exited <- err
		return
	}
	for i := 0; i < 50 && alive(pid); i++ {
		time.Sleep(100 * time.Millisecond)
	}
}

// removeFiles removes the sandbox's own files; anything else kept in the
// state directory stays.
func removeFiles(stateDir string) {
	for _, f := range []string{envFile, shellFile, kubeFile, pidFile, logFile, cliConfigFile} {
		_ = os.Remove(filepath.Join(stateDir, f))
	}
	_ = os.RemoveAll(filepath.Join(stateDir, worldDir))
}

// randomToken makes a Nomad-style ACL secret (a UUID).
func randomToken() (string, error) {
	b := make([]byte, 16)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16]), nil
}

func tail(path string, n int) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return "    (no log: " + err.Error() + ")"
	}
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return "    " + strings.Join(lines, "\n    ")
}
