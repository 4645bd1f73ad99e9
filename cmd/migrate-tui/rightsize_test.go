package main

import (
	"bytes"
	"strings"
	"testing"
)

func runRoot(t *testing.T, args ...string) (string, string, int) {
	t.Helper()
	var out, errOut bytes.Buffer
	root := newRootCmd(strings.NewReader(""), &out, &errOut)
	root.SetArgs(args)
	code := 0
	if err := root.Execute(); err != nil {
		code = exitCode(err)
		errOut.WriteString(err.Error())
	}
	return out.String(), errOut.String(), code
}

func TestRightsizeExitCodes(t *testing.T) {
	t.Setenv("NOMAD_ADDR", "")
	dir := t.TempDir()
	kc := silentKubeconfig(t)
	for _, tc := range []struct {
		name string
		args []string
		code int
		want string
	}{
		{"unknown flag", []string{"--bogus"}, exitUsage, "unknown flag"},
		{"negative core MHz", []string{"--core-mhz", "-1", "--kubeconfig", kc}, exitUsage, "--core-mhz must be positive"},
		{"no kubeconfig", []string{"--kubeconfig", dir + "/missing"}, exitUsage, "no kubeconfig"},
		// The API accepts and never answers: the VPA list fails, the run failed.
		{"cluster unreachable", []string{"--kubeconfig", kc, "--timeout", "2s", "whoami"}, exitFailed, "reading the VPA targets: unreachable"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, errOut, code := runRoot(t, append([]string{"rightsize", "--dir", dir}, tc.args...)...)
			if code != tc.code || !strings.Contains(errOut, tc.want) {
				t.Errorf("exit %d, stderr %q; want %d and %q", code, errOut, tc.code, tc.want)
			}
		})
	}
}
