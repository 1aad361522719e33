#!/bin/sh
# Install the Debian packages of a list (default: tests/system-packages.txt) that are missing.
# As root it installs them; otherwise it names the command to run and fails.
#   sh tests/system-deps.sh [LIST]
set -eu
list=${1:-$(dirname "$0")/system-packages.txt}
missing=""
for pkg in $(grep -v '^#' "$list"); do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" ||
        missing="$missing $pkg"
done
[ -z "$missing" ] && exit 0
if [ "$(id -u)" != 0 ]; then
    echo "missing Debian packages:$missing" >&2
    echo "install them with: sudo apt-get install --no-install-recommends$missing" >&2
    exit 1
fi
echo "installing Debian packages:$missing"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# shellcheck disable=SC2086
apt-get install -y -qq --no-install-recommends $missing >/dev/null
