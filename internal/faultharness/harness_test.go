package faultharness

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"migrate-tui/internal/faultpoint"
	"migrate-tui/internal/nomadwatch"
	"migrate-tui/internal/state"
	"migrate-tui/internal/testtools/clitest"
	"migrate-tui/internal/tfvars"
)

// step is one command killed at one point, then rerun.
type step struct {
	point string
	args  []string
	// sigint: the point sends SIGINT (Ctrl+C) instead of SIGKILL; the run
	// must exit 5 (interrupted).
	sigint bool
	// applied: the kill came after Terraform's apply finished, so the
	// rerun's plan must change nothing (nothing is applied twice).
	applied bool
	// rerunCodes are the exit codes a rerun may end with (default 0).
	rerunCodes []int
	// skip names a known bug the point reveals (the case is skipped, not hidden).
	skip string
	// before prepares the world for the step (once, before the kill).
	before func(t *testing.T, dir string)
}

// result is one run of the binary.
type result = clitest.Result

// env is the environment of every run: the simulators, the world, tofu
// from PATH, and a HOME of its own so nothing lands in the real ~/.kube.
func env(t *testing.T, extra ...string) []string {
	var e []string
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		if strings.HasPrefix(k, "NOMAD_") || strings.HasPrefix(k, "VAULT_") || strings.HasPrefix(k, "MIGRATE_TUI_") ||
			strings.HasPrefix(k, "TF_") || k == "KUBECONFIG" || k == "PATH" || k == "HOME" {
			continue
		}
		e = append(e, kv)
	}
	e = append(e,
		"PATH="+tofuDir+string(os.PathListSeparator)+os.Getenv("PATH"),
		"HOME="+home(t),
		"TF_CLI_CONFIG_FILE="+cliRC,
		"TF_PLUGIN_CACHE_DIR="+plugins,
		"TF_IN_AUTOMATION=1",
		"CHECKPOINT_DISABLE=1",
		"NOMAD_ADDR="+nomad.URL(),
		"NOMAD_TOKEN="+nomadToken,
		"VAULT_ADDR="+vault.URL(),
		"VAULT_TOKEN="+vaultToken,
		"MIGRATE_TUI_VERIFY_WAIT=30s",
		"NO_COLOR=1",
	)
	return append(e, extra...)
}

var homeDir string

func home(t *testing.T) string {
	if homeDir == "" {
		homeDir = filepath.Join(os.TempDir(), "migrate-tui-faults-home-"+time.Now().UTC().Format("150405.000000000"))
		if err := os.MkdirAll(homeDir, 0o700); err != nil {
			t.Fatal(err)
		}
	}
	return homeDir
}

// run runs the binary in dir with extra environment.
func run(t *testing.T, dir string, args []string, extra ...string) result {
	t.Helper()
	return clitest.Run(t, bin, dir, env(t, extra...), args...)
}

// copyDir copies a repository directory (symlinks stay symlinks: tofu's
// .terraform links into the plugin cache).
func copyDir(t *testing.T, src, root string) string {
	t.Helper()
	dst, err := os.MkdirTemp(root, "step-")
	if err != nil {
		t.Fatal(err)
	}
	err = filepath.WalkDir(src, func(p string, e fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		to := filepath.Join(dst, rel)
		info, err := e.Info()
		if err != nil {
			return err
		}
		switch {
		case e.IsDir():
			return os.MkdirAll(to, info.Mode().Perm()|0o700)
		case info.Mode()&fs.ModeSymlink != 0:
			l, err := os.Readlink(p)
			if err != nil {
				return err
			}
			return os.Symlink(l, to)
		default:
			b, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			return os.WriteFile(to, b, info.Mode().Perm())
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	return dst
}

// operatorRepo is the operator's checkout: the Terraform of the last
// commit (top-level *.tf, k8s/, modules-k8s/), not the working tree, which
// other work may hold half-edited; no state, no terraform.tfvars.
func operatorRepo(t *testing.T) string {
	t.Helper()
	dst := t.TempDir()
	ls, err := exec.Command("git", "-C", repoRoot, "ls-tree", "--name-only", "HEAD").Output()
	if err != nil {
		t.Fatal(err)
	}
	paths := []string{"k8s", "modules-k8s"}
	for _, f := range strings.Fields(string(ls)) {
		if strings.HasSuffix(f, ".tf") {
			paths = append(paths, f)
		}
	}
	archive := exec.Command("git", append([]string{"-C", repoRoot, "archive", "--format=tar", "HEAD", "--"}, paths...)...)
	untar := exec.Command("tar", "-x", "-C", dst)
	pipe, err := archive.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	untar.Stdin = pipe
	if err := untar.Start(); err != nil {
		t.Fatal(err)
	}
	if err := archive.Start(); err != nil {
		t.Fatal(err)
	}
	// tar first: Wait on git closes the pipe tar still reads.
	if err := untar.Wait(); err != nil {
		t.Fatalf("tar -x: %v", err)
	}
	if err := archive.Wait(); err != nil {
		t.Fatalf("git archive: %v", err)
	}
	return dst
}

// killAndRerun runs s.args killed at s.point, checks the kill came at that
// point, reruns without the fault and checks the invariants, in a copy of
// prev made under root (it outlives the subtest: the next step starts
// from it). It returns the copy.
func killAndRerun(t *testing.T, prev, root string, s step, secrets []string) string {
	t.Helper()
	dir := copyDir(t, prev, root)
	if s.before != nil {
		s.before(t, dir)
	}
	marker := filepath.Join(t.TempDir(), "reached")
	extra := []string{faultpoint.Env + "=" + s.point, faultpoint.MarkerEnv + "=" + marker}
	if s.sigint {
		extra = append(extra, faultpoint.SignalEnv+"=INT")
	}
	r := run(t, dir, s.args, extra...)
	got, _ := os.ReadFile(marker)
	if string(got) != s.point+"\n" {
		t.Fatalf("%v never reached fault point %s (marker %q); exit %d signal %v\n%s%s", s.args, s.point, got, r.Code, r.Signal, r.Stdout, r.Stderr)
	}
	switch {
	case s.sigint && (r.Signal != 0 || r.Code != 5):
		t.Fatalf("%v interrupted at %s: exit %d signal %v, want exit 5 (interrupted)\n%s%s", s.args, s.point, r.Code, r.Signal, r.Stdout, r.Stderr)
	case !s.sigint && r.Signal != syscall.SIGKILL:
		t.Fatalf("%v at %s: exit %d signal %v, want killed by SIGKILL\n%s%s", s.args, s.point, r.Code, r.Signal, r.Stdout, r.Stderr)
	}
	// Whatever the kill left must parse (or not exist yet).
	parses(t, dir, "after the kill")
	if s.skip != "" {
		t.Skipf("known bug at %s: %s", s.point, s.skip)
	}
	r = run(t, dir, s.args)
	want := s.rerunCodes
	if len(want) == 0 {
		want = []int{0}
	}
	ok := false
	for _, c := range want {
		ok = ok || r.Code == c
	}
	if !ok || r.Signal != 0 {
		t.Fatalf("rerun of %v after a kill at %s: exit %d signal %v, want %v\n%s%s", s.args, s.point, r.Code, r.Signal, want, r.Stdout, r.Stderr)
	}
	parses(t, dir, "after the rerun")
	if s.applied {
		nothingTwice(t, r.Stdout)
	}
	noLocks(t, dir)
	nomadOnPurpose(t, dir)
	noSecrets(t, dir, secrets)
	return dir
}

// nothingTwice checks the rerun's plan (apply --json's first line) has no
// change: what the killed run applied is not applied again.
func nothingTwice(t *testing.T, stdout string) {
	t.Helper()
	first, _, _ := strings.Cut(stdout, "\n")
	var line struct {
		Kind    string
		Summary *struct{ Add, Change, Destroy int }
	}
	if err := json.Unmarshal([]byte(first), &line); err != nil || line.Kind != "plan" || line.Summary == nil {
		t.Fatalf("the rerun's first line is not its plan: %q (%v)", first, err)
	}
	if n := line.Summary.Add + line.Summary.Change + line.Summary.Destroy; n != 0 {
		t.Errorf("the rerun planned %d change(s) after a kill that came once the apply was done: applied twice\n%s", n, stdout)
	}
}

// parses checks state.json and terraform.tfvars parse when they exist.
func parses(t *testing.T, dir, when string) {
	t.Helper()
	if _, err := os.Stat(filepath.Join(dir, ".migrate-tui", "state.json")); err == nil {
		if _, err := state.Load(dir); err != nil {
			t.Fatalf("state.json %s: %v", when, err)
		}
	}
	tf := filepath.Join(dir, tfvars.FileName)
	if _, err := os.Stat(tf); err == nil {
		if _, _, err := tfvars.Read(tf); err != nil {
			t.Fatalf("terraform.tfvars %s: %v", when, err)
		}
	}
}

// noLocks: a status and a second run must not be told the repository or
// Terraform's state is locked (exit 4), and no lock file is left behind.
func noLocks(t *testing.T, dir string) {
	t.Helper()
	if r := run(t, dir, []string{"status", "--json"}); r.Code != 0 {
		t.Fatalf("status after the rerun: exit %d\n%s%s", r.Code, r.Stdout, r.Stderr)
	}
	for _, f := range []string{".terraform.tfstate.lock.info"} {
		if _, err := os.Stat(filepath.Join(dir, f)); err == nil {
			t.Errorf("%s left behind after the rerun", f)
		}
	}
}

// nomadOnPurpose: every Nomad job that ran when the harness started runs,
// or a cutover in the state stopped it on purpose and saved its spec
// (periodic children that finished are dead by design, not a regression).
func nomadOnPurpose(t *testing.T, dir string) {
	t.Helper()
	c, err := nomadwatch.NewClient(nomad.URL(), nomadToken)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	b, err := nomadwatch.TakeBaseline(ctx, c)
	if err != nil {
		t.Fatal(err)
	}
	st, err := state.Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, j := range b.Jobs {
		if (j.Status == "running" && !j.Stopped) || !runningAtStart[j.Namespace+"/"+j.ID] {
			continue
		}
		saved := false
		for _, co := range st.Cutovers {
			saved = saved || (co.NomadJob == j.ID && len(co.JobSpec) > 0)
		}
		if !st.IntentionallyStopped(j.Namespace, j.ID) || !saved {
			t.Errorf("Nomad job %s/%s is %s (stopped %v) and not stopped on purpose with its spec saved", j.Namespace, j.ID, j.Status, j.Stopped)
		}
	}
}

// noSecrets scans every file migrate-tui (and the tofu it ran) wrote in the
// repository; the provider binaries under .terraform and the Terraform
// code copied in are not its writing.
func noSecrets(t *testing.T, dir string, secrets []string) {
	t.Helper()
	found, err := secretsIn(dir, secrets)
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range found {
		t.Errorf("%s", f)
	}
}

// secretsIn lists "file holds a secret" for each secret found under dir.
func secretsIn(dir string, secrets []string) ([]string, error) {
	var found []string
	err := filepath.WalkDir(dir, func(p string, e fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if e.IsDir() && (e.Name() == ".terraform" || e.Name() == "k8s" || e.Name() == "modules-k8s") {
			return filepath.SkipDir
		}
		if e.IsDir() || e.Type()&fs.ModeSymlink != 0 {
			return nil
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		for _, s := range secrets {
			if s != "" && bytes.Contains(b, []byte(s)) {
				rel, _ := filepath.Rel(dir, p)
				found = append(found, fmt.Sprintf("%s holds a secret (%.6s...)", rel, s))
			}
		}
		return nil
	})
	return found, err
}
