package main

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"migrate-tui/internal/cutover"
	"migrate-tui/internal/stages"
	"migrate-tui/internal/state"
	"migrate-tui/internal/tfrunner"
)

// TestExitCodeOfEachErrorType: the table is keyed by error type, wrapped or
// not, and a held lock or an interruption keeps its code even when a
// command wrapped it with another.
func TestExitCodeOfEachErrorType(t *testing.T) {
	wrap := func(err error) error { return fmt.Errorf("context: %w", err) }
	for _, c := range []struct {
		name string
		err  error
		want int
	}{
		{"nil", nil, exitOK},
		{"plain error", errors.New("boom"), exitFailed},
		{"usage", usage(errors.New("--stage is required")), exitUsage},
		{"usage wrapped", wrap(usage(errors.New("x"))), exitUsage},
		{"not confirmed (stage)", wrap(stages.ErrNotConfirmed), exitDeclined},
		{"declined (cutover)", wrap(cutover.ErrDeclined), exitDeclined},
		{"gate blocks (cutover)", wrap(cutover.ErrNotReady), exitDeclined},
		{"pre-check refuses", &stages.PreCheckError{Stage: "ingress", Err: errors.New("no TLS Secret")}, exitDeclined},
		{"destroy outside the stage", &tfrunner.DestroyOutsideError{}, exitDeclined},
		{"repository lock held", wrap(&state.LockedError{Path: "x"}), exitLocked},
		{"lock held wrapped in another code", withExit(exitUsage, &state.LockedError{Path: "x"}), exitLocked},
		{"terraform state lock held", &tfrunner.LockError{}, exitLocked},
		{"interrupted", wrap(tfrunner.ErrInterrupted), exitInterrupt},
		{"interrupted wrapped in another code", withExit(exitFailed, tfrunner.ErrInterrupted), exitInterrupt},
		{"stage checks failed", &stages.VerifyError{Stage: "mesh"}, exitVerify},
		{"nomad regressed", &stages.RegressionError{}, exitRegressed},
		{"cutover regressions", wrap(cutover.ErrRegressions), exitRegressed},
		{"routing not confirmed", wrap(cutover.ErrRouting), exitRoutingDue},
		{"a command's explicit code", withExit(exitVerify, errors.New("")), exitVerify},
		{"reworded keeps the cause's code", reword(cutover.ErrRouting, "job stopped, routing due"), exitRoutingDue},
	} {
		if got := exitCode(c.err); got != c.want {
			t.Errorf("%s: exit %d, want %d", c.name, got, c.want)
		}
	}
}

// TestCommandsExitByTheTable runs every command in-process (the cobra root
// main runs) into the codes that need no cluster: bad usage, a missing
// --dir, a held lock and a corrupt state file are the same code everywhere.
func TestCommandsExitByTheTable(t *testing.T) {
	repo := t.TempDir()
	vars, err := os.ReadFile(filepath.Join("..", "..", "variables.tf"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(repo, "variables.tf"), vars, 0o644); err != nil {
		t.Fatal(err)
	}
	missing := filepath.Join(repo, "no-such-dir")
	// Each command with the arguments that make it reach the repository.
	commands := map[string][]string{
		"":           {"--accessible"},
		"preflight":  {"preflight"},
		"status":     {"status"},
		"decide":     {"decide", "--defaults"},
		"apply":      {"apply", "--stage", "storage", "--yes"},
		"cutover":    {"cutover", "--service", "whoami", "--yes"},
		"check":      {"check"},
		"tls-secret": {"tls-secret"},
		"sandbox":    {"sandbox", "env"},
		"scaffold":   {"scaffold", "echo"},
	}
	for name, args := range commands {
		t.Run("unknown flag/"+name, func(t *testing.T) {
			_, errOut, code := runCmd(t, "", append(slices.Clone(args), "--bogus")...)
			if code != exitUsage {
				t.Errorf("%v --bogus: exit %d, want %d\n%s", args, code, exitUsage, errOut)
			}
		})
	}
	for _, name := range []string{"", "preflight", "status", "decide", "apply", "cutover"} {
		t.Run("missing --dir/"+name, func(t *testing.T) {
			_, errOut, code := runCmd(t, "", append([]string{"--dir", missing}, commands[name]...)...)
			if code != exitUsage || !strings.Contains(errOut, "no-such-dir") {
				t.Errorf("%v in a missing --dir: exit %d, want %d\n%s", commands[name], code, exitUsage, errOut)
			}
			if _, err := os.Stat(missing); err == nil {
				t.Fatalf("%v created the missing --dir", commands[name])
			}
		})
	}
	t.Run("wrong arguments", func(t *testing.T) {
		for _, args := range [][]string{{"status", "extra"}, {"scaffold"}, {"sandbox", "env", "extra"}} {
			_, errOut, code := runCmd(t, "", append([]string{"--dir", repo}, args...)...)
			if code != exitUsage {
				t.Errorf("%v: exit %d, want %d\n%s", args, code, exitUsage, errOut)
			}
		}
	})
	t.Run("unknown command", func(t *testing.T) {
		_, errOut, code := runCmd(t, "", "--dir", repo, "no-such-command")
		if code != exitUsage || !strings.Contains(errOut, "no-such-command") {
			t.Errorf("unknown command: exit %d, want %d\n%s", code, exitUsage, errOut)
		}
	})
	t.Run("lock held", func(t *testing.T) {
		lock, err := state.Acquire(repo, "exit-code test")
		if err != nil {
			t.Fatal(err)
		}
		defer lock.Release()
		for _, name := range []string{"", "preflight", "decide", "apply", "cutover"} {
			_, errOut, code := runCmd(t, "", append([]string{"--dir", repo}, commands[name]...)...)
			if code != exitLocked {
				t.Errorf("%v while the lock is held: exit %d, want %d\n%s", commands[name], code, exitLocked, errOut)
			}
		}
	})
	t.Run("corrupt state", func(t *testing.T) {
		bad := t.TempDir()
		os.MkdirAll(filepath.Join(bad, state.DirName), 0o700)
		os.WriteFile(state.Path(bad), []byte(`{"schema": 1, "steps": {"preflight.tools": {"status": "maybe"}}}`), 0o600)
		for _, name := range []string{"", "status", "decide"} {
			_, errOut, code := runCmd(t, "", append([]string{"--dir", bad}, commands[name]...)...)
			if code != exitFailed {
				t.Errorf("%v with a corrupt state file: exit %d, want %d\n%s", commands[name], code, exitFailed, errOut)
			}
		}
	})
}

// TestHelpSaysTheTable: every command's --help carries the codes of the
// table for it, with the table's words, and nothing else says exit codes.
func TestHelpSaysTheTable(t *testing.T) {
	root := newRootCmd(strings.NewReader(""), new(strings.Builder), new(strings.Builder))
	for name, codes := range commandExitCodes {
		c := root
		if name != "" {
			var err error
			if c, _, err = root.Find([]string{name}); err != nil || c == root {
				t.Fatalf("the table names %q, which is no command", name)
			}
		}
		if n := strings.Count(c.Long, "Exit codes:") + strings.Count(c.Long, "Exit status:"); n != 1 {
			t.Errorf("migrate-tui %s --help has %d exit-code paragraphs, want the one generated", name, n)
		}
		_, para, _ := strings.Cut(c.Long, "Exit codes:")
		var got []int
		for _, line := range strings.Split(strings.TrimSpace(para), "\n") {
			f := strings.Fields(line)
			n, err := strconv.Atoi(f[0])
			if err != nil {
				t.Fatalf("migrate-tui %s --help: %q", name, line)
			}
			if !strings.Contains(line, exitMeaning[n]) {
				t.Errorf("migrate-tui %s --help says %q for %d, the table %q", name, line, n, exitMeaning[n])
			}
			got = append(got, n)
		}
		if !slices.Equal(got, codes) {
			t.Errorf("migrate-tui %s --help lists %v, the table %v", name, got, codes)
		}
	}
	for _, c := range root.Commands() {
		if c.Name() == "help" || c.Name() == "completion" {
			continue
		}
		if _, ok := commandExitCodes[c.Name()]; !ok {
			t.Errorf("migrate-tui %s has no row in commandExitCodes", c.Name())
		}
	}
}
