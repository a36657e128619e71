#!/bin/busybox sh
# thinbench guest init (PID 1). Loads the packed modules, mounts the host root read-only
# over 9p, the run's output directory read-write at the same path, and runs the job in a
# chroot. Powers off on every path: a job that returns, fails or is killed.
B=/bin/busybox
$B mount -t proc proc /proc
$B mount -t sysfs sys /sys
$B mount -t devtmpfs dev /dev
OUT= JOB= LIMIT=
for x in $($B cat /proc/cmdline); do
  case "$x" in
    tb.out=*) OUT="${x#tb.out=}" ;;
    tb.job=*) JOB="${x#tb.job=}" ;;
    tb.timeout=*) LIMIT="${x#tb.timeout=}" ;;
  esac
done
say() { echo "thinbench-guest: $*" > /dev/ttyS0; }
finish() { say "exit=$1 uptime=$($B cut -d' ' -f1 /proc/uptime)"; $B sync; $B poweroff -f; while :; do $B sleep 1; done; }
say "init uptime=$($B cut -d' ' -f1 /proc/uptime)"
for m in $($B cat /modules/order); do
  $B insmod "/modules/$m" 2>/dev/null || say "module $m not loaded"
  read up _ < /proc/uptime; say "insmod $m uptime=$up"
done
say "modules uptime=$($B cut -d' ' -f1 /proc/uptime)"
# The rest in the background, while the job starts (the job waits for one it needs).
( for m in $($B cat /modules/background); do
    $B insmod "/modules/$m" 2>/dev/null || say "module $m not loaded"
  done
  read up _ < /proc/uptime; say "background modules uptime=$up" ) &
# msize: larger messages cut 9p round trips for the shared binary and tools. cache=loose
# on the read-only host root: binaries and libraries are paged in once per boot, not
# fetched over 9p at every exec (thinbench's first exec 4.6 s -> 0.4 s, each lvm command
# 1.5 s -> 0.2 s under TCG here). The host root must not change during a run; /tmp and
# the results directory are separate mounts with cache=none.
O="trans=virtio,version=9p2000.L,msize=524288"
$B mount -t 9p -o "$O,ro,cache=loose,multidevs=remap" hostroot /newroot || { say "cannot mount host root"; finish 125; }
$B mount -t proc proc /newroot/proc
$B mount -t sysfs sys /newroot/sys
$B mount -t devtmpfs dev /newroot/dev
# The host's /tmp: paths under it (a checkout, a test's temp dir) must mean the same in
# the guest, but nothing of the host but the results directory may be written
# (docs/security.md). So the share is read-only (qemu refuses writes to it too) and lies
# under an overlay whose upper layer is guest RAM: what the guest writes to /tmp stays
# in the guest. Without overlayfs, the share read-only as it is.
$B mkdir -p /hosttmp /tmpupper
if $B mount -t 9p -o "$O,ro,cache=none,multidevs=remap" hosttmp /hosttmp; then
  $B mount -t tmpfs -o mode=755 tmpupper /tmpupper && $B mkdir -p /tmpupper/u /tmpupper/w \
    && $B chmod 1777 /tmpupper/u \
    && $B mount -t overlay -o lowerdir=/hosttmp,upperdir=/tmpupper/u,workdir=/tmpupper/w tmp /newroot/tmp \
    || { say "no overlay on /tmp: the host's /tmp is read-only in the guest"; $B mount -o bind /hosttmp /newroot/tmp; }
else
  $B mount -t tmpfs -o mode=1777 tmp /newroot/tmp
fi
$B mount -t tmpfs -o mode=755 run /newroot/run
# The packed modules, for the ones loaded on demand (xfs, fault targets).
$B mkdir -p /newroot/run/thinbench/modules
$B mount -o bind /modules /newroot/run/thinbench/modules
[ -d /newroot/dev/shm ] || $B mkdir -p /newroot/dev/shm
$B mount -t tmpfs shm /newroot/dev/shm
if [ -n "$OUT" ]; then
  $B mkdir -p "/newroot$OUT" 2>/dev/null  # under the guest's /tmp or /run tmpfs
  $B mount -t 9p -o "$O,rw,cache=none" tbout "/newroot$OUT" || { say "cannot mount output dir $OUT"; finish 125; }
fi
[ -n "$JOB" ] || { say "no tb.job on the kernel command line"; finish 125; }
say "job uptime=$($B cut -d' ' -f1 /proc/uptime)"
# Last resort for a job stuck in the kernel (its own timeout could not stop it): dump the
# blocked tasks to the console, then power off, so the host gets a verdict, not a hang.
if [ -n "$LIMIT" ]; then
  ( $B sleep "$LIMIT"
    say "watchdog: the job ran past ${LIMIT}s; blocked tasks follow"
    echo 7 > /proc/sys/kernel/printk  # the dump is KERN_INFO; the console shows up to 5
    echo w > /proc/sysrq-trigger; $B sleep 2
    finish 124 ) &
fi
$B chroot /newroot /bin/sh "$JOB" < /dev/null
rc=$?
$B umount "/newroot$OUT" 2>/dev/null
finish $rc
