#!/usr/bin/env bash
# Make sure the Debian packages that building and testing l4u need are installed.
# As root: installs the missing ones (apt-get update first, only if something is
# missing). Otherwise: names the missing ones and fails.
#
# usage: scripts/deps.sh [--check]     --check: only report, never install
set -euo pipefail

pkgs=(
	# user space and the module
	gcc make libc6-dev binutils pkg-config kmod
	# l4ctl (static, on libnl-genl-3); drawing its DOT output takes graphviz,
	# which neither the tests nor the demo need
	libnl-3-dev libnl-genl-3-dev
	# the stock kernel the module must work on, with its headers
	linux-image-cloud-amd64 linux-headers-cloud-amd64
	# the 6.12 debug kernel (built from Debian's source) and the kselftest headers
	linux-source-6.12 bc bison flex libelf-dev libssl-dev xz-utils
	# the latest kernel's source, fetched with apt from the newer suite
	# (scripts/fetch-kernel-source.sh), whose signatures these keys check
	debian-archive-keyring
	# test guests
	qemu-system-x86 busybox-static cpio gzip
	# the DKMS packaging test
	dkms
	# the Debian packages (make deb) and the man page check
	dpkg-dev debhelper dh-dkms lintian man-db
)

missing=()
for p in "${pkgs[@]}"; do
	dpkg-query -W -f '${Status}' "$p" 2>/dev/null | grep -q '^install ok installed$' || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "${1:-}" = --check ] || [ "$(id -u)" != 0 ]; then
	echo "deps: missing Debian packages: ${missing[*]}" >&2
	echo "deps: install them with: sudo apt-get install ${missing[*]}  (or run this as root)" >&2
	exit 1
fi

echo "deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -q
apt-get install -y -q "${missing[@]}"
