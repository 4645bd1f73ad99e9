package stageui

import (
	"context"
	"errors"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	tea "github.com/charmbracelet/bubbletea"

	"migrate-tui/internal/sshinstall"
	"migrate-tui/internal/stages"
	"migrate-tui/internal/status"
)

func noRegressions() stages.Guard {
	return stages.GuardFunc(func(context.Context) ([]stages.Regression, error) { return nil, nil })
}

func press(k string) tea.KeyMsg {
	if k == "enter" {
		return tea.KeyMsg{Type: tea.KeyEnter}
	}
	return tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune(k)}
}

// Adopting from the screen checks the kubeconfig and installs nothing; a
// missing file is a failed API check naming it.
func TestClusterScreenAdoptsMissingKubeconfig(t *testing.T) {
	repo := t.TempDir()
	m := NewCluster(context.Background(), &stages.Cluster{RepoDir: repo, Guard: noRegressions()},
		ClusterOptions{Title: "Cluster (K3s)", Kubeconfig: filepath.Join(repo, "missing.yaml")})
	m.Update(press("a"))
	_, cmd := m.Update(press("enter"))
	m.Update(cmd())
	v := m.View()
	if !strings.Contains(v, status.Fail.Mark()+" Kubernetes API") || !strings.Contains(v, "missing.yaml") || !strings.Contains(v, "Press r to choose again") {
		t.Fatalf("adopting a missing kubeconfig:\n%s", v)
	}
}

// The screen's install logs in as the wizard's --ssh-user with its
// --ssh-key and --known-hosts (the same stages.SSHOptions as apply), asks
// before installing, and says what failed.
func TestClusterScreenInstallUsesTheSSHFlags(t *testing.T) {
	repo := t.TempDir()
	var got sshinstall.ClusterOptions
	cl := &stages.Cluster{RepoDir: repo, Guard: noRegressions(),
		RunSSH: func(ctx context.Context, o sshinstall.ClusterOptions) ([]sshinstall.CheckResult, error) {
			got = o
			rs := []sshinstall.CheckResult{{Node: "hestia", Title: "SSH", Status: status.Pass, Evidence: "logged in"}}
			if err := o.Confirm(rs); err != nil {
				return rs, err
			}
			return rs, errors.New("the installer exited 1")
		}}
	ssh := stages.SSHOptions{User: "ops", KeyFiles: []string{"/k/id_ed25519"}, KnownHosts: []string{"/k/known_hosts"}, InstallerURL: "http://mirror/k3s.sh"}
	m := NewCluster(context.Background(), cl, ClusterOptions{Title: "Cluster (K3s)", SSH: ssh})
	if v := m.View(); !strings.Contains(v, "as ops with /k/id_ed25519 and /k/known_hosts") {
		t.Fatalf("the choice does not say how the install logs in:\n%s", v)
	}
	_, cmd := m.Update(press("i"))
	m.Update(cmd()) // the preflight results: asks
	if v := m.View(); !strings.Contains(v, "Install K3s on these nodes now?") || !strings.Contains(v, "hestia: SSH") {
		t.Fatalf("no confirmation after the preflight:\n%s", v)
	}
	_, cmd = m.Update(press("y"))
	m.Update(cmd())
	if got.Auth.User != "ops" || !slices.Equal(got.Auth.KeyFiles, ssh.KeyFiles) || !slices.Equal(got.Auth.KnownHosts, ssh.KnownHosts) || got.InstallerURL != ssh.InstallerURL {
		t.Fatalf("the install got %+v (installer %q), want the screen's SSH options %+v", got.Auth, got.InstallerURL, ssh)
	}
	if v := m.View(); !strings.Contains(v, "the installer exited 1") || !strings.Contains(v, "Press r to choose again") {
		t.Fatalf("a failed install:\n%s", v)
	}
}

// Without --ssh-user the install logs in as $USER, as apply's does.
func TestSSHOptionsDefaultUser(t *testing.T) {
	t.Setenv("USER", "operator")
	if u := (stages.SSHOptions{}).Install(nil, nil).Auth.User; u != "operator" {
		t.Fatalf("default user %q, want $USER", u)
	}
	if u := (stages.SSHOptions{User: "ops"}).Install(nil, nil).Auth.User; u != "ops" {
		t.Fatalf("--ssh-user ignored: %q", u)
	}
}
