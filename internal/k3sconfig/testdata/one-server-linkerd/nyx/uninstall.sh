#!/bin/sh
# Removes K3s from nyx (agent): K3s's own uninstall script,
# then the configuration and token migrate-tui wrote. Nomad is not touched.
set -eu

UNINSTALL='/usr/local/bin/k3s-agent-uninstall.sh'

[ "$(id -u)" -eq 0 ] || { echo "k3s uninstall on nyx: must run as root (found uid $(id -u))." >&2; exit 1; }

if [ -x "$UNINSTALL" ]; then
  "$UNINSTALL"
else
  echo "k3s uninstall on nyx: $UNINSTALL not found, K3s is not installed."
fi
rm -f /etc/rancher/k3s/config.yaml '/etc/rancher/k3s/cluster-token'
echo "k3s removed from nyx"
