#!/bin/sh
# Installs K3s v1.34.3+k3s1 on hestia as server-init.
# Rendered by migrate-tui from terraform.tfvars; run as root over SSH after
# the token files were written (0600): /etc/rancher/k3s/cluster-token and /etc/rancher/k3s/agent-token.
# K3S_INSTALLER_URL overrides the installer: an http(s) URL or a local file.
set -eu

K3S_VERSION='v1.34.3+k3s1'
INSTALLER_URL="${K3S_INSTALLER_URL:-https://get.k3s.io}"
CONFIG_DIR=/etc/rancher/k3s
TOKEN_FILES='/etc/rancher/k3s/cluster-token'' ''/etc/rancher/k3s/agent-token'

fail() {
  echo "k3s install on hestia: $*" >&2
  exit 1
}

[ "$(id -u)" -eq 0 ] || fail "must run as root (found uid $(id -u)); run it with sudo."

if grep -qw 'cgroup_disable=memory' /proc/cmdline && ! grep -qw 'cgroup_enable=memory' /proc/cmdline; then
  fail "memory cgroup disabled (cgroup_disable=memory in /proc/cmdline). Add cgroup_memory=1 cgroup_enable=memory to the boot command line and reboot."
fi

for token_file in $TOKEN_FILES; do
  [ -s "$token_file" ] || fail "join token missing: $token_file is empty or absent. migrate-tui writes it before this script runs."
done

umask 077
mkdir -p "$CONFIG_DIR"
cat >"$CONFIG_DIR/config.yaml" <<'K3S_CONFIG'
# K3s configuration of hestia (server-init), rendered by migrate-tui
# from terraform.tfvars. Installed as /etc/rancher/k3s/config.yaml.
# First server: initialises the embedded etcd cluster.
cluster-init: true
# The tokens are written by migrate-tui over SSH (0600); never in this file.
# Servers join with the server token and share the agent token.
token-file: "/etc/rancher/k3s/cluster-token"
agent-token-file: "/etc/rancher/k3s/agent-token"
node-name: "hestia"
node-ip: "192.168.1.5"
node-label:
  - "migrate-tui.io/node=hestia"
  - "migrate-tui.io/role=server"
kubelet-arg:
  # Leave Nomad and the host their headroom.
  - "system-reserved=cpu=250m,memory=512Mi"
  - "kube-reserved=cpu=250m,memory=512Mi"
# Must be the same on every server.
advertise-address: "192.168.1.5"
tls-san:
  - "192.168.1.5"
  - "hestia"
cluster-cidr: "10.42.0.0/16"
service-cidr: "10.43.0.0/16"
cluster-dns: "10.43.0.10"
# Clear of Nomad's dynamic ports.
service-node-port-range: "30000-30999"
disable:
  - "servicelb"
  - "traefik"
secrets-encryption: true
write-kubeconfig-mode: "0600"
K3S_CONFIG

installer=$(mktemp)
trap 'rm -f "$installer"' EXIT
case "$INSTALLER_URL" in
  /*) cp "$INSTALLER_URL" "$installer" || fail "installer $INSTALLER_URL not readable." ;;
  *) curl -sfL "$INSTALLER_URL" -o "$installer" || fail "could not download the installer from $INSTALLER_URL." ;;
esac

INSTALL_K3S_VERSION="$K3S_VERSION" INSTALL_K3S_EXEC='server' sh "$installer" ||
  fail "the K3s installer failed; see journalctl -u k3s."
echo "k3s v1.34.3+k3s1 installed on hestia as server-init"
