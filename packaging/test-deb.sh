#!/usr/bin/env bash
# The package test: builds the .deb (unless given one), installs it with apt into a bookworm root made by
# mmdebstrap --variant=minbase (cached as target/deb-test/bookworm-root.tar within a run; apt reaches the Debian
# mirror through this machine's own apt sources), then checks that hupd runs there, that the units pass
# systemd-analyze verify, and that apt remove and purge leave a planted device state, data and settings alone.
# Needs root (chroot). Prints "package test: N passed, M failed". Usage: packaging/test-deb.sh [DEB]
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$here"
deb="${1:-}"
[ -n "$deb" ] || deb=$(packaging/build-deb.sh --no-build)
deb="$(realpath "$deb")"
W="$here/target/deb-test"
tarball="$W/bookworm-root.tar"
root="$W/root"
mkdir -p "$W"
if [ ! -f "$tarball" ]; then
  sources=$(ls /etc/apt/sources.list.d/*.sources 2>/dev/null | head -1 || true)
  [ -n "$sources" ] || sources=/etc/apt/sources.list
  # systemd for systemd-analyze, and the JRE (the biggest dependency) in the cached root; apt install pulls the rest.
  mmdebstrap --quiet --variant=minbase --format=tar --include=systemd,openjdk-17-jre-headless bookworm \
    "$tarball.part" "$sources"
  mv "$tarball.part" "$tarball"
fi
cleanup() { umount "$root/proc" 2>/dev/null || true; }
trap cleanup EXIT
cleanup
rm -rf "$root"
mkdir -p "$root"
tar -C "$root" -xf "$tarball"
cp /etc/resolv.conf "$root/etc/resolv.conf"
mount -t proc proc "$root/proc"
cp "$deb" "$root/tmp/"
in_root() { chroot "$root" env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root DEBIAN_FRONTEND=noninteractive "$@"; }

passed=0 failed=0
check() { # NAME COMMAND...
  local name="$1"; shift
  if "$@" > "$W/last.log" 2>&1; then
    passed=$((passed + 1)); echo "ok   $name"
  else
    failed=$((failed + 1)); echo "FAIL $name"; sed 's/^/     /' "$W/last.log" | tail -20
  fi
}

# A device's state, data and settings, planted before the install: no maintainer script may touch them.
mkdir -p "$root/mnt/state" "$root/mnt/data/hupd" "$root/mnt/data/balenahup" "$root/etc/hupd"
head -c 65536 /dev/urandom > "$root/mnt/data/hupd/hupd.mv.db"
echo "an update's log" > "$root/mnt/data/balenahup/20261207T000000Z-abcd.log"
echo 1 > "$root/mnt/state/rollback-health-breadcrumb"
cp packaging/examples/device.json "$root/etc/hupd/device.json"
planted() { (cd "$root" && find mnt etc/hupd -type f -print0 | sort -z | xargs -0 sha256sum; \
  find mnt etc/hupd -printf '%p %m %u\n' | sort); }
planted > "$W/planted.before"
same_planted() { planted > "$W/planted.after"; diff "$W/planted.before" "$W/planted.after"; }

check "apt-get update (the root's package lists)" in_root apt-get update -q
check "apt install ./$(basename "$deb")" in_root apt-get install -y -q "/tmp/$(basename "$deb")"
check "hupd --help" bash -c "$(declare -f in_root); root='$root'; in_root hupd --help | grep -q 'daemon'"
check "hupd diagram" bash -c "$(declare -f in_root); root='$root'; in_root hupd diagram | grep -q SWITCHING_BOOT"
check "hupd daemon --help" bash -c "$(declare -f in_root); root='$root'; in_root hupd daemon --help | grep -q -- --config"
check "the launcher uses the class-data archive" test -s "$root/var/cache/hupd/hupd.jsa"
check "systemd-analyze verify (the three units)" bash -c "$(declare -f in_root); root='$root'; \
  out=\$(in_root systemd-analyze verify /lib/systemd/system/hupd.service /lib/systemd/system/hupd-boot.service \
    /lib/systemd/system/hupd-clean-shutdown.service 2>&1); echo \"\$out\"; \
  ! echo \"\$out\" | grep -i -E 'hupd[^ ]*\\.service|reboot.target' | grep -v -i 'unit balena'"
check "units enabled" test -L "$root/etc/systemd/system/multi-user.target.wants/hupd.service" -a \
  -L "$root/etc/systemd/system/multi-user.target.wants/hupd-boot.service" -a \
  -L "$root/etc/systemd/system/multi-user.target.wants/hupd-clean-shutdown.service"
check "reboot.target forced after 5 min (drop-in installed, verify passes)" bash -c "$(declare -f in_root); \
  root='$root'; grep -q '^JobTimeoutAction=reboot-force' \
  \"\$root/lib/systemd/system/reboot.target.d/hupd-force-reboot.conf\" && \
  in_root systemd-analyze verify --man=no /lib/systemd/system/reboot.target"
check "installed: state, data and settings untouched" same_planted
check "apt remove hupd" in_root apt-get remove -y -q hupd
check "removed: no /usr/bin/hupd" test ! -e "$root/usr/bin/hupd"
check "removed: state, data and settings untouched" same_planted
check "apt purge hupd" in_root apt-get purge -y -q hupd
check "purged: state, data and settings untouched" same_planted
check "purged: the class-data cache is gone" test ! -e "$root/var/cache/hupd"
echo "package test: $passed passed, $failed failed"
[ "$failed" = 0 ]
