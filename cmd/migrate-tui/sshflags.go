package main

import (
	"github.com/spf13/pflag"

	"migrate-tui/internal/stages"
)

// addSSHFlags registers the cluster install's SSH flags, the same on
// `apply` and the wizard; prefix says where they apply.
func addSSHFlags(f *pflag.FlagSet, o *stages.SSHOptions, prefix string) {
	f.StringVar(&o.User, "ssh-user", "", prefix+"the SSH user on the nodes (default $USER; sudo is used for root)")
	f.StringArrayVar(&o.KeyFiles, "ssh-key", nil, prefix+"a private key file (repeatable; default the ssh-agent)")
	f.StringArrayVar(&o.KnownHosts, "known-hosts", nil, prefix+"known_hosts file (repeatable; default ~/.ssh/known_hosts)")
	f.StringVar(&o.InstallerURL, "k3s-installer-url", "", prefix+"the K3s install script URL (a mirror; default get.k3s.io)")
}
