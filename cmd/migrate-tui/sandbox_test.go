package main

import (
	"bytes"
	"errors"
	"path/filepath"
	"strings"
	"testing"
)

// The round trip with a running sandbox is in internal/sandbox; here the
// commands' answers when none runs.
func TestSandboxCommandsWithoutASandbox(t *testing.T) {
	state := filepath.Join(t.TempDir(), "none")
	run := func(args ...string) (string, error) {
		var out, errOut bytes.Buffer
		cmd := newRootCmd(strings.NewReader(""), &out, &errOut)
		cmd.SetArgs(args)
		err := cmd.Execute()
		return out.String() + errOut.String(), err
	}

	out, err := run("sandbox", "env", "--state-dir", state)
	var ec exitCoder
	if !errors.As(err, &ec) || ec.ExitCode() == 0 {
		t.Fatalf("sandbox env without a sandbox: err %v, want a non-zero exit", err)
	}
	if !strings.Contains(err.Error(), "not running") || !strings.Contains(err.Error(), "sandbox up") {
		t.Errorf("sandbox env error %q: want it to say the sandbox is not running and how to start it", err)
	}
	if out != "" {
		t.Errorf("sandbox env printed %q, want nothing", out)
	}

	out, err = run("sandbox", "down", "--state-dir", state)
	if err != nil {
		t.Fatalf("sandbox down without a sandbox: %v", err)
	}
	if !strings.Contains(out, "not running") {
		t.Errorf("sandbox down said %q, want it to say nothing runs", out)
	}
}
