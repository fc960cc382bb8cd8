#!/usr/bin/env bash
# Prepares the VM that runs Fieldcast's real V4L2 code against the kernel's
# `vivid` virtual capture driver (test/vm). Idempotent: everything lands in a
# cache folder and is rebuilt only when missing.
#
#   image/vm/prepare.sh [CACHE_DIR]     (default: .cache/vm in the repo)
#
# Prints the folder holding `vmlinux` and `initrd.cpio.gz` on its last line.
# Needs: apt-get (the Debian archive), dpkg-deb, depmod (kmod), xz (xz-utils),
# busybox (busybox-static), cpio, gzip — all in scripts/setup.sh.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
cache="${1:-$repo/.cache/vm}"
mkdir -p "$cache"
cache="$(cd "$cache" && pwd)"

for tool in apt-cache apt-get dpkg-deb depmod xz cpio gzip; do
  command -v "$tool" >/dev/null || { echo "prepare: '$tool' is missing (run npm run setup)" >&2; exit 2; }
done
# busybox-static's binary: the initramfs has no libraries for a dynamic one.
busybox="$(command -v busybox || true)"
[ -n "$busybox" ] || { echo "prepare: busybox is missing (apt-get install busybox-static)" >&2; exit 2; }

# Debian's kernel: the one linux-image-amd64 depends on today (kernel.sh).
# shellcheck source=kernel.sh
. "$here/kernel.sh"
resolve_kernel prepare
pkg="$kpkg"
# The image is keyed by the kernel and by this rig's own files, so a change to
# the init or this script rebuilds it; the downloaded package is kept apart.
rig="$(cat "$here/prepare.sh" "$here/kernel.sh" "$here/init" | sha256sum | cut -c1-12)"
out="$cache/$kver-$rig"
if [ -f "$out/.ready" ]; then
  echo "$out"
  exit 0
fi
rm -rf "$out"
mkdir -p "$out/root" "$cache/deb"
deb="$(ls "$cache/deb/${pkg}_"*.deb 2>/dev/null | head -n1 || true)"
if [ -z "$deb" ]; then
  ( cd "$cache/deb" && apt-get download -q "$pkg" >/dev/null 2>&1 ) ||
    { echo "prepare: apt-get download $pkg failed (is the Debian archive reachable?)" >&2; exit 2; }
  deb="$(ls "$cache/deb/${pkg}_"*.deb | head -n1)"
fi
dpkg-deb -x "$deb" "$out/root"
depmod -b "$out/root" "$kver"

# The bzImage carries an XZ-compressed vmlinux; booting that directly skips the
# in-guest decompressor, which is very slow under TCG. The payload starts at the
# XZ magic FD 37 7A 58 5A 00.
bz="$out/root/boot/vmlinuz-$kver"
off="$(LC_ALL=C grep -obUaP '\xFD7zXZ\x00' "$bz" | head -n1 | cut -d: -f1)"
[ -n "$off" ] || { echo "prepare: no XZ payload in $bz" >&2; exit 2; }
tail -c +"$((off + 1))" "$bz" | xz -dc --single-stream >"$out/vmlinux" 2>/dev/null || true
[ -s "$out/vmlinux" ] || { echo "prepare: could not extract vmlinux from $bz" >&2; exit 2; }

# Initramfs: busybox, the modules vivid and 9p-over-virtio need (in load order,
# from modules.dep), and an init that chroots into the host's root.
ird="$out/initrd"
mkdir -p "$ird"/{bin,sbin,proc,sys,dev,mnt,lib/modules,etc}
cp "$busybox" "$ird/bin/busybox"
for app in sh mount umount mkdir cat echo insmod poweroff chroot sleep grep sed tr cut ls; do
  ln -sf busybox "$ird/bin/$app"
done
moddir="$out/root/lib/modules/$kver"
declare -A seen=()
order=()
add_module() { # depth-first: dependencies before the module itself
  local name="$1" path line deps dep
  line="$(grep -E "(^|/)${name}\.ko(\.[a-z]+)?:" "$moddir/modules.dep" | head -n1 || true)"
  [ -n "$line" ] || return 0 # built into the kernel
  path="${line%%:*}"
  [ -n "${seen[$path]:-}" ] && return 0
  seen[$path]=1
  deps="${line#*:}"
  for dep in $deps; do
    dep="$(basename "$dep")"
    add_module "${dep%%.ko*}"
  done
  order+=("$path")
}
for m in virtio_pci 9pnet_virtio 9p vivid; do add_module "$m"; done
: >"$ird/etc/modules"
for path in "${order[@]}"; do
  base="$(basename "$path")"
  case "$base" in
    *.xz) xz -dc "$moddir/$path" >"$ird/lib/modules/${base%.xz}"; base="${base%.xz}" ;;
    *.zst) zstd -qdc "$moddir/$path" >"$ird/lib/modules/${base%.zst}"; base="${base%.zst}" ;;
    *) cp "$moddir/$path" "$ird/lib/modules/$base" ;;
  esac
  echo "$base" >>"$ird/etc/modules"
done
cp "$here/init" "$ird/init"
chmod +x "$ird/init"
( cd "$ird" && find . -print0 | cpio --null -o -H newc --quiet | gzip -1 ) >"$out/initrd.cpio.gz"
rm -rf "$out/root" "$ird"
touch "$out/.ready"
# Images and packages of earlier kernels or rig versions are not needed any more.
find "$cache/deb" -name "*.deb" ! -name "${pkg}_*" -delete
for d in "$cache"/*/; do
  d="${d%/}"
  [ "$d" = "$out" ] || [ ! -f "$d/vmlinux" ] || rm -rf "$d"
done
echo "$out"
