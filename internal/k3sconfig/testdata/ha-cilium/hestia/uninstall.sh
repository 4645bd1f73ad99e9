#!/bin/sh
# Removes K3s from hestia (server-init) and leaves Nomad's networking alone.
#
# K3s's own k3s-uninstall.sh runs k3s-killall.sh, which deletes every
# iptables rule matching CNI-, all of /var/lib/cni and every cni-* network
# interface namespace mount (k3s-io/k3s install.sh, create_killall). Nomad's
# bridge networking uses the same CNI plugins: its CNI- chains, its IPAM
# under /var/lib/cni/networks/nomad. So this script does what killall and
# uninstall do, restricted to what K3s and Cilium own:
#   - the k3s service, its containerd shims and their containers;
#   - K3s's mounts (/run/k3s, kubelet pods and plugins, containerd's cni-*
#     network namespaces; Nomad names its namespaces by allocation ID);
#   - the interfaces of K3s's flannel (cni0, flannel.*, kube-ipvs0) and of
#     Cilium (cilium_*, lxc*); Nomad's bridge (nomad) is not touched;
#   - iptables: KUBE-*, FLANNEL*, CILIUM_* chains and the CNI- rules and chains
#     of K3s's own CNI network (cbr0); Nomad's CNI- rules and the shared
#     CNI-HOSTPORT-*/CNI-FORWARD chains stay;
#   - /var/lib/cni/networks/cbr0 and cbr0's cached results, nothing else there.
# Cilium also leaves behind what this removes: its BPF programs on the
# host's devices and pins under /sys/fs/bpf, /run/cilium, its ip rules and
# routing tables 2004/2005, /opt/cni/bin/cilium-cni and
# /etc/cni/net.d/05-cilium.conflist (cni.uninstall is off by default). It
# does not undo sysctls it set nor unload kernel modules: a reboot does.
set -eu

NODE='hestia'
UNIT='k3s'
DATA_DIR=/var/lib/rancher/k3s
# The network name of K3s's flannel CNI configuration.
K3S_CNI_NETWORK=cbr0

log() { echo "k3s uninstall on $NODE: $*"; }

[ "$(id -u)" -eq 0 ] || { echo "k3s uninstall on $NODE: must run as root (found uid $(id -u))." >&2; exit 1; }

# --- the service ---
if command -v systemctl >/dev/null 2>&1; then
  systemctl stop "$UNIT" 2>/dev/null || true
  systemctl disable "$UNIT" 2>/dev/null || true
fi
if [ -x "/etc/init.d/$UNIT" ]; then "/etc/init.d/$UNIT" stop || true; fi

# --- K3s's containerd shims and every process under them ---
children() {
  ps -e -o ppid= -o pid= | awk -v p="$1" '$1 == p { print $2 }'
}
tree() {
  for pid in "$@"; do
    echo "$pid"
    # shellcheck disable=SC2046
    tree $(children "$pid")
  done
}
shims=$(ps -e -o pid= -o args= | awk -v d="$DATA_DIR/data/" 'index($2, d) == 1 && $2 ~ /\/bin\/containerd-shim/ { print $1 }')
if [ -n "$shims" ]; then
  # Word splitting is wanted: one PID per word.
  # shellcheck disable=SC2046,SC2086
  kill -9 $(tree $shims) 2>/dev/null || true
fi

# --- mounts ---
unmount_under() {
  awk -v p="$1" 'index($2, p) == 1 { print $2 }' /proc/self/mounts | sort -r | while read -r m; do
    umount -f "$m" 2>/dev/null || umount -l "$m" 2>/dev/null || true
    rm -rf "$m" 2>/dev/null || true
  done
}
unmount_under /run/k3s
unmount_under /var/lib/kubelet/pods
unmount_under /var/lib/kubelet/plugins
unmount_under /run/netns/cni-
# containerd names the pod network namespaces cni-<uuid>.
for ns in $(ip netns list 2>/dev/null | awk '$1 ~ /^cni-/ { print $1 }'); do
  ip netns delete "$ns" 2>/dev/null || true
done

# --- interfaces ---
ip -o link show 2>/dev/null | awk -F': ' '/ master cni0 / { sub(/@.*/, "", $2); print $2 }' | while read -r i; do
  ip link delete "$i" 2>/dev/null || true
done
for i in cni0 flannel.1 flannel-v6.1 flannel-wg flannel-wg-v6 kube-ipvs0 cilium_host cilium_net cilium_vxlan cilium_geneve cilium_wg0 lxc_health; do
  ip link delete "$i" 2>/dev/null || true
done
# Cilium's endpoint veths are lxc<hex>.
ip -o link show 2>/dev/null | awk -F': ' '{ sub(/@.*/, "", $2) } $2 ~ /^lxc[0-9a-f]+$/ { print $2 }' | while read -r i; do
  ip link delete "$i" 2>/dev/null || true
done

# --- Cilium's BPF programs, pins, routing ---
for dev in $(ip -o link show 2>/dev/null | awk -F': ' '{ sub(/@.*/, "", $2); print $2 }'); do
  for hook in ingress egress; do
    tc filter show dev "$dev" "$hook" 2>/dev/null | awk '/ bpf / && / cil_/ { for (i = 1; i < NF; i++) if ($i == "pref") print $(i + 1) }' | sort -u | while read -r pref; do
      tc filter del dev "$dev" "$hook" pref "$pref" 2>/dev/null || true
    done
  done
done
rm -rf /sys/fs/bpf/cilium /sys/fs/bpf/tc/globals/cilium_* /run/cilium 2>/dev/null || true
for table in 2004 2005; do
  while ip rule show | grep -q "lookup $table"; do
    ip rule del table "$table" 2>/dev/null || break
  done
  ip route flush table "$table" 2>/dev/null || true
done
rm -f /opt/cni/bin/cilium-cni /etc/cni/net.d/05-cilium.conflist

# --- iptables: only K3s's and its CNI network's rules ---
# k3s_rules_removed reads iptables-save output and prints it without the
# chains and rules K3s owns (see the top of this script).
k3s_rules_removed() {
  # iptables-save prints the comment's quotes escaped: name: \"cbr0\". It
  # goes through the environment, which awk does not unescape (-v would).
  K3S_NET_MARK="name: \\\"$K3S_CNI_NETWORK\\\"" awk '
    BEGIN { net = ENVIRON["K3S_NET_MARK"] }
    function shared(c) { return c ~ /^CNI-(HOSTPORT-DNAT|HOSTPORT-SETMARK|HOSTPORT-MASQ|FORWARD|ADMIN)$/ }
    function target(line,   n, f, i) { n = split(line, f, " "); for (i = 1; i < n; i++) if (f[i] == "-j" || f[i] == "-g") return f[i + 1]; return "" }
    { lines[NR] = $0 }
    index($0, net) && $1 == "-A" {
      if ($2 ~ /^CNI-/ && !shared($2)) owned[$2] = 1
      t = target($0); if (t ~ /^CNI-/ && !shared(t)) owned[t] = 1
    }
    END {
      for (i = 1; i <= NR; i++) {
        l = lines[i]
        if (l ~ /KUBE-|CILIUM_|cilium-feeder/ || tolower(l) ~ /flannel/ || index(l, net)) continue
        if (l ~ /^:/) { c = substr(l, 2); sub(/ .*/, "", c); if (c in owned) continue }
        split(l, f, " ")
        if (f[1] == "-A" && (f[2] in owned || target(l) in owned)) continue
        print l
      }
    }'
}
for x in iptables ip6tables; do
  if ! command -v "$x-save" >/dev/null 2>&1 || ! command -v "$x-restore" >/dev/null 2>&1; then continue; fi
  before=$("$x-save" 2>/dev/null) || continue
  after=$(printf '%s\n' "$before" | k3s_rules_removed)
  [ "$before" = "$after" ] && continue
  if printf '%s\n' "$after" | "$x-restore" --test 2>/dev/null; then
    printf '%s\n' "$after" | "$x-restore"
    log "removed K3s's $x rules; Nomad's CNI rules kept"
  else
    log "$x-restore refused the filtered rules; nothing changed in $x. Remove KUBE-* and CILIUM_* chains by hand."
  fi
done

# --- files ---
rm -rf /var/lib/cni/networks/cbr0
rm -f /var/lib/cni/results/cbr0-*
for cmd in kubectl crictl ctr; do
  if [ -L "/usr/local/bin/$cmd" ]; then rm -f "/usr/local/bin/$cmd"; fi
done
if command -v systemctl >/dev/null 2>&1; then
  systemctl reset-failed "$UNIT" 2>/dev/null || true
fi
rm -f "/etc/systemd/system/$UNIT.service" "/etc/systemd/system/$UNIT.service.env" "/etc/init.d/$UNIT"
if command -v systemctl >/dev/null 2>&1; then systemctl daemon-reload 2>/dev/null || true; fi
# A directory that is itself a mount point is emptied, not removed.
remove_tree() {
  if awk -v p="$1" '$2 == p { found = 1 } END { exit !found }' /proc/self/mounts; then
    find "$1" -mindepth 1 -maxdepth 1 -exec rm -rf {} +
  else
    rm -rf "$1"
  fi
}
unmount_under "$DATA_DIR"
for d in /etc/rancher/k3s /run/k3s /run/flannel "$DATA_DIR" /var/lib/kubelet; do
  remove_tree "$d"
done
rm -f /usr/local/bin/k3s /usr/local/bin/k3s-killall.sh /usr/local/bin/k3s-uninstall.sh /usr/local/bin/k3s-agent-uninstall.sh
log "K3s removed; Nomad's bridge, CNI rules and /var/lib/cni/networks entries other than cbr0 were left alone"
