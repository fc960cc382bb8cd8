#!/usr/bin/env bash
# Makes a signed RAUC update bundle of a built root:
#
#   image/bundle.sh [--out DIR] [--keys DIR] [--root FILE] [--version V] [--bundle FILE]
#   npm run image -- --bundle          (builds the image, then this)
#
# The bundle is `verity` format (RAUC 1.8: a squashfs with a dm-verity hash
# tree, the manifest signed with CMS), compatible `fieldcast-amd64` (the
# box's /etc/rauc/system.conf), holding one image for the rootfs slot class:
# FILE, an ext4 file system (default DIR/rootfs.ext4, the root image/build.sh
# wrote into slot A). The box installs it into the slot it is not running
# from (`fieldcast update BUNDLE`).
#
# Signed with DIR/keys/signing.key.pem and its certificate (image/keys.sh),
# and checked against the keyring the image was built with before it is
# written. --version defaults to Fieldcast's version and the commit.
# Writes DIR/fieldcast-amd64-VERSION.raucb (or --bundle FILE); prints its
# path last, its size and how long it took before.
# Needs: rauc, mksquashfs (squashfs-tools).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/.." && pwd)"
out="$repo/.cache/image"
keys=""
rootimg=""
version=""
bundle=""
while [ $# -gt 0 ]; do
  case "$1" in
    --out) out="$2"; shift 2 ;;
    --keys) keys="$2"; shift 2 ;;
    --root) rootimg="$2"; shift 2 ;;
    --version) version="$2"; shift 2 ;;
    --bundle) bundle="$2"; shift 2 ;;
    -h | --help) sed -n '2,21p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "bundle: unknown argument $1 (image/bundle.sh --help)" >&2; exit 2 ;;
  esac
done
die() { echo "bundle: $*" >&2; exit 2; }
for tool in rauc mksquashfs; do
  command -v "$tool" >/dev/null || die "'$tool' is missing (run npm run setup)"
done
keys="${keys:-$out/keys}"
rootimg="${rootimg:-$out/rootfs.ext4}"
[ -f "$rootimg" ] || die "no root file system $rootimg: build the image first (npm run image)"
for f in ca.cert.pem signing.cert.pem signing.key.pem; do
  [ -f "$keys/$f" ] || die "$keys/$f is missing (image/keys.sh makes development keys)"
done
if [ -z "$version" ]; then
  version="$(node -p "require('$repo/package.json').version")"
  commit="$(git -C "$repo" rev-parse --short HEAD 2>/dev/null || true)"
  [ -n "$commit" ] && version="$version+$commit"
fi
bundle="${bundle:-$out/fieldcast-amd64-$version.raucb}"

t_start=$SECONDS
work="$(mktemp -d "$out/bundle.XXXXXX")"
trap 'rm -rf "$work"' EXIT
mkdir "$work/content"
cat >"$work/content/manifest.raucm" <<MF
[update]
compatible=fieldcast-amd64
version=$version
description=Fieldcast $version (amd64)
build=$(date -u +%Y%m%dT%H%M%SZ)

[bundle]
format=verity

[image.rootfs]
filename=rootfs.ext4
MF
# A hard link where it can be (the same file system), else a copy.
ln "$rootimg" "$work/content/rootfs.ext4" 2>/dev/null || cp --sparse=always "$rootimg" "$work/content/rootfs.ext4"
rm -f "$bundle"
# zstd: the box decompresses it as it installs; xz (mksquashfs's default for
# RAUC) takes several times longer to read on a small CPU.
rauc bundle --cert="$keys/signing.cert.pem" --key="$keys/signing.key.pem" --keyring="$keys/ca.cert.pem" \
  --mksquashfs-args="-comp zstd -Xcompression-level 6" "$work/content" "$bundle" >"$work/rauc.log" 2>&1 ||
  { cat "$work/rauc.log" >&2; die "rauc bundle failed"; }
rauc info --keyring="$keys/ca.cert.pem" "$bundle" >"$work/info.log" 2>&1 ||
  { cat "$work/info.log" >&2; die "the bundle does not verify against $keys/ca.cert.pem"; }
size_mib=$(($(stat -c %s "$bundle") / 1048576))
echo "bundle: $bundle: $size_mib MiB, version $version, root $(($(stat -c %s "$rootimg") / 1048576)) MiB, made in $((SECONDS - t_start)) s"
echo "$bundle"
