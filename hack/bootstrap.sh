#!/usr/bin/env bash
# Builds the pinned test tools from the Go module proxy into a cache outside
# the repository. Idempotent: a tool already built at its pinned version is
# skipped, so a second run takes seconds.
#
#   hack/bootstrap.sh            build everything
#   hack/bootstrap.sh --print    print the tools directory and exit
#
# The cache lives in $MIGRATE_TUI_TOOLS (default ~/.cache/migrate-tui/tools).
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=hack/versions.env
. "$here/versions.env"

TOOLS=${MIGRATE_TUI_TOOLS:-$HOME/.cache/migrate-tui/tools}
BIN=$TOOLS/bin
SRC=$TOOLS/src
STAMPS=$TOOLS/stamps
if [ "${1:-}" = "--print" ]; then echo "$TOOLS"; exit 0; fi
mkdir -p "$BIN" "$SRC" "$STAMPS"

# -s: no symbol table or DWARF; the binaries link faster and are much smaller.
export GOFLAGS="-mod=mod -trimpath -ldflags=-s"
export GOTOOLCHAIN=${GOTOOLCHAIN:-local}

log() { printf '[bootstrap %s] %s\n' "$(date +%H:%M:%S)" "$*"; }

# done_already NAME VERSION: true when NAME was built at VERSION and its
# binaries are still there.
done_already() {
  [ -f "$STAMPS/$1" ] && [ "$(cat "$STAMPS/$1")" = "$2" ]
}
stamp() { echo "$2" >"$STAMPS/$1"; }

modfile() { go mod download -json "$1" | python3 -c 'import json,sys; print(json.load(sys.stdin)["GoMod"])'; }
moddir() { go mod download -json "$1" | python3 -c 'import json,sys; print(json.load(sys.stdin)["Dir"])'; }

build_kube() {
  local v=$KUBERNETES_VERSION
  if done_already kube "$v" && [ -x "$BIN/kube-apiserver" ] && [ -x "$BIN/kube-controller-manager" ] && [ -x "$BIN/kube-scheduler" ]; then
    log "kube-apiserver, kube-controller-manager, kube-scheduler $v: cached"; return
  fi
  log "building kube-apiserver, kube-controller-manager, kube-scheduler $v (first time: several minutes)"
  local d=$SRC/kube
  rm -rf "$d"; mkdir -p "$d"; cd "$d"
  go mod init migrate-tui-tools/kube >/dev/null 2>&1
  go mod edit -go=1.26 -require="k8s.io/kubernetes@$v"
  # Replace every staging module k8s.io/kubernetes itself replaces with ./staging.
  local staging
  staging=$(go mod edit -json "$(modfile "k8s.io/kubernetes@$v")" | python3 -c '
import json,sys
d=json.load(sys.stdin)
print(" ".join(r["Old"]["Path"] for r in d.get("Replace") or [] if r["New"]["Path"].startswith("./staging")))')
  local m
  for m in $staging; do go mod edit -replace="$m=$m@$KUBERNETES_STAGING_VERSION"; done
  go get "k8s.io/kubernetes/cmd/kube-apiserver@$v" "k8s.io/kubernetes/cmd/kube-controller-manager@$v" "k8s.io/kubernetes/cmd/kube-scheduler@$v"
  for m in kube-apiserver kube-controller-manager kube-scheduler; do
    log "  go build $m"
    go build -o "$BIN/$m" "k8s.io/kubernetes/cmd/$m"
  done
  stamp kube "$v"
}

build_tofu() {
  local v=$OPENTOFU_VERSION
  if done_already tofu "$v" && [ -x "$BIN/tofu" ]; then log "tofu $v: cached"; return; fi
  log "building OpenTofu $v"
  local d=$SRC/tofu
  rm -rf "$d"; mkdir -p "$d"; cd "$d"
  go mod init migrate-tui-tools/tofu >/dev/null 2>&1
  go mod edit -go=1.26 -require="github.com/opentofu/opentofu@$v" -replace="github.com/hashicorp/hcl/v2=$OPENTOFU_HCL_REPLACE"
  go get "github.com/opentofu/opentofu/cmd/tofu@$v"
  go build -o "$BIN/tofu" github.com/opentofu/opentofu/cmd/tofu
  stamp tofu "$v"
}

build_provider() {
  local v=$KUBECTL_PROVIDER_VERSION plain=${KUBECTL_PROVIDER_VERSION#v}
  local arch; arch=$(go env GOOS)_$(go env GOARCH)
  local exe=$TOOLS/provider-build/terraform-provider-kubectl
  if done_already provider "$v" && [ -x "$TOOLS/mirror/registry.opentofu.org/gavinbunney/kubectl/$plain/$arch/terraform-provider-kubectl_$v" ]; then
    log "gavinbunney/kubectl provider $v: cached"; return
  fi
  log "building the gavinbunney/kubectl provider $v"
  mkdir -p "$TOOLS/provider-build"
  GOBIN=$TOOLS/provider-build go install "github.com/gavinbunney/terraform-provider-kubectl@$v"
  # A filesystem mirror in the unpacked layout, for both registries' names, so
  # `tofu init` and `terraform init` find it with no network.
  local host
  for host in registry.opentofu.org registry.terraform.io; do
    mkdir -p "$TOOLS/mirror/$host/gavinbunney/kubectl/$plain/$arch"
    cp "$exe" "$TOOLS/mirror/$host/gavinbunney/kubectl/$plain/$arch/terraform-provider-kubectl_$v"
  done
  stamp provider "$v"
}

go_install() { # NAME VERSION PACKAGE
  if done_already "$1" "$2" && [ -x "$BIN/$1" ]; then log "$1 $2: cached"; return; fi
  log "building $1 $2"
  GOBIN=$BIN go install "$3@$2"
  stamp "$1" "$2"
}

build_vpa() {
  local v=$VPA_VERSION
  if done_already vpa-recommender "$v" && [ -x "$BIN/vpa-recommender" ]; then log "vpa-recommender $v: cached"; return; fi
  log "building the VPA recommender $v"
  local d=$SRC/vpa mod="k8s.io/autoscaler/vertical-pod-autoscaler"
  rm -rf "$d"; mkdir -p "$d"; cd "$d"
  go mod init migrate-tui-tools/vpa >/dev/null 2>&1
  go mod edit -go=1.26 -require="$mod@$v"
  # Repeat the module's own exclude block (old client-go tags).
  local ex
  for ex in $(go mod edit -json "$(modfile "$mod@$v")" | python3 -c '
import json,sys
d=json.load(sys.stdin)
print(" ".join(e["Path"]+"@"+e["Version"] for e in d.get("Exclude") or []))'); do
    go mod edit -exclude="$ex"
  done
  go get "$mod/pkg/recommender@$v"
  go build -o "$BIN/vpa-recommender" "$mod/pkg/recommender"
  stamp vpa-recommender "$v"
}

# Litestream at VERSION installed as litestream-SUFFIX, so both versions sit
# side by side (go install would name both "litestream"). 0.3 needs cgo
# (mattn/go-sqlite3); 0.5 uses modernc.org/sqlite.
build_litestream() { # SUFFIX VERSION
  local name=litestream-$1 v=$2
  if done_already "$name" "$v" && [ -x "$BIN/$name" ]; then log "$name $v: cached"; return; fi
  log "building $name $v"
  local d=$SRC/$name
  rm -rf "$d"; mkdir -p "$d"
  GOBIN=$d go install "github.com/benbjohnson/litestream/cmd/litestream@$v"
  mv "$d/litestream" "$BIN/$name"
  stamp "$name" "$v"
}

# Traefik: `go install` refuses it (its go.mod has replace directives), so a
# tools module repeats the module's own replace and exclude blocks. Every
# replacement must be a published module version; a local path (v3.7's
# ./pkg/config/dynamic/ext) cannot be served by the proxy, hence the 3.6 pin.
build_traefik() {
  local v=$TRAEFIK_VERSION
  if done_already traefik "$v" && [ -x "$BIN/traefik" ]; then log "traefik $v: cached"; return; fi
  log "building Traefik $v (first time: about 11 minutes)"
  local d=$SRC/traefik mod="github.com/traefik/traefik/v3"
  rm -rf "$d"; mkdir -p "$d"; cd "$d"
  go mod init migrate-tui-tools/traefik >/dev/null 2>&1
  go mod edit -go=1.26 -require="$mod@$v"
  local e
  for e in $(go mod edit -json "$(modfile "$mod@$v")" | python3 -c '
import json,sys
d=json.load(sys.stdin)
for r in d.get("Replace") or []:
    if not r["New"].get("Version"):
        sys.exit("bootstrap: %s is replaced by a local path; pick another Traefik version" % r["Old"]["Path"])
    old = r["Old"]["Path"] + ("@" + r["Old"]["Version"] if r["Old"].get("Version") else "")
    print("-replace=%s=%s@%s" % (old, r["New"]["Path"], r["New"]["Version"]))
for x in d.get("Exclude") or []:
    print("-exclude=%s@%s" % (x["Path"], x["Version"]))'); do
    go mod edit "$e"
  done
  go get "$mod/cmd/traefik@$v"
  go build -o "$BIN/traefik" "$mod/cmd/traefik"
  stamp traefik "$v"
}

# Module sources the test world reads CRDs and KWOK stages from.
fetch_sources() {
  log "fetching CRD and stage sources into the module cache"
  local m
  for m in "sigs.k8s.io/kwok@$KWOK_VERSION" "k8s.io/autoscaler/vertical-pod-autoscaler@$VPA_VERSION" \
    "github.com/external-secrets/external-secrets@$EXTERNAL_SECRETS_VERSION" \
    "github.com/traefik/traefik/v3@$TRAEFIK_VERSION" "github.com/cilium/cilium@$CILIUM_VERSION" \
    "github.com/k3s-io/helm-controller@$K3S_HELM_CONTROLLER_VERSION" "istio.io/api@$ISTIO_API_VERSION"; do
    (cd "$SRC" && moddir "$m" >/dev/null) || { echo "bootstrap: could not fetch $m from the Go module proxy" >&2; exit 1; }
  done
}

# etcd from go.etcd.io: the server module's replace lines point at its
# sibling modules, so a tools module requires all five at the same version.
build_etcd() {
  local v=$ETCD_VERSION
  if done_already etcd "$v" && [ -x "$BIN/etcd" ]; then log "etcd $v: cached"; return; fi
  log "building etcd $v"
  local d=$SRC/etcd m
  rm -rf "$d"; mkdir -p "$d"; cd "$d"
  go mod init migrate-tui-tools/etcd >/dev/null 2>&1
  go mod edit -go=1.26
  for m in server api client/pkg client pkg; do go mod edit -require="go.etcd.io/etcd/$m/v3@$v"; done
  go get "go.etcd.io/etcd/server/v3@$v"
  go build -o "$BIN/etcd" go.etcd.io/etcd/server/v3
  stamp etcd "$v"
}

# Debian's sqlite3 shell: the Litestream round-trip tests write and read a
# real SQLite database with it.
need_sqlite3() {
  if command -v sqlite3 >/dev/null 2>&1; then log "sqlite3: $(command -v sqlite3)"; return; fi
  if [ "$(id -u)" = 0 ]; then
    log "installing sqlite3 from Debian"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq sqlite3 >/dev/null
  else
    echo "bootstrap: sqlite3 is missing; run: sudo apt-get install -y sqlite3" >&2; exit 1
  fi
}

start=$(date +%s)
need_sqlite3
fetch_sources

# Two lanes of builds side by side: go build already uses both cores while
# compiling, but each link, and every module download, runs on one; a second
# lane fills that idle core. The lanes are balanced by first-build time
# (README); each is a subshell, so a build's `cd` stays in its lane.
lane_a() {
  build_kube
  build_vpa
  go_install metrics-server "$METRICS_SERVER_VERSION" sigs.k8s.io/metrics-server/cmd/metrics-server
  # K3s's local-path provisioner, run natively by the test world (Options.LocalPath).
  go_install local-path-provisioner "$LOCAL_PATH_PROVISIONER_VERSION" github.com/rancher/local-path-provisioner
  build_litestream 0.5 "$LITESTREAM_VERSION"
  build_litestream 0.3 "$LITESTREAM_03_VERSION"
}
lane_b() {
  build_etcd
  build_traefik
  build_tofu
  build_provider
  go_install kwok "$KWOK_VERSION" sigs.k8s.io/kwok/cmd/kwok
  # CoreDNS, run by the test world with K3s's Corefile (Options.CoreDNS).
  go_install coredns "$COREDNS_VERSION" github.com/coredns/coredns
  go_install versitygw "$VERSITYGW_VERSION" github.com/versity/versitygw/cmd/versitygw
  # The step CLI the Linkerd certificate Jobs run (the step-cli image's tag).
  go_install step "$STEP_CLI_VERSION" github.com/smallstep/cli/cmd/step
}
( set -e; lane_a ) & pid_a=$!
( set -e; lane_b ) & pid_b=$!
failed=0
wait "$pid_a" || { echo "bootstrap: a build in lane A failed (see above)" >&2; failed=1; }
wait "$pid_b" || { echo "bootstrap: a build in lane B failed (see above)" >&2; failed=1; }
[ "$failed" = 0 ] || exit 1
log "done in $(( $(date +%s) - start ))s; tools in $TOOLS"
