#!/usr/bin/env bash
# Shared by tests/vm/build.sh, run.sh and smoke.sh. Sourced, not run.
# Everything built lands in target/vm/ (VM_OUT); the slow parts (the Debian root, the kernel) are cached there
# by a key of what went into them, so a second build in the same CI run or developer session reuses them.

VM_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO="$(cd "$VM_DIR/../.." && pwd)"
VM_OUT="${VM_OUT:-$REPO/target/vm}"

# Packages of the device OS. openjdk runs hupd; e2fsprogs, mtools, dosfstools and grub-common are the tools
# hupd's real-device adapters call (mke2fs/e2fsck/debugfs on the slots, mtools on the FAT boot partition,
# grub-editenv on grubenv); dbus lets systemctl and logind behave as on a device.
VM_PACKAGES="systemd-sysv,udev,kmod,dbus,e2fsprogs,openjdk-17-jre-headless,procps,mtools,dosfstools,grub-common,fdisk"

# What a device image leaves out, as embedded builds do (dpkg's path-exclude): documentation, manual pages and
# translations are 66 MB that every OS image would carry and every update would write. The packages' copyright
# files stay (a device ships the licences of what it runs).
VM_PATH_EXCLUDES=('/usr/share/doc/*' '/usr/share/man/*' '/usr/share/locale/*' '/usr/share/info/*')
VM_PATH_INCLUDES=('/usr/share/doc/*/copyright')

vm_log() { printf 'vm: %s\n' "$*" >&2; }
vm_die() { printf 'vm: %s\n' "$*" >&2; exit 1; }

# The machine's own bookworm apt source (deb822 or one-line), handed to mmdebstrap as a file so that no mirror
# is named here.
vm_apt_source() {
  local f
  for f in /etc/apt/sources.list.d/*.sources /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
    [ -f "$f" ] && grep -qE '(^Suites:.* bookworm( |$))|(^deb .* bookworm( |$))' "$f" && { echo "$f"; return 0; }
  done
  vm_die "no bookworm apt source on this machine to build the VM's root from"
}

# The Debian root as a folder, made once per package list; never changed afterwards (each build copies it).
vm_base_root() {
  local key root
  key=$(printf '%s\n%s\n' "$VM_PACKAGES" "${VM_PATH_EXCLUDES[*]} ${VM_PATH_INCLUDES[*]}" | sha256sum | cut -c1-12)
  root="$VM_OUT/cache/bookworm-minbase-$key"
  if [ ! -x "$root/sbin/init" ]; then
    mkdir -p "$VM_OUT/cache" && rm -rf "$root.tmp"
    vm_log "mmdebstrap bookworm minbase (1-3 min, once) -> $root"
    local excludes=() e
    for e in "${VM_PATH_EXCLUDES[@]}"; do excludes+=(--dpkgopt="path-exclude=$e"); done
    for e in "${VM_PATH_INCLUDES[@]}"; do excludes+=(--dpkgopt="path-include=$e"); done
    # openjdk's postinst links its manual pages with update-alternatives, which fails when man1 is missing
    mmdebstrap --quiet --variant=minbase --include="$VM_PACKAGES" "${excludes[@]}" \
      --essential-hook='mkdir -p "$1"/usr/share/man/man1' \
      --customize-hook='rm -f "$1"/etc/hostname "$1"/etc/machine-id; : > "$1"/etc/machine-id' \
      --customize-hook='rm -rf "$1"/var/cache/apt/archives/*.deb "$1"/var/lib/apt/lists/*_Packages' \
      bookworm "$root.tmp" "$(vm_apt_source)" || vm_die "mmdebstrap failed"
    mv -f "$root.tmp" "$root"
  fi
  echo "$root"
}

# The Debian kernel package (the one linux-image-amd64 names today), downloaded once, unpacked to a folder.
vm_kernel_dir() {
  local pkg dir
  pkg=$(apt-cache depends linux-image-amd64 2>/dev/null | awk '/Depends: linux-image-6/ {print $2; exit}')
  [ -n "$pkg" ] || vm_die "apt-cache knows no linux-image-amd64 (run apt-get update)"
  dir="$VM_OUT/cache/$pkg"
  if [ ! -d "$dir/boot" ]; then
    mkdir -p "$VM_OUT/cache" && rm -rf "$dir.tmp" && mkdir -p "$dir.tmp"
    vm_log "apt-get download $pkg"
    (cd "$VM_OUT/cache" && apt-get download -q "$pkg" >/dev/null) || vm_die "apt-get download $pkg failed"
    dpkg-deb -x "$VM_OUT/cache/${pkg}_"*.deb "$dir.tmp" && rm -f "$VM_OUT/cache/${pkg}_"*.deb
    mv "$dir.tmp" "$dir"
  fi
  echo "$dir"
}

# The modules that MODULE needs, itself last, from the kernel's modules.dep (paths relative to its module dir).
vm_module_closure() {
  local moddir=$1 name=$2 line
  line=$(grep -E "(^|/)$name\.ko(\.[a-z]+)?:" "$moddir/modules.dep") || vm_die "no module $name in $moddir"
  local self=${line%%:*} deps=${line#*:} d
  for d in $deps; do vm_module_closure "$moddir" "$(basename "${d%%.ko*}")"; done
  echo "$self"
}

# The Debian package of this checkout (packaging/build-deb.sh --no-build over target/hupd.jar, built first when
# missing), made once per build; prints its path.
vm_deb() {
  local deb
  [ -f "$REPO/target/hupd.jar" ] || (cd "$REPO" && mvn -q -B -DskipTests package >&2) || vm_die "hupd build failed"
  deb=$(cd "$REPO" && packaging/build-deb.sh --no-build) || vm_die "packaging/build-deb.sh failed"
  echo "$REPO/$deb"
}

# Installs hupd into the OS root ROOT from the package DEB, as a device image build would: dpkg -i in a chroot
# (its postinst dumps the class-data archives with the root's own java, which needs /proc, and enables the
# units with deb-systemd-helper). A mount namespace of its own keeps /proc out of the host's mount table.
vm_install_hupd() {
  local root=$1 deb=$2
  cp "$deb" "$root/tmp/hupd.deb"
  unshare -m --propagation private sh -c 'mount -t proc proc "$1/proc" && mount --bind /dev "$1/dev" && chroot "$1" dpkg -i /tmp/hupd.deb' \
    sh "$root" >"$VM_OUT/dpkg.log" 2>&1 || vm_die "dpkg -i of $(basename "$deb") in the VM's root failed (see $VM_OUT/dpkg.log)"
  rm -f "$root/tmp/hupd.deb"
  chroot "$root" systemctl -q is-enabled hupd-boot.service hupd-clean-shutdown.service hupd.service \
    || vm_die "the package did not enable its units"
}

# Writes the busybox initramfs for the kernel in ROOT (modules from ROOT's own tree) to OUT.
vm_make_initramfs() {
  local root=$1 out=$2 kver moddir tmp m
  kver=$(ls "$root/lib/modules")
  moddir="$root/lib/modules/$kver"
  tmp=$(mktemp -d)
  mkdir -p "$tmp"/{bin,dev,proc,sys,newroot,modules}
  cp /bin/busybox "$tmp/bin/busybox"
  install -m 755 "$VM_DIR/initramfs-init" "$tmp/init"
  : > "$tmp/modules.list"
  for m in $( { for n in virtio_pci virtio_blk crc32c_generic ext4; do vm_module_closure "$moddir" "$n"; done; } | awk '!seen[$0]++'); do
    cp "$moddir/$m" "$tmp/modules/" && basename "$m" >> "$tmp/modules.list"
  done
  (cd "$tmp" && find . | cpio -o -H newc --quiet | gzip -1) > "$out"
  rm -rf "$tmp"
}

# Turns a copy of the base root into the device OS of version VERSION: kernel and initramfs in /boot, the
# stand-in services, the host inbox, hupd from DEB, an os-release of its own, and /resin-boot/ with the boot files
# (GRUB_CFG, hupd's bootloader script, which an update copies to the boot partition like any boot file).
vm_make_os_root() {
  local root=$1 version=$2 grub_cfg=$3 deb=$4 kdir kver
  kdir=$(vm_kernel_dir)
  cp -a "$kdir/boot/." "$root/boot/"
  mkdir -p "$root/lib/modules" && cp -a "$kdir/lib/modules/." "$root/lib/modules/"
  kver=$(ls "$root/lib/modules")
  # Only what a virtio VM without network loads (virtio, block, filesystems, 9p): the rest is 370 of the tree's
  # 400 MB, which every OS image would carry and every update would write.
  (cd "$root/lib/modules/$kver/kernel" && rm -rf sound drivers/{net,gpu,media,scsi,usb,infiniband,iio,staging,isdn} \
    drivers/{comedi,mtd,target,hwmon,bluetooth,hid,video,i2c,mmc,nvme,watchdog,platform,misc,ata} \
    && find net -mindepth 1 -maxdepth 1 ! -name 9p -exec rm -rf {} +)
  chroot "$root" depmod "$kver" || vm_die "depmod in the root failed"
  ln -sf "vmlinuz-$kver" "$root/boot/vmlinuz"
  vm_make_initramfs "$root" "$root/boot/initrd.img-$kver"
  ln -sf "initrd.img-$kver" "$root/boot/initrd.img"
  cp -a "$VM_DIR/overlay/." "$root/"
  rm -f "$root/etc/os-release"
  cat > "$root/etc/os-release" <<OSR
ID=balena-os
ID_LIKE=debian
NAME="hupd test OS"
PRETTY_NAME="hupd test OS $version (Debian bookworm)"
VERSION="$version"
VERSION_ID="$version"
BALENA_DEVICE_TYPE=$VM_DEVICE_TYPE
OSR
  # One machine id for the device (not a first boot: Debian's systemd would otherwise run its first-boot units).
  echo 5e6f0c1a8d2b4c3e9f00a1b2c3d4e5f6 > "$root/etc/machine-id"
  # Device nodes come from devtmpfs at boot; hupd image create refuses special files in a tree.
  find "$root/dev" -mindepth 1 -delete
  mkdir -p "$root/mnt/boot" "$root/mnt/state" "$root/mnt/data" "$root/mnt/host" "$root/mnt/images"
  systemctl --root="$root" -q set-default multi-user.target
  systemctl --root="$root" -q enable vm-ready.service vm-inbox.service engine.service supervisor.service \
    serial-getty@ttyS0.service
  # Timers and scrubs that would only slow a TCG boot or write behind the tests' backs.
  systemctl --root="$root" -q mask apt-daily.timer apt-daily-upgrade.timer dpkg-db-backup.timer e2scrub_all.timer \
    e2scrub_reap.service fstrim.timer getty@tty1.service systemd-pstore.service
  mkdir -p "$root/resin-boot/EFI/BOOT"
  cp "$grub_cfg" "$root/resin-boot/EFI/BOOT/grub.cfg"
  vm_install_hupd "$root" "$deb"
}
VM_DEVICE_TYPE=generic-amd64
# The OS versions: v1 on the disk as built, v2 the update, v3 its broken engine, v4 its kernel that does not boot.
# hupd refuses to update an OS older than 2.14.0 (balena's oldest updatable hostOS), so they start above it.
VM_V1=6.1.0 VM_V2=6.2.0 VM_V3=6.3.0 VM_V4=6.4.0

# Image v4's fault: an initramfs whose /init exits before mounting anything.
vm_make_initramfs_that_panics() {
  local root=$1 kver tmp
  kver=$(ls "$root/lib/modules")
  tmp=$(mktemp -d) && mkdir -p "$tmp/bin"
  cp /bin/busybox "$tmp/bin/busybox"
  printf '#!/bin/busybox sh\necho "initramfs: this OS (image v4) does not boot"\nexit 1\n' > "$tmp/init"
  chmod 755 "$tmp/init"
  (cd "$tmp" && find . | cpio -o -H newc --quiet | gzip -1) > "$root/boot/initrd.img-$kver"
  rm -rf "$tmp"
}

# --- the host-side driver ------------------------------------------------------------------------------------
# A run lives in RUN (default target/vm/run): disk.img (a copy of the built one), console.log (the serial console,
# appended across boots), share/ (9p: inbox/, outbox/), qemu.pid. Functions, used by run.sh and smoke.sh:
VM_RUN="${VM_RUN:-$VM_OUT/run}"
VM_SMP="${VM_SMP:-1}"
VM_MEM="${VM_MEM:-1024}"
# QEMU's default model. With -cpu max (AVX2 and the rest emulated, which the JVM then uses) an update was slower:
# when a qemu64 VM's update asked for its reboot, a max VM started 5 s after it had only begun to write the root.
VM_CPU="${VM_CPU:-qemu64}"

vm_new_run() {  # [DISK]: fresh share and a copy of DISK (default: the disk as built)
  local disk=${1:-$VM_OUT/disk.img}
  rm -rf "$VM_RUN" && mkdir -p "$VM_RUN/share/inbox" "$VM_RUN/share/outbox"
  [ -f "$disk" ] || vm_die "no $disk: run tests/vm/build.sh first"
  cp --sparse=always "$disk" "$VM_RUN/disk.img"
  mkdir -p "$VM_OUT/images"
  : > "$VM_RUN/console.log"
}

# QEMU's arguments. The disk: cache=writeback, QEMU's default, so the guest sees a disk with a volatile write
# cache and sends flushes as it would to a real disk (docs/vm.md: what a killed QEMU loses and what it keeps).
vm_qemu_args() {
  echo -machine pc -accel tcg -cpu "$VM_CPU" -smp "$VM_SMP" -m "$VM_MEM" -nic none -no-user-config \
    -cdrom "$VM_OUT/grub.iso" -boot d \
    -drive "file=$VM_RUN/disk.img,format=raw,if=virtio,cache=writeback" \
    -virtfs "local,path=$VM_RUN/share,mount_tag=hostshare,security_model=none,id=hostshare" \
    -virtfs "local,path=$VM_OUT/images,mount_tag=images,security_model=none,readonly=on,id=images"
}

vm_power_on() {  # in the background, console to console.log; returns at once
  vm_ready_before=$(vm_ready_count)
  vm_started_at=$(date +%s.%N)
  # shellcheck disable=SC2046
  qemu-system-x86_64 $(vm_qemu_args) -display none -monitor none \
    -chardev "file,id=con,path=$VM_RUN/console.log,append=on" -serial chardev:con \
    > "$VM_RUN/qemu.log" 2>&1 &
  echo $! > "$VM_RUN/qemu.pid"
}

vm_ready_count() { grep -c "VM-READY version=" "$VM_RUN/console.log" 2>/dev/null || true; }

vm_running() { [ -f "$VM_RUN/qemu.pid" ] && kill -0 "$(cat "$VM_RUN/qemu.pid")" 2>/dev/null; }

# Waits for this power-on's VM-READY line; prints "<uptime at multi-user> <wall seconds since power-on>".
vm_wait_ready() {
  local timeout=${1:-400} t0 line
  t0=$(date +%s)
  while [ "$(vm_ready_count)" -le "$vm_ready_before" ]; do
    vm_running || { vm_log "QEMU exited before multi-user"; return 1; }
    [ $(( $(date +%s) - t0 )) -lt "$timeout" ] || { vm_log "no VM-READY within $timeout s"; return 1; }
    sleep 1
  done
  line=$(grep -o 'VM-READY version=.*' "$VM_RUN/console.log" | tail -1)
  printf '%s %s\n' "$(sed 's/.*uptime=\([0-9.]*\).*/\1/' <<<"$line")" \
    "$(awk -v a="$vm_started_at" -v b="$(date +%s.%N)" 'BEGIN {printf "%.1f", b - a}')"
}

# Runs a shell script (its text as arguments, or stdin) inside the VM as root; prints its output, returns its code.
# The command's id is the clock in nanoseconds and the caller's process: a counter would not do, as most calls run
# in a $(...) subshell whose increment the parent never sees, so the next call would reuse the id and read the
# answer an earlier command left in the outbox.
vm_exec() {
  local timeout=${VM_EXEC_TIMEOUT:-600} id t0
  id=$(printf 'c%s-%s' "$(date +%s%N)" "$BASHPID")
  [ ! -e "$VM_RUN/share/outbox/$id.rc" ] || { vm_log "command id $id is taken"; return 125; }
  if [ $# -gt 0 ]; then printf '%s\n' "$*"; else cat; fi > "$VM_RUN/share/inbox/.$id.tmp"
  mv "$VM_RUN/share/inbox/.$id.tmp" "$VM_RUN/share/inbox/$id.sh"
  t0=$(date +%s)
  until [ -f "$VM_RUN/share/outbox/$id.rc" ]; do
    vm_running || { vm_log "QEMU exited while running $id"; return 125; }
    [ $(( $(date +%s) - t0 )) -lt "$timeout" ] || { vm_log "$id did not finish within $timeout s"; return 124; }
    sleep 0.5
  done
  cat "$VM_RUN/share/outbox/$id.out"
  return "$(cat "$VM_RUN/share/outbox/$id.rc")"
}

vm_power_cut() {  # SIGKILL: QEMU gets no chance to do anything; what the guest had not written is gone
  local pid; pid=$(cat "$VM_RUN/qemu.pid")
  kill -KILL "$pid" 2>/dev/null || true
  while kill -0 "$pid" 2>/dev/null; do sleep 0.2; done
}

vm_wait_off() {  # after a poweroff inside the guest
  local timeout=${1:-120} t0; t0=$(date +%s)
  while vm_running; do
    [ $(( $(date +%s) - t0 )) -lt "$timeout" ] || { vm_log "still running after $timeout s"; return 1; }
    sleep 0.5
  done
}

# Byte offset of partition N of the run's disk, for debugfs/e2fsck ("disk.img?offset=") and mtools ("@@").
vm_part_offset() { echo $(( $(sgdisk -i "$1" "$VM_RUN/disk.img" | awk '/First sector/ {print $3}') * 512 )); }
vm_debugfs() { debugfs -R "$2" "$VM_RUN/disk.img?offset=$(vm_part_offset "$1")" 2>/dev/null; }
vm_fsck() { e2fsck -fn "$VM_RUN/disk.img?offset=$(vm_part_offset "$1")" >/dev/null 2>&1; }
