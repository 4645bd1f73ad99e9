package main

import (
	"bytes"
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
	if exitCode(err) == exitOK { // what main exits with
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

// up --nomad-from starts a server command that serve parses, with the live
// address and without the token (it is inherited from the environment).
func TestSandboxUpNomadFromCommand(t *testing.T) {
	t.Setenv("NOMAD_TOKEN", "live-secret-token")
	o := &sandboxUpOptions{StateDir: "/state", NomadFrom: "http://hestia:4646"}
	argv := o.serveCommand("/usr/bin/migrate-tui")
	want := []string{"/usr/bin/migrate-tui", "sandbox", "serve", "--state-dir", "/state", "--nomad-from", "http://hestia:4646"}
	if strings.Join(argv, " ") != strings.Join(want, " ") {
		t.Fatalf("server command %q, want %q", argv, want)
	}
	if strings.Contains(strings.Join(argv, " "), "live-secret-token") {
		t.Fatal("the token is on the server's command line")
	}
	root := newRootCmd(strings.NewReader(""), &bytes.Buffer{}, &bytes.Buffer{})
	serve, rest, err := root.Find(argv[1:])
	if err != nil || serve.Name() != "serve" {
		t.Fatalf("find %q: %v, %v", argv[1:], serve, err)
	}
	if err := serve.ParseFlags(rest); err != nil {
		t.Fatal(err)
	}
	if got, _ := serve.Flags().GetString("nomad-from"); got != "http://hestia:4646" {
		t.Fatalf("serve parsed --nomad-from %q", got)
	}
	if o := (&sandboxUpOptions{StateDir: "/state"}).serveCommand("x"); len(o) != 5 {
		t.Fatalf("without --nomad-from the server command is %q", o)
	}
}
