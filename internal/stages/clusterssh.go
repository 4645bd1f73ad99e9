package stages

import (
	"os"

	"migrate-tui/internal/sshinstall"
)

// SSHOptions are how the cluster stage's install reaches the nodes: the
// same flags (--ssh-user, --ssh-key, --known-hosts, --k3s-installer-url)
// for `apply --stage cluster` and the wizard.
type SSHOptions struct {
	User         string   // default $USER (sudo is used for root)
	KeyFiles     []string // default the ssh-agent
	KnownHosts   []string // default ~/.ssh/known_hosts
	InstallerURL string   // default get.k3s.io
}

// Set reports whether any option was given (they belong to an install).
func (o SSHOptions) Set() bool {
	return o.User != "" || len(o.KeyFiles) > 0 || len(o.KnownHosts) > 0 || o.InstallerURL != ""
}

// Install is the install's options with these SSH settings; progress and
// confirm are how the caller (a terminal, a screen) shows and asks.
func (o SSHOptions) Install(progress func(sshinstall.Step), confirm func([]sshinstall.CheckResult) error) InstallOptions {
	auth := sshinstall.Auth{User: o.User, KeyFiles: o.KeyFiles, KnownHosts: o.KnownHosts}
	if auth.User == "" {
		auth.User = os.Getenv("USER")
	}
	return InstallOptions{Auth: auth, InstallerURL: o.InstallerURL, Progress: progress, Confirm: confirm}
}
