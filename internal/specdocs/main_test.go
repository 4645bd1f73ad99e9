package specdocs

import (
	"context"
	"fmt"
	"migrate-tui/internal/tftree"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"migrate-tui/internal/testtools"
	"migrate-tui/internal/testtools/clitest"
	"migrate-tui/internal/testworld"
)

// The test world and the binary are started or built once for the package,
// on first use, so the document-only tests stay fast; TestMain stops them.
var (
	tmpRoot string

	worldOnce sync.Once
	world     *testworld.World
	worldErr  error

	binOnce sync.Once
	bin     string
	binErr  error
)

func TestMain(m *testing.M) {
	code := m.Run()
	if world != nil {
		if err := world.Stop(); err != nil {
			fmt.Fprintln(os.Stderr, "stopping the test world:", err)
		}
	}
	if tmpRoot != "" {
		os.RemoveAll(tmpRoot)
	}
	os.Exit(code)
}

func scratch() (string, error) {
	if tmpRoot != "" {
		return tmpRoot, nil
	}
	d, err := os.MkdirTemp("", "migrate-tui-specdocs-")
	tmpRoot = d
	return d, err
}

// needWorld starts the package's one test world: an API server with
// controllers and the three KWOK nodes, nothing more (the commands under
// test need no metrics, VPA or CRDs to produce their documents).
func needWorld(t *testing.T) *testworld.World {
	t.Helper()
	worldOnce.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
		defer cancel()
		world, worldErr = testworld.Start(ctx, testworld.Options{KWOK: true})
	})
	if worldErr != nil {
		t.Fatalf("the test world did not start (hack/bootstrap.sh builds its tools): %v", worldErr)
	}
	return world
}

// needBinary builds migrate-tui from this tree once.
func needBinary(t *testing.T) string {
	t.Helper()
	binOnce.Do(func() {
		dir, err := scratch()
		if err != nil {
			binErr = err
			return
		}
		bin = filepath.Join(dir, "migrate-tui")
		build := exec.Command("go", "build", "-o", bin, "./cmd/migrate-tui")
		build.Dir = repoRoot(t)
		if out, err := build.CombinedOutput(); err != nil {
			binErr = fmt.Errorf("go build ./cmd/migrate-tui: %v\n%s", err, out)
		}
	})
	if binErr != nil {
		t.Fatal(binErr)
	}
	return bin
}

// copyRepo copies the repository's Terraform into a temp directory: an
// operator's checkout with no state and no terraform.tfvars.
func copyRepo(t *testing.T) string {
	t.Helper()
	dst := t.TempDir()
	if err := tftree.CopyRepo(repoRoot(t), dst); err != nil {
		t.Fatal(err)
	}
	return dst
}

// cli runs the built binary in an environment of its own.
type cli struct {
	t   *testing.T
	bin string
	dir string
	env []string
}

func (c *cli) run(args ...string) (stdout, stderr string, code int) {
	c.t.Helper()
	r := clitest.Run(c.t, c.bin, c.dir, c.env, args...)
	return r.Stdout, r.Stderr, r.Code
}

// environ is this process's environment without what the commands read
// from it, plus set.
func environ(set map[string]string) []string { return clitest.Environ(set) }

// toolEnv is the environment an operator on the sandbox has: tofu on PATH
// with the providers' local mirror, a HOME of its own.
func toolEnv(t *testing.T, extra map[string]string) []string {
	t.Helper()
	tofu, err := testtools.Bin("tofu")
	if err != nil {
		t.Fatalf("these tests need OpenTofu from hack/bootstrap.sh: %v", err)
	}
	rc, err := testtools.WriteCLIConfig(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	set := map[string]string{
		"PATH":                filepath.Dir(tofu) + string(os.PathListSeparator) + os.Getenv("PATH"),
		"TF_CLI_CONFIG_FILE":  rc,
		"TF_PLUGIN_CACHE_DIR": t.TempDir(),
		"TF_IN_AUTOMATION":    "1",
		"HOME":                t.TempDir(),
		"CHECKPOINT_DISABLE":  "1",
		"NO_COLOR":            "1",
		"TF_LOG":              "",
	}
	for k, v := range extra {
		set[k] = v
	}
	return environ(set)
}
