#!/bin/sh
# scripts/install-deps.sh - install what prsearch needs to build and test,
# from Debian 12's archive. Idempotent: does nothing when all is there.
# Usage: scripts/install-deps.sh [--test]   (--test adds the test tools)
set -e
build_pkgs="build-essential autoconf automake libtool pkg-config
  libsqlite3-dev sqlite3 libyaml-dev libcmark-dev libuv1-dev libstemmer-dev
  libgumbo-dev libutf8proc-dev libjansson-dev libhttp-parser-dev curl"
test_pkgs="valgrind clang libclang-rt-14-dev psmisc procps python3 util-linux jq time"
pkgs=$build_pkgs
[ "${1:-}" = "--test" ] && pkgs="$pkgs $test_pkgs"

missing=""
for p in $pkgs; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" ||
        missing="$missing $p"
done
[ -z "$missing" ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
    SUDO=sudo
else
    SUDO=
fi
echo "installing:$missing" >&2
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq >/dev/null
# shellcheck disable=SC2086
$SUDO apt-get install -y -qq --no-install-recommends $missing >/dev/null
