#!/usr/bin/env bash
# Fetch the newest linux-source-X.Y that Debian ships in a newer suite (default:
# trixie-backports) without touching the system's apt configuration: a private
# sources list and private lists, package cache and downloads under the l4u cache
# (~/.cache/l4u, or L4U_CACHE). The mirror is the one the system's apt already uses.
# The .deb is unpacked and only its source tarball kept, one per Debian version.
#
# Prints "<debian version> <tarball>" on stdout. Offline (or when the suite cannot be
# read), falls back to the newest tarball fetched earlier.
#
# Environment:
#   L4U_LATEST_SUITES="trixie-backports"  suites to look in (e.g. "trixie-backports sid")
#   L4U_LATEST_REFRESH=SECONDS            re-read the suites when their lists are older
#                                         than this (default 86400; 0: always)
#   L4U_DEBIAN_MIRROR=URL                 the mirror, instead of the system's
set -euo pipefail
cache=${L4U_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/l4u}
apt_dir=$cache/apt
src_dir=$cache/src
suites=${L4U_LATEST_SUITES:-trixie-backports}
refresh=${L4U_LATEST_REFRESH:-86400}

say() { echo "fetch-kernel-source: $*" >&2; }
die() { say "$*"; exit 1; }

# The Debian mirror of the system's apt sources: the first URI serving a suite that is
# not a security suite, in one-line (.list) or deb822 (.sources) form.
system_mirror() {
	local f
	for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
		[ -r "$f" ] || continue
		awk '$1 == "deb" {
			i = 2
			if ($i ~ /^\[/) while ($i !~ /\]$/) i++
			if ($i ~ /^\[/ || $i ~ /\]$/) i++
			if ($(i + 1) !~ /security/ && $(i + 1) ~ /^(bookworm|trixie|forky|sid|stable|testing|unstable)/) { print $i; exit }
		}' "$f"
	done
	for f in /etc/apt/sources.list.d/*.sources; do
		[ -r "$f" ] || continue
		# deb822: stanzas separated by blank lines
		awk 'BEGIN { RS = ""; FS = "\n" }
		{
			uri = ""; suites = ""; deb = 0
			for (i = 1; i <= NF; i++) {
				if ($i ~ /^Types:.*(^|[ \t])deb([ \t]|$)/) deb = 1
				if ($i ~ /^URIs:/) { uri = $i; sub(/^URIs:[ \t]*/, "", uri); sub(/[ \t].*/, "", uri) }
				if ($i ~ /^Suites:/) { suites = $i; sub(/^Suites:[ \t]*/, "", suites) }
				if ($i ~ /^Enabled:[ \t]*no/) deb = 0
			}
			if (deb && uri != "" && suites !~ /security/ &&
			    suites ~ /(^|[ \t])(bookworm|trixie|forky|sid|stable|testing|unstable)/) { print uri; exit }
		}' "$f"
	done
}

# first GLOB...: the first file a glob matched (nothing when it matched none)
first() { if [ -e "$1" ]; then echo "$1"; fi; }

# newest_cached: "<version> <tarball>" of the newest tarball fetched earlier
newest_cached() {
	local d v best_v='' best_t=''
	for d in "$src_dir"/*/; do
		[ -f "$d/.l4u-version" ] || continue
		v=$(cat "$d/.l4u-version")
		if [ -z "$best_v" ] || dpkg --compare-versions "$v" gt "$best_v"; then
			best_v=$v
			best_t=$(first "${d%/}"/linux-source-*.tar.xz)
		fi
	done
	[ -n "$best_t" ] || return 1
	echo "$best_v $best_t"
}

mkdir -p "$apt_dir/lists/partial" "$apt_dir/cache/archives/partial" "$apt_dir/none.d" "$src_dir"
exec 8>"$cache/.fetch.lock"
flock 8

mirror=${L4U_DEBIAN_MIRROR:-$(system_mirror | head -n 1)}
list=$apt_dir/sources.list
if [ -n "$mirror" ]; then
	{
		for s in $suites; do
			echo "deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] $mirror $s main"
		done
	} >"$list.new"
	mv "$list.new" "$list"
fi

aptopt=(
	-o Dir::Etc::sourcelist="$list" -o Dir::Etc::sourceparts="$apt_dir/none.d"
	-o Dir::State::Lists="$apt_dir/lists" -o Dir::Cache="$apt_dir/cache"
	-o Dir::Cache::archives="$apt_dir/cache/archives"
	-o Dir::Etc::preferences=/dev/null -o Dir::Etc::preferencesparts="$apt_dir/none.d"
	-o Dir::State::status=/dev/null
	-o APT::Sandbox::User=root -o Debug::NoLocking=1
	-o Acquire::Retries=1 -o Acquire::http::Timeout=20 -o Acquire::Languages=none
	-o APT::Get::List-Cleanup=1 -q
)

stamp=$apt_dir/lists/.l4u-updated
fresh=no
if [ -f "$stamp" ] && [ "$refresh" -gt 0 ] &&
   [ $(($(date +%s) - $(stat -c %Y "$stamp"))) -lt "$refresh" ] &&
   [ "$(cat "$stamp")" = "$(cat "$list" 2>/dev/null)" ]; then
	fresh=yes
fi
online=yes
if [ -z "$mirror" ]; then
	say "no Debian mirror in the system's apt sources (set L4U_DEBIAN_MIRROR)"
	online=no
elif [ "$fresh" = no ]; then
	say "reading $suites from $mirror"
	if apt-get "${aptopt[@]}" --error-on=any update >&2; then
		cp "$list" "$stamp"
	else
		say "could not read $suites"
		online=no
	fi
fi

if [ "$online" = yes ]; then
	# the newest X.Y with a linux-source-X.Y package, and its candidate version
	pkg=$(apt-cache "${aptopt[@]}" pkgnames linux-source- 2>/dev/null |
		grep -E '^linux-source-[0-9]+\.[0-9]+$' | sort -V | tail -n 1 || true)
	ver=
	if [ -n "$pkg" ]; then
		ver=$(apt-cache "${aptopt[@]}" policy "$pkg" 2>/dev/null |
			awk '$1 == "Candidate:" { print $2 }')
	fi
	if [ -z "$pkg" ] || [ -z "$ver" ] || [ "$ver" = "(none)" ]; then
		say "no linux-source-X.Y in $suites"
		online=no
	fi
fi

if [ "$online" = yes ]; then
	dir=$src_dir/$pkg-$ver
	if [ -f "$dir/.l4u-version" ]; then
		echo "$ver $(first "$dir"/linux-source-*.tar.xz)"
		exit 0
	fi
	say "downloading $pkg $ver"
	dl=$apt_dir/download
	rm -rf "$dl" "$dir.tmp"
	mkdir -p "$dl" "$dir.tmp"
	if (cd "$dl" && apt-get "${aptopt[@]}" download "$pkg=$ver" >&2); then
		deb=$(first "$dl"/*.deb)
		dpkg-deb --fsys-tarfile "$deb" | tar -x -C "$dir.tmp" --wildcards './usr/src/linux-source-*.tar.xz'
		mv "$dir.tmp"/usr/src/linux-source-*.tar.xz "$dir.tmp/"
		rm -rf "$dir.tmp/usr" "$dl"
		tarball=$(first "$dir.tmp"/linux-source-*.tar.xz)
		echo "$ver" >"$dir.tmp/.l4u-version"
		rm -rf "$dir"
		mv "$dir.tmp" "$dir"
		echo "$ver $dir/$(basename "$tarball")"
		exit 0
	fi
	rm -rf "$dl" "$dir.tmp"
	say "downloading $pkg $ver failed"
fi

if cached=$(newest_cached); then
	say "using the newest source fetched earlier: ${cached%% *}"
	echo "$cached"
	exit 0
fi
die "no linux-source-X.Y could be fetched and none is cached in $src_dir"
