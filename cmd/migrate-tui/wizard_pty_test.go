package main

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/creack/pty"
	kwait "k8s.io/apimachinery/pkg/util/wait"

	"migrate-tui/internal/tui"
)

// oscBackgroundQuery is what termenv writes to ask the terminal for its
// background colour (OSC 11 "?", termenv_unix.go termStatusReport).
const oscBackgroundQuery = "\x1b]11;?"

// firstFrameMarker is part of the wizard's title line (internal/tui App.View).
const firstFrameMarker = "steps done"

// ptyTerminal is a terminal that shows what the program wrote and never
// answers a query.
type ptyTerminal struct {
	mu  sync.Mutex
	out bytes.Buffer
}

func (p *ptyTerminal) Write(b []byte) (int, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.out.Write(b)
}

func (p *ptyTerminal) String() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.out.String()
}

// startWizardInPTY starts the built wizard on a fresh repository in a
// pseudo-terminal that never answers and returns what it writes.
func startWizardInPTY(t *testing.T, bin string, env ...string) *ptyTerminal {
	t.Helper()
	return startInPTY(t, bin, []string{"--dir", t.TempDir()}, env...)
}

// startInPTY starts the built binary with args in a pseudo-terminal that
// never answers and returns what it writes.
func startInPTY(t *testing.T, bin string, args []string, env ...string) *ptyTerminal {
	t.Helper()
	cmd := exec.Command(bin, args...)
	// CI= : termenv treats any non-empty CI as "not a terminal" and never
	// queries, which would make every case here pass (or fail) vacuously
	// under CI=true.
	cmd.Env = append(os.Environ(), "TERM=xterm-256color", "NO_COLOR=", "TMUX=", "CI=")
	cmd.Env = append(cmd.Env, env...)
	f, err := pty.StartWithSize(cmd, &pty.Winsize{Rows: 40, Cols: 120})
	if err != nil {
		t.Fatal(err)
	}
	term := &ptyTerminal{}
	done := make(chan struct{})
	go func() { defer close(done); _, _ = bytesCopy(term, f) }()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		f.Close()
		<-done
	})
	return term
}

// bytesCopy copies until the pty closes (EIO when the child exits).
func bytesCopy(dst *ptyTerminal, src *os.File) (int64, error) {
	var n int64
	buf := make([]byte, 4096)
	for {
		k, err := src.Read(buf)
		if k > 0 {
			dst.Write(buf[:k])
			n += int64(k)
		}
		if err != nil {
			return n, err
		}
	}
}

// waitForFrame waits for the wizard's first frame; the deadline is only a
// guard against a hung program, never the assertion.
func waitForFrame(t *testing.T, term *ptyTerminal) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), patience)
	defer cancel()
	err := kwait.PollUntilContextCancel(ctx, 50*time.Millisecond, true, func(context.Context) (bool, error) {
		return strings.Contains(term.String(), firstFrameMarker), nil
	})
	if err != nil {
		t.Fatalf("the wizard drew no first frame in a terminal that never answers:\n%q", term.String())
	}
	return term.String()
}

func buildWizard(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "migrate-tui")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// TestFirstFrameWithoutATerminalAnswer starts the real wizard in a pty that
// never answers: by default the background is set up front, so the wizard
// never asks the terminal and nothing stands before the first frame. With
// MIGRATE_TUI_BACKGROUND=auto the query is sent before the first frame,
// which shows the detector above sees it when it happens.
func TestFirstFrameWithoutATerminalAnswer(t *testing.T) {
	bin := buildWizard(t)
	t.Run("default", func(t *testing.T) {
		out := waitForFrame(t, startWizardInPTY(t, bin, tui.BackgroundEnv+"="))
		if strings.Contains(out, oscBackgroundQuery) {
			t.Fatalf("the wizard asked the terminal for its background colour although it is set:\n%q", out)
		}
	})
	t.Run("light", func(t *testing.T) {
		out := waitForFrame(t, startWizardInPTY(t, bin, tui.BackgroundEnv+"=light"))
		if strings.Contains(out, oscBackgroundQuery) {
			t.Fatalf("the wizard asked the terminal for its background colour although it is set:\n%q", out)
		}
	})
	// Bubble Tea's init asks in every command, not only the wizard.
	t.Run("status", func(t *testing.T) {
		term := startInPTY(t, bin, []string{"--dir", t.TempDir(), "status"}, tui.BackgroundEnv+"=")
		ctx, cancel := context.WithTimeout(context.Background(), patience)
		defer cancel()
		if err := kwait.PollUntilContextCancel(ctx, 50*time.Millisecond, true, func(context.Context) (bool, error) {
			return strings.Contains(term.String(), "Preflight"), nil
		}); err != nil {
			t.Fatalf("status printed no plan in a terminal that never answers:\n%q", term.String())
		}
		if out := term.String(); strings.Contains(out, oscBackgroundQuery) {
			t.Fatalf("status asked the terminal for its background colour:\n%q", out)
		}
	})
	t.Run("auto asks before the frame", func(t *testing.T) {
		out := waitForFrame(t, startWizardInPTY(t, bin, tui.BackgroundEnv+"=auto"))
		q, f := strings.Index(out, oscBackgroundQuery), strings.Index(out, firstFrameMarker)
		if q < 0 || q > f {
			t.Fatalf("with %s=auto the query should come before the first frame (query at %d, frame at %d):\n%q", tui.BackgroundEnv, q, f, out)
		}
	})
}

func TestWizardRefusesAnUnknownBackground(t *testing.T) {
	t.Setenv(tui.BackgroundEnv, "purple")
	_, errOut, code := runCmd(t, "", "--dir", t.TempDir())
	if code != 2 || !strings.Contains(errOut, tui.BackgroundEnv) || !strings.Contains(errOut, "dark, light or auto") {
		t.Fatalf("wizard with %s=purple: exit %d\n%s", tui.BackgroundEnv, code, errOut)
	}
}
