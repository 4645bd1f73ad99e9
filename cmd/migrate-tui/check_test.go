package main

import (
	"bytes"
	"encoding/json"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// silentKubeconfig points at a listener that accepts and never answers.
func silentKubeconfig(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			t.Cleanup(func() { c.Close() })
		}
	}()
	kc := filepath.Join(t.TempDir(), "kubeconfig")
	body := `apiVersion: v1
kind: Config
clusters: [{name: c, cluster: {server: "https://` + ln.Addr().String() + `", insecure-skip-tls-verify: true}}]
users: [{name: u, user: {token: x}}]
contexts: [{name: c, context: {cluster: c, user: u}}]
current-context: c
`
	if err := os.WriteFile(kc, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return kc
}

func runCheckCmd(t *testing.T, args ...string) (string, string, int) {
	t.Helper()
	var out, errOut bytes.Buffer
	root := newRootCmd(strings.NewReader(""), &out, &errOut)
	root.SetArgs(append([]string{"check"}, args...))
	err := root.Execute()
	code := 0
	if err != nil {
		code = exitCode(err) // what main exits with
		errOut.WriteString(err.Error())
	}
	return out.String(), errOut.String(), code
}

func TestCheckCouldNotRun(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"no kubeconfig", []string{"--dir", dir, "--kubeconfig", filepath.Join(dir, "missing")}, "no kubeconfig"},
		{"unknown ID", []string{"--dir", dir, "--only", "SC-042"}, "unknown check ID(s) SC-042"},
		{"bad flag", []string{"--dir", dir, "--timeout", "soon"}, "invalid argument"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, errOut, code := runCheckCmd(t, tc.args...)
			if code != 2 || !strings.Contains(errOut, tc.want) {
				t.Errorf("exit %d, stderr %q; want 2 and %q", code, errOut, tc.want)
			}
		})
	}
}

func TestCheckJSONUnreachableExitsOne(t *testing.T) {
	dir := t.TempDir()
	kc := silentKubeconfig(t)
	out, _, code := runCheckCmd(t, "--dir", dir, "--kubeconfig", kc, "--json", "--only", "SC-001,SC-002", "--timeout", "2s")
	if code != 1 {
		t.Fatalf("exit %d, want 1; output %s", code, out)
	}
	var rep struct {
		Checks []struct {
			ID, Status, Evidence string
		} `json:"checks"`
		Summary struct{ Pass, Fail, Warn, Skip int } `json:"summary"`
	}
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatalf("not one JSON object: %v\n%s", err, out)
	}
	if len(rep.Checks) != 2 || rep.Summary.Fail != 2 {
		t.Fatalf("report %+v", rep)
	}
	for _, c := range rep.Checks {
		if !strings.Contains(c.Evidence, "unreachable") {
			t.Errorf("%s: %q", c.ID, c.Evidence)
		}
	}
}

func TestCheckAssessmentPassesExitsZero(t *testing.T) {
	dir := t.TempDir()
	kc := silentKubeconfig(t)
	out, errOut, code := runCheckCmd(t, "--dir", dir, "--kubeconfig", kc, "--only", "SC-007", "--assess", "yes", "--assess-note", "ran it for a week")
	if code != 0 || !strings.Contains(out, "SC-007") || !strings.Contains(out, "1 passed") {
		t.Fatalf("exit %d\n%s\n%s", code, out, errOut)
	}
	if _, err := os.Stat(filepath.Join(dir, ".migrate-tui", "assessment.json")); err != nil {
		t.Error(err)
	}
}
