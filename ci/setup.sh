#!/usr/bin/env bash
# Idempotent machine set-up for thinbench on Debian 12 (root): system packages, and
# Debian's kernel extracted (not installed) into the cache for the VM environment.
# Fast when everything is already there. Called by ci/thinbench and ci/test.
set -euo pipefail

CACHE="${THINBENCH_CACHE:-/var/cache/thinbench}"
PKGS=(qemu-system-x86 lvm2 thin-provisioning-tools libdevmapper-dev libclang-dev pkg-config
      busybox-static fio xfsprogs e2fsprogs kmod util-linux fonts-dejavu-core chromium
      udev dmeventd)  # udev, dmeventd: the guest that is a real host (--services)
# Debian's packaged names for the commands they provide, to test presence cheaply.
need_install=()
for p in "${PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || need_install+=("$p")
done
if [ "$(id -u)" != 0 ]; then
  [ ${#need_install[@]} -eq 0 ] || { echo "setup: missing packages ${need_install[*]}; run as root" >&2; exit 2; }
elif [ ${#need_install[@]} -gt 0 ]; then
  echo "setup: installing ${need_install[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  # An update once per set-up run; the lists may be absent on a fresh machine.
  apt-get update -qq >/dev/null
  apt-get install -y -qq --no-install-recommends "${need_install[@]}" >/dev/null
fi

# Debian's kernel for the VM: the version linux-image-amd64 points at, extracted.
kdir="$CACHE/kernel"
if ! compgen -G "$kdir/vmlinuz-*" >/dev/null; then
  echo "setup: fetching Debian's kernel for the VM into $kdir" >&2
  [ -n "$(apt-cache policy linux-image-amd64 | awk '/Candidate/{print $2}' | grep -v none)" ] || apt-get update -qq >/dev/null
  pkg=$(apt-cache depends linux-image-amd64 | awk '/Depends: linux-image-[0-9]/{print $2; exit}')
  [ -n "$pkg" ] || { echo "setup: cannot resolve linux-image-amd64" >&2; exit 2; }
  tmp=$(mktemp -d)
  trap 'rm -rf "$tmp"' EXIT
  (cd "$tmp" && apt-get download "$pkg" >/dev/null 2>&1)
  mkdir -p "$tmp/x" "$kdir"
  dpkg-deb -x "$tmp"/*.deb "$tmp/x"
  ver=$(ls "$tmp/x/lib/modules")
  depmod -b "$tmp/x" "$ver"
  mkdir -p "$kdir/lib/modules"
  rm -rf "$kdir/lib/modules/$ver"
  mv "$tmp/x/lib/modules/$ver" "$kdir/lib/modules/$ver"
  # Its config: the VM reads CONFIG_HZ from it (lpj= for a boot without delay calibration).
  cp "$tmp/x/boot/config-$ver" "$kdir/config-$ver" 2>/dev/null || true
  # The image last: its presence marks a complete extraction.
  cp "$tmp/x/boot/vmlinuz-$ver" "$kdir/vmlinuz-$ver.part" && mv "$kdir/vmlinuz-$ver.part" "$kdir/vmlinuz-$ver"
  echo "setup: kernel $ver ready" >&2
fi
