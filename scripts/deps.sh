#!/bin/sh
# Install the Debian 12 packages edgesteer needs, if any is missing.
# Runs as root without a terminal (CI); as another user it names what
# to install and fails. 'deps.sh perf' adds what make perf needs (plots).
set -eu
[ "${1:-}" = perf ] && EXTRA="python3-matplotlib" || EXTRA=""
PKGS="$EXTRA pkg-config libdpdk-dev dpdk dpdk-dev libbpf-dev libnuma-dev libcmocka-dev
libpcap-dev libelf-dev zlib1g-dev clang llvm libclang-rt-14-dev python3-scapy tshark iproute2"
missing=""
for p in $PKGS; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" ||
		missing="$missing $p"
done
[ -z "$missing" ] && exit 0
echo "deps: installing:$missing"
if [ "$(id -u)" != 0 ]; then
	echo "deps: not root: run 'apt-get install$missing' as root" >&2
	exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends $missing </dev/null
