# shellcheck shell=bash
# Sourced by prepare.sh and panel-modules.sh: which Debian kernel the VM boots.
#
# resolve_kernel <tool-name>: sets `kpkg` (linux-image-6.1.0-NN-amd64, the
# package linux-image-amd64 depends on today: the ABI number changes with
# kernel updates, so it is resolved rather than pinned), `kver` (6.1.0-NN-amd64)
# and `kdebver` (the package's Debian version, 6.1.192-3). Exits 2 with a
# message naming <tool-name> when the archive cannot say.
resolve_kernel() {
  local who="$1"
  _kernel_pkg() { apt-cache depends linux-image-amd64 2>/dev/null | sed -n 's/^ *Depends: \(linux-image-[0-9][^ ]*\)$/\1/p' | head -n1; }
  kpkg="$(_kernel_pkg)"
  if [ -z "$kpkg" ] && [ "$(id -u)" -eq 0 ]; then
    apt-get update -qq >/dev/null 2>&1 || true # a fresh machine may have no package lists yet
    kpkg="$(_kernel_pkg)"
  fi
  [ -n "$kpkg" ] || { echo "$who: cannot resolve linux-image-amd64's kernel package (apt-get update?)" >&2; exit 2; }
  kver="${kpkg#linux-image-}"
  kdebver="$(apt-cache show "$kpkg" 2>/dev/null | sed -n 's/^Version: //p' | head -n1)"
  [ -n "$kdebver" ] || { echo "$who: apt-cache knows no version of $kpkg" >&2; exit 2; }
}
