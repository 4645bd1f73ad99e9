#!/usr/bin/env bash
# The test command (README, .ci/run): installs what the tests need, then vets
# and tests everything against the real test world.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

if ! command -v shellcheck >/dev/null 2>&1 || ! command -v sshd >/dev/null 2>&1 && [ ! -x /usr/sbin/sshd ]; then
  if [ "$(id -u)" = 0 ]; then
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq shellcheck openssh-server openssh-client iproute2 >/dev/null
  fi
fi
bash hack/bootstrap.sh
go vet ./...
# One test world per package; -p 2 matches CI's two cores.
go test -p 2 -count=1 -timeout 40m "$@" ./...
