#!/usr/bin/env bash
# npm run setup: everything a fresh Debian 12 machine needs to build, run and
# test Fieldcast. Idempotent, and quiet when everything is already there.
set -euo pipefail
cd "$(dirname "$0")/.."

# Build: compilers and the system media libraries the addon links against.
# Run and test: the real peers (srt-live-transmit, ffmpeg/ffprobe, tstools,
# socat as systemd's notify socket; nft and ssh for the firewall and SSH tests),
# the VM rig for kernel V4L2 tests, the appliance image's build (mmdebstrap,
# mke2fs, sfdisk: npm run image; GRUB for UEFI, mtools and mkfs.vfat for the
# ESP, OVMF to boot it in qemu, rauc and squashfs-tools for update bundles),
# Chromium for the status page tests.
PACKAGES=(
  build-essential pkg-config python3
  libavcodec-dev libavutil-dev libswscale-dev libasound2-dev libsrt-openssl-dev libv4l-dev
  ffmpeg srt-tools tstools v4l-utils iproute2 socat openssl nftables openssh-client
  qemu-system-x86 busybox-static cpio xz-utils kmod
  mmdebstrap e2fsprogs fdisk
  ovmf grub-efi-amd64-bin grub-common mtools dosfstools rauc squashfs-tools
  chromium
)

missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing Debian packages: ${missing[*]}"
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

if [ -f package-lock.json ]; then
  npm ci --no-audit --no-fund --loglevel=error
else
  npm install --no-audit --no-fund --loglevel=error
fi

npm run --silent build:native -- --loglevel=error >/dev/null
npm run --silent build:ts
npm run --silent build:web
echo "setup: done (addons: native/build/Release/fieldcast.node and fieldcast_srt.node, CLI: bin/fieldcast.js)"
