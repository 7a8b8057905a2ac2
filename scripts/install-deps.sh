#!/bin/sh
# Installs the Debian packages devflow needs to build and test, when missing.
# Usage: scripts/install-deps.sh [build|test]   (default: test = build + servers)
set -eu

build_pkgs="cmake make gcc pkg-config libsqlite3-dev libpq-dev libmariadb-dev
libpg-query-dev libprotobuf-c-dev libjansson-dev libssl-dev libinih-dev libcmocka-dev"
test_pkgs="sqlite3 postgresql mariadb-server mariadb-client util-linux python3 python3-yaml rsync
openssl iproute2 pgbouncer"

case "${1:-test}" in
build) want=$build_pkgs ;;
test) want="$build_pkgs $test_pkgs" ;;
*) echo "usage: $0 [build|test]" >&2; exit 2 ;;
esac

missing=
for p in $want; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" ||
		missing="$missing $p"
done
[ -z "$missing" ] && exit 0

echo "devflow: installing missing packages:$missing" >&2
if [ "$(id -u)" = 0 ]; then
	sudo=
elif command -v sudo >/dev/null 2>&1; then
	sudo=sudo
else
	echo "devflow: these Debian packages are missing:$missing" >&2
	echo "devflow: install them as root: apt-get install$missing" >&2
	exit 1
fi
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq >/dev/null
# Package scripts try to start services; the tests start their own servers.
$sudo apt-get install -y -qq --no-install-recommends $missing >/dev/null
