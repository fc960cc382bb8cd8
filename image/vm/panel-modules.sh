#!/usr/bin/env bash
# Kernel modules for the front panel's VM test (test/vm/panel.test.ts), for the
# kernel prepare.sh boots:
#
#   gpio-mockup.ko  GPIO lines a test drives through debugfs. Debian's kernel
#                   does not build it (# CONFIG_GPIO_MOCKUP is not set), so it
#                   is built here out of tree from linux-source-6.1 against the
#                   kernel's own linux-headers package. Debian's kernel has no
#                   CONFIG_IRQ_SIM either, so kernel/irq/irq_sim.c (the
#                   simulated interrupts gpio-mockup's edges come from) is
#                   compiled into the same module, its exports removed.
#   i2c-stub.ko,    from the kernel package itself (CONFIG_I2C_STUB=m,
#   i2c-dev.ko      CONFIG_I2C_CHARDEV=m), with what they depend on.
#
#   image/vm/panel-modules.sh [CACHE_DIR]     (default: .cache/vm in the repo)
#
# Idempotent: the result is kept in CACHE_DIR/panel-<kver>-<hash of this
# script and kernel.sh> and rebuilt only when missing. Prints the folder on
# its last line; it holds the .ko files and `modules`, their names in load order.
# Debian's kernel checks module signatures but does not require them
# (# CONFIG_MODULE_SIG_FORCE is not set): the unsigned gpio-mockup taints the
# kernel and loads.
# Needs: apt-get (the Debian archive), dpkg-deb, xz, make, gcc-12 (build-essential).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
cache="${1:-$repo/.cache/vm}"
mkdir -p "$cache"
cache="$(cd "$cache" && pwd)"

for tool in apt-cache apt-get dpkg-deb xz tar make gcc-12 modinfo; do
  command -v "$tool" >/dev/null || { echo "panel-modules: '$tool' is missing (run npm run setup)" >&2; exit 2; }
done

# shellcheck source=kernel.sh
. "$here/kernel.sh"
resolve_kernel panel-modules
series="$(echo "$kver" | cut -d. -f1,2)" # 6.1
rig="$(cat "$here/panel-modules.sh" "$here/kernel.sh" | sha256sum | cut -c1-12)"
out="$cache/panel-$kver-$rig"
if [ -f "$out/.ready" ]; then
  echo "$out"
  exit 0
fi
rm -rf "$out"
debs="$cache/panel-deb"
work="$out.build"
rm -rf "$work"
mkdir -p "$debs" "$work/root" "$work/src" "$out"
trap 'rm -rf "$work"' EXIT

# fetch <package> [version]: the .deb's path in $debs, downloaded once.
fetch() {
  local name="$1" version="${2:-}" found
  found="$(ls "$debs/${name}_${version//:/%3a}"*.deb 2>/dev/null | head -n1 || true)"
  if [ -z "$found" ]; then
    ( cd "$debs" && apt-get download -q "$name${version:+=$version}" >/dev/null 2>&1 ) ||
      { echo "panel-modules: apt-get download $name${version:+=$version} failed (is the Debian archive reachable?)" >&2; exit 2; }
    found="$(ls "$debs/${name}_"*.deb | head -n1)"
  fi
  echo "$found"
}

# The kernel package: prepare.sh keeps it in $cache/deb; otherwise fetch it.
image_deb="$(ls "$cache/deb/${kpkg}_"*.deb 2>/dev/null | head -n1 || true)"
[ -n "$image_deb" ] || image_deb="$(fetch "$kpkg" "$kdebver")"
dpkg-deb --fsys-tarfile "$image_deb" | tar -x -C "$work/root" --wildcards './boot/config-*' './lib/modules/*/kernel/drivers/i2c/*'
config="$work/root/boot/config-$kver"
grep -q '^CONFIG_GPIO_SYSFS=y' "$config" || { echo "panel-modules: $kver has no CONFIG_GPIO_SYSFS (onoff needs /sys/class/gpio)" >&2; exit 2; }
grep -q '^CONFIG_DEBUG_FS=y' "$config" || { echo "panel-modules: $kver has no CONFIG_DEBUG_FS (gpio-mockup is driven through debugfs)" >&2; exit 2; }
if grep -q '^CONFIG_MODULE_SIG_FORCE=y' "$config"; then
  echo "panel-modules: $kver only loads signed modules (CONFIG_MODULE_SIG_FORCE=y): an out-of-tree gpio-mockup cannot load" >&2
  exit 2
fi

# The headers the kernel was built with: linux-headers-<kver> includes
# /usr/src/linux-headers-<kver>-common/Makefile by its absolute path; here it
# points into the extracted tree instead.
for name in "linux-headers-$kver" "linux-headers-${kver%-*}-common" "linux-kbuild-$series"; do
  dpkg-deb -x "$(fetch "$name" "$kdebver")" "$work/root"
done
headers="$work/root/usr/src/linux-headers-$kver"
sed -i "s|^include /usr/src/|include $work/root/usr/src/|" "$headers/Makefile"

# Only the three files gpio-mockup needs from the source tarball (the .deb of
# ~140 MB is not kept; the files are).
src="$cache/panel-src/$kdebver"
members=(drivers/gpio/gpio-mockup.c drivers/gpio/gpiolib.h kernel/irq/irq_sim.c)
if [ ! -f "$src/.ready" ]; then
  rm -rf "$src"
  mkdir -p "$src"
  source_deb="$(fetch "linux-source-$series" "$kdebver")"
  dpkg-deb --fsys-tarfile "$source_deb" | tar -x -C "$work/src" "./usr/src/linux-source-$series.tar.xz"
  tar -xJf "$work/src/usr/src/linux-source-$series.tar.xz" -C "$src" --strip-components=1 \
    "${members[@]/#/linux-source-$series/}"
  rm -f "$source_deb"
  touch "$src/.ready"
fi

mod="$work/gpio-mockup"
mkdir -p "$mod"
cp "$src/drivers/gpio/gpio-mockup.c" "$mod/gpio-mockup-main.c" # the module keeps the driver's name
cp "$src/drivers/gpio/gpiolib.h" "$mod/"
if grep -q '^CONFIG_IRQ_SIM=y' "$config"; then
  printf 'obj-m := gpio-mockup.o\ngpio-mockup-y := gpio-mockup-main.o\n' >"$mod/Kbuild"
else
  # irq_sim inside the module: nothing else uses it, so it exports nothing, and
  # irq_to_desc() is not exported to modules since 5.11: generic_handle_irq()
  # runs the same handle_simple_irq() the domain maps each line to.
  sed -e '/^EXPORT_SYMBOL/d' -e 's/handle_simple_irq(irq_to_desc(irqnum));/generic_handle_irq(irqnum);/' \
    "$src/kernel/irq/irq_sim.c" >"$mod/irq_sim.c"
  grep -q 'generic_handle_irq(irqnum);' "$mod/irq_sim.c" ||
    { echo "panel-modules: kernel/irq/irq_sim.c of $kdebver is not the one this script adapts" >&2; exit 2; }
  printf 'obj-m := gpio-mockup.o\ngpio-mockup-y := gpio-mockup-main.o irq_sim.o\n' >"$mod/Kbuild"
fi
if ! make -C "$headers" M="$mod" modules >"$work/build.log" 2>&1; then
  tail -n 20 "$work/build.log" >&2
  echo "panel-modules: building gpio-mockup.ko against linux-headers-$kver failed (log above)" >&2
  exit 2
fi
cp "$mod/gpio-mockup.ko" "$out/"

# i2c-stub and i2c-dev, after what they depend on (modinfo's depends: there is
# no modules.dep for a partial tree).
i2cdir="$work/root/lib/modules/$kver/kernel/drivers/i2c"
: >"$out/modules"
declare -A seen=()
add_module() {
  local name="$1" file dep
  [ -n "${seen[$name]:-}" ] && return 0
  seen[$name]=1
  file="$(ls "$i2cdir/$name.ko"* "$i2cdir/${name//_/-}.ko"* 2>/dev/null | head -n1 || true)"
  [ -n "$file" ] || { echo "panel-modules: $kpkg has no $name module under drivers/i2c" >&2; exit 2; }
  for dep in $(modinfo -F depends "$file" | tr ',' ' '); do add_module "$dep"; done
  case "$file" in
    *.xz) xz -dc "$file" >"$out/$(basename "${file%.xz}")"; file="${file%.xz}" ;;
    *.zst) zstd -qdc "$file" >"$out/$(basename "${file%.zst}")"; file="${file%.zst}" ;;
    *) cp "$file" "$out/" ;;
  esac
  basename "$file" >>"$out/modules"
}
add_module i2c-stub
add_module i2c-dev
echo gpio-mockup.ko >>"$out/modules"
touch "$out/.ready"

# Results of earlier kernels or script versions are not needed any more.
for d in "$cache"/panel-*-*/; do
  d="${d%/}"
  [ "$d" = "$out" ] || [ ! -f "$d/.ready" ] || rm -rf "$d"
done
find "$debs" -name '*.deb' ! -name "*_${kdebver//:/%3a}_*.deb" -delete
echo "$out"
