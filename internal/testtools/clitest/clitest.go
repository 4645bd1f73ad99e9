// Package clitest runs a built migrate-tui binary the way an operator
// does, for the tests that check its exit codes and output (e2e, specdocs,
// faultharness had a copy each). It imports testing, so it stays out of
// testtools, which the sandbox command links.
package clitest

import (
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"
)

// hangGuard ends a run only a hang outlasts; it is never the assertion.
const hangGuard = 10 * time.Minute

// Result is one run: its output, exit code and, when a signal ended it,
// the signal (Code is then -1).
type Result struct {
	Stdout, Stderr string
	Code           int
	Signal         syscall.Signal
}

// Run runs bin with args in env (stdin empty; dir, when set, as --dir
// before args). Only a failure to start fails the test; an exit code is
// the caller's to judge.
func Run(t testing.TB, bin, dir string, env []string, args ...string) Result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), hangGuard)
	defer cancel()
	full := args
	if dir != "" {
		full = append([]string{"--dir", dir}, args...)
	}
	cmd := exec.CommandContext(ctx, bin, full...)
	cmd.Env = env
	cmd.Stdin = strings.NewReader("")
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err := cmd.Run()
	r := Result{Stdout: out.String(), Stderr: errOut.String()}
	var ee *exec.ExitError
	switch {
	case errors.As(err, &ee):
		r.Code = ee.ExitCode()
		if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
			r.Signal = ws.Signal()
		}
	case err != nil:
		t.Fatalf("running migrate-tui %v: %v", args, err)
	}
	return r
}

// Environ is this process's environment without what migrate-tui reads
// from it (NOMAD_*, VAULT_*, MIGRATE_TUI_*, KUBECONFIG) and without the
// keys of set, plus set: a run sees only what the test gives it.
func Environ(set map[string]string) []string {
	var env []string
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		if _, ok := set[k]; ok || strings.HasPrefix(k, "NOMAD_") || strings.HasPrefix(k, "VAULT_") ||
			strings.HasPrefix(k, "MIGRATE_TUI_") || k == "KUBECONFIG" {
			continue
		}
		env = append(env, kv)
	}
	for k, v := range set {
		env = append(env, k+"="+v)
	}
	return env
}
