// Package tftest helps tests drive real OpenTofu through tfrunner: a copy
// of a fixture configuration and a runner on the pinned test binary with
// its own CLI config (the machine's TF_CLI_CONFIG_FILE is never used).
package tftest

import (
	"context"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"migrate-tui/internal/tftree"

	"migrate-tui/internal/testtools"
	"migrate-tui/internal/tfrunner"
)

// FixtureConfig is the shared fixture: modules named like main.tf's stage
// modules, built only from terraform_data (no provider), where the
// variable "gate" makes a resource wait until a file exists.
func FixtureConfig() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "testdata", "config")
}

// CopyConfig copies the configuration directory src into a fresh temp dir.
func CopyConfig(t testing.TB, src string) string {
	t.Helper()
	dst := t.TempDir()
	if err := tftree.Copy(src, dst); err != nil {
		t.Fatal(err)
	}
	return dst
}

// Tofu is the pinned test OpenTofu, or a test failure naming hack/bootstrap.sh.
func Tofu(t testing.TB) string {
	t.Helper()
	p, err := testtools.Bin("tofu")
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// Env is the environment a test runner needs: its own CLI config.
func Env(t testing.TB) map[string]string {
	t.Helper()
	rc, err := testtools.WriteCLIConfig(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	return map[string]string{"TF_CLI_CONFIG_FILE": rc}
}

// CLIEnv is the whole process environment for a test that runs the pinned
// tofu itself (not through tfrunner): this process's environment without
// TF_* and KUBE* (this machine sets its own CLI config, and a stray
// KUBECONFIG must not reach a provider), the test CLI config (providers
// from the tools mirror only), pluginCache when not empty, and no prompts.
func CLIEnv(t testing.TB, pluginCache string) []string {
	t.Helper()
	rc, err := testtools.WriteCLIConfig(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "TF_") && !strings.HasPrefix(kv, "KUBE") {
			env = append(env, kv)
		}
	}
	env = append(env, "TF_CLI_CONFIG_FILE="+rc, "TF_IN_AUTOMATION=1", "TF_INPUT=0")
	if pluginCache != "" {
		env = append(env, "TF_PLUGIN_CACHE_DIR="+pluginCache)
	}
	return env
}

// NewRunner is a runner on the test OpenTofu in dir.
func NewRunner(t testing.TB, dir string) *tfrunner.Runner {
	t.Helper()
	r, err := tfrunner.New(context.Background(), tfrunner.Options{Dir: dir, Binary: Tofu(t), PluginCacheDir: t.TempDir(),
		Env: Env(t), GracePeriod: 30e9})
	if err != nil {
		t.Fatal(err)
	}
	return r
}
