package tfcode

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"migrate-tui/internal/tftree"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"migrate-tui/internal/testtools"
	"migrate-tui/internal/tfrunner/tftest"
)

// repoRoot is the repository (two levels up from this package).
func repoRoot(t testing.TB) string {
	t.Helper()
	root, err := testtools.RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	return root
}

// copyConfig copies the configuration into a fresh directory so no
// .terraform, lock file or state ever lands in the repository.
func copyConfig(t testing.TB) string {
	t.Helper()
	dst := filepath.Join(t.TempDir(), "config")
	if err := tftree.CopyRepo(repoRoot(t), dst, "terraform.tfvars.example"); err != nil {
		t.Fatal(err)
	}
	return dst
}

// tofu runs the pinned OpenTofu with its own CLI config (this machine's
// environment sets another), a data dir and a shared plugin cache.
type tofu struct {
	bin, dir string
	env      []string
}

var pluginCache string

func newTofu(t testing.TB, dir string) *tofu {
	t.Helper()
	if pluginCache == "" {
		t.Fatal("plugin cache not set up (TestMain)")
	}
	env := append(tftest.CLIEnv(t, pluginCache), "TF_DATA_DIR="+filepath.Join(t.TempDir(), "data"))
	return &tofu{bin: tftest.Tofu(t), dir: dir, env: env}
}

// run returns the exit code and the combined output; err only when the
// command could not run at all.
func (tf *tofu) run(ctx context.Context, args ...string) (int, string, error) {
	cmd := exec.CommandContext(ctx, tf.bin, args...)
	cmd.Dir = tf.dir
	cmd.Env = tf.env
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	var exit *exec.ExitError
	if errors.As(err, &exit) {
		return exit.ExitCode(), out.String(), nil
	}
	if err != nil {
		return -1, out.String(), fmt.Errorf("tofu %s: %w", strings.Join(args, " "), err)
	}
	return 0, out.String(), nil
}

// must runs a command that has to exit 0.
func (tf *tofu) must(t testing.TB, ctx context.Context, args ...string) string {
	t.Helper()
	code, out, err := tf.run(ctx, args...)
	if err != nil {
		t.Fatal(err)
	}
	if code != 0 {
		t.Fatalf("tofu %s in %s exited %d:\n%s", strings.Join(args, " "), tf.dir, code, tail(out, 8000))
	}
	return out
}

func tail(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return "...\n" + s[len(s)-n:]
}
