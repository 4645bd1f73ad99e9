#!/usr/bin/env bash
# The test command (README, .ci/run): installs what the tests need, then vets
# and tests everything against the real test world.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

need_pkgs=()
command -v shellcheck >/dev/null 2>&1 || need_pkgs+=(shellcheck)
[ -x /usr/sbin/sshd ] || need_pkgs+=(openssh-server)
command -v ssh-keygen >/dev/null 2>&1 || need_pkgs+=(openssh-client)
command -v ip >/dev/null 2>&1 || need_pkgs+=(iproute2)
# The uninstall test loads Nomad-like and K3s rules into a node's netns.
command -v iptables-save >/dev/null 2>&1 || need_pkgs+=(iptables)
command -v tmux >/dev/null 2>&1 || need_pkgs+=(tmux)
if [ ${#need_pkgs[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ]; then
    echo "[test] installing ${need_pkgs[*]} from Debian"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need_pkgs[@]}" >/dev/null
  else
    echo "[test] missing ${need_pkgs[*]}: sudo apt-get install -y ${need_pkgs[*]}" >&2
    exit 1
  fi
fi
bash hack/bootstrap.sh
echo "[test] go vet ./..."
go vet ./...
echo "[test] go test ./..."
# One test world per package; -p 2 matches CI's two cores.
go test -p 2 -count=1 -timeout 45m "$@" ./...
# Hostile input: each fuzz target for a bounded time (one target per go
# test invocation). FUZZTIME=0 skips them; the seed corpora already ran
# above as ordinary tests.
fuzztime=${FUZZTIME:-18s}
if [ "$fuzztime" != 0 ]; then
  while read -r pkg target; do
    echo "[test] fuzz $target ($pkg, $fuzztime)"
    go test -run='^$' -fuzz="^${target}\$" -fuzztime="$fuzztime" "$pkg"
  done <<'TARGETS'
./internal/state FuzzDecode
./internal/tfvars FuzzParse
./internal/tfvars FuzzDecisionTypes
./internal/tfvars FuzzAcceptedValuesRoundTrip
./internal/decisions/decide FuzzReadAnswers
./internal/sshinstall FuzzKubeconfigTarget
./internal/sshinstall FuzzParseSS
./internal/hostile FuzzTLSFromPEM
./internal/hostile FuzzTLSFromACME
./internal/tfrunner FuzzEventStream
TARGETS
fi
