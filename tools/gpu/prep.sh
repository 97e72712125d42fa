#!/usr/bin/env bash
# tools/gpu/prep.sh (`make gpu-prep`): gathers, on this machine, what the GPU machine lacks
# to build Ember: the headers and libraries of GoogleTest, fmt and zlib, from Debian's own
# packages, unpacked with `dpkg -x` into PREFIX (default .gpu-deps/prefix). The folder is
# ignored by git and travels with the working tree to the GPU machine (name it in the device
# tool's `carry`); tools/gpu/gpu_check.sh points CMake at it. See docs/gpu.md, "make gpu-check".
#
#   tools/gpu/prep.sh [--force]     --force: fetch and unpack again even when up to date
#
# Exit status: 0 done (or already up to date); 1 a package could not be fetched or unpacked;
# 2 usage error.
set -euo pipefail

repo_root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
deps_dir=${GPU_DEPS_DIR:-$repo_root/.gpu-deps}
prefix=$deps_dir/prefix
# The packages and, for each, why: headers and static libraries (gtest, zlib), the shared
# library fmt's CMake package names (libfmt.so.9 is in libfmt9).
packages=(libgtest-dev libfmt-dev libfmt9 zlib1g-dev)

force=0
for arg in "$@"; do
  case $arg in
    --force) force=1 ;;
    -h|--help) sed -n '2,12p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "gpu-prep: unknown argument '$arg' (usage: tools/gpu/prep.sh [--force])" >&2; exit 2 ;;
  esac
done

for tool in apt-get dpkg dpkg-deb; do
  command -v "$tool" >/dev/null || { echo "gpu-prep: needs $tool (a Debian machine)" >&2; exit 1; }
done

# Already there: nothing to do (--force fetches again, e.g. after a Debian update).
if [[ $force == 0 && -f $deps_dir/manifest.txt && -f $prefix/usr/include/gtest/gtest.h ]]; then
  echo "gpu-prep: $deps_dir is already there ($(du -sh "$deps_dir" | cut -f1)); --force fetches again"
  exit 0
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work"
download() {
  local sandbox=()
  [[ $(id -u) == 0 ]] && sandbox=(-o APT::Sandbox::User=root)
  apt-get download "${sandbox[@]}" "${packages[@]}"
}
if ! download >"$work/apt.log" 2>&1; then
  # No package lists yet (a fresh machine): fetch them once, as `make deps` would.
  if [[ $(id -u) == 0 ]]; then
    echo "gpu-prep: apt-get download failed; running apt-get update once"
    apt-get update -qq >/dev/null 2>&1 || true
    download >"$work/apt.log" 2>&1 || { cat "$work/apt.log" >&2; echo "gpu-prep: apt-get download failed" >&2; exit 1; }
  else
    cat "$work/apt.log" >&2
    echo "gpu-prep: apt-get download failed; try: sudo apt-get update" >&2
    exit 1
  fi
fi

rm -rf "$deps_dir"
mkdir -p "$prefix"
{
  echo "# .gpu-deps: made by tools/gpu/prep.sh (make gpu-prep); unpacked with dpkg -x into prefix/"
  echo "date: $(date -u '+%Y-%m-%d %H:%M UTC')"
  echo "commit: $(git -C "$repo_root" rev-parse --short HEAD 2>/dev/null || echo unknown)"
  echo "host: $(. /etc/os-release 2>/dev/null && echo "$PRETTY_NAME"), $(uname -m)"
  echo "packages:"
} >"$deps_dir/manifest.txt"
for deb in "$work"/*.deb; do
  dpkg -x "$deb" "$prefix"
  echo "  $(dpkg-deb -f "$deb" Package)=$(dpkg-deb -f "$deb" Version) ($(basename "$deb"))" >>"$deps_dir/manifest.txt"
done
# Only headers, libraries and CMake packages are needed.
rm -rf "$prefix/usr/share" "$prefix/usr/src"
# No links that could dangle where the folder travels: libz.so points at /lib/.../libz.so.1.x
# (the build links libz.a instead), libfmt.so is unused (fmt's CMake package names
# libfmt.so.9.1.0), and libfmt.so.9, the name the programs load, becomes a plain copy.
libdir=$prefix/usr/lib/x86_64-linux-gnu
rm -f "$libdir/libz.so" "$libdir/libfmt.so"
if [[ -L $libdir/libfmt.so.9 ]]; then
  cp --remove-destination "$(readlink -f "$libdir/libfmt.so.9")" "$libdir/libfmt.so.9"
fi
links=$(find "$deps_dir" -type l)
[[ -z $links ]] || { echo "gpu-prep: links left in $deps_dir: $links" >&2; exit 1; }

# What the build needs, checked now rather than on the GPU machine.
missing=0
for f in usr/include/gtest/gtest.h usr/include/fmt/format.h usr/include/zlib.h usr/include/zconf.h \
         usr/lib/x86_64-linux-gnu/libgtest.a usr/lib/x86_64-linux-gnu/libgtest_main.a \
         usr/lib/x86_64-linux-gnu/libz.a usr/lib/x86_64-linux-gnu/libfmt.so.9 \
         usr/lib/x86_64-linux-gnu/cmake/GTest/GTestConfig.cmake \
         usr/lib/x86_64-linux-gnu/cmake/fmt/fmt-config.cmake; do
  [[ -e $prefix/$f ]] || { echo "gpu-prep: the packages did not give $f" >&2; missing=1; }
done
[[ $missing == 0 ]] || exit 1

size_kib=$(du -sk "$deps_dir" | cut -f1)
echo "size: ${size_kib} KiB" >>"$deps_dir/manifest.txt"
echo "gpu-prep: unpacked ${packages[*]} into $prefix ($((size_kib / 1024)).$(( (size_kib % 1024) * 10 / 1024 )) MiB)"
if (( size_kib > 32 * 1024 )); then
  echo "gpu-prep: $deps_dir is over 32 MiB; the working tree that travels must stay under 64 MiB" >&2
  exit 1
fi
echo "gpu-prep: next, on the GPU machine: bash tools/gpu/gpu_check.sh (the device tool: carry .gpu-deps)"
