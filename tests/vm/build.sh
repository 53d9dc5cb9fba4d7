#!/usr/bin/env bash
# Builds the virtual device of issue 15 under target/vm/:
#   grub.iso      the "firmware": i386-pc GRUB (grub-mkrescue) that hands over to the disk's grub.cfg
#   disk.img      GPT: resin-boot (FAT16: EFI/BOOT/grub.cfg + grubenv), resin-rootA (ext4, OS v1),
#                 resin-rootB (ext4, empty), resin-state (ext4), resin-data (ext4); raw, sparse
#   images/       OCI layout with the OS images to update to (v2 a new version, v3 a broken engine,
#                 v4 a kernel that does not boot; versions in lib.sh), made with ./hupd image create
# Root A is written as a device is flashed: v1's image (filesystem-image kind), its bytes as they are.
# Usage: tests/vm/build.sh [--grub-cfg FILE] [--no-images] [--format ext4|tar]
#   --format   the kind of the update images (default ext4: chunk deltas from the running root, streamed into
#              the slot; tar: one gzip tar layer that the device turns into a filesystem with mke2fs -d)
# The Debian root (mmdebstrap) and the kernel are cached in target/vm/cache/; the rest takes ~1 min.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
grub_cfg="$REPO/bootloader/grub/grub.cfg" images=1 format=ext4
while [ $# -gt 0 ]; do
  case "$1" in
    --grub-cfg) [ $# -ge 2 ] && [ -f "$2" ] || vm_die "--grub-cfg needs an existing file"; grub_cfg=$(realpath "$2"); shift 2 ;;
    --no-images) images=0; shift ;;
    --format) [ $# -ge 2 ] && [[ "$2" =~ ^(ext4|tar)$ ]] || vm_die "--format takes ext4 or tar"; format=$2; shift 2 ;;
    -h|--help) sed -n '2,12p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) vm_die "unknown argument: $1 (see --help)" ;;
  esac
done
[ "$(id -u)" = 0 ] || vm_die "build.sh runs as root (mmdebstrap, chroot depmod, root-owned files)"
t0=$(date +%s)
mkdir -p "$VM_OUT"
base=$(vm_base_root)
deb=$(vm_deb)

# Sizes in MiB. The data partition holds hupd's download cache: a whole OS image (~200 MB compressed) fits.
BOOT_MB=32 ROOT_MB=1024 STATE_MB=32 DATA_MB=1536

make_root() {  # DIR VERSION: a fresh copy of the base root made into OS VERSION
  rm -rf "$1" && cp -a "$base" "$1"
  vm_make_os_root "$1" "$2" "$grub_cfg" "$deb"
}

# IMAGE VERSION ROOT FORMAT: hupd image create into the layout being built
make_image() {
  "$REPO/hupd" image create --rootfs "$3" --version "$2" --device-type "$VM_DEVICE_TYPE" --arch amd64 \
    --format "$4" --output "oci:$1:$2" >/dev/null || vm_die "hupd image create $2 failed"
}

vm_log "root v1"
work="$VM_OUT/work" && rm -rf "$work" && mkdir -p "$work"
make_root "$work/root-$VM_V1" "$VM_V1"
# The factory image: v1 in hupd's filesystem-image kind, unpacked to the bare ext4 image that is flashed to root A.
make_image "$work/v1-layout" "$VM_V1" "$work/root-$VM_V1" ext4
v1_layer=$(jq -r '.manifests[0].digest' "$work/v1-layout/index.json" | sed 's/^sha256://')
v1_layer=$(jq -r '.layers[0].digest' "$work/v1-layout/blobs/sha256/$v1_layer" | sed 's/^sha256://')
gunzip < "$work/v1-layout/blobs/sha256/$v1_layer" > "$work/rootA.ext4" || vm_die "unpacking v1's image failed"
rm -rf "$work/v1-layout"

vm_log "grub.iso"
mkdir -p "$work/iso/boot/grub" && cp "$VM_DIR/grub-stub.cfg" "$work/iso/boot/grub/grub.cfg"
grub-mkrescue -d /usr/lib/grub/i386-pc -o "$VM_OUT/grub.iso.tmp" "$work/iso" >/dev/null 2>&1 \
  || vm_die "grub-mkrescue failed"
mv -f "$VM_OUT/grub.iso.tmp" "$VM_OUT/grub.iso"

vm_log "disk.img"
disk="$VM_OUT/disk.img.tmp"
rm -f "$disk" && truncate -s $(( (1 + BOOT_MB + 2*ROOT_MB + STATE_MB + DATA_MB + 1) ))M "$disk"
sgdisk -o \
  -n 1:2048:+${BOOT_MB}M  -t 1:0700 -c 1:resin-boot \
  -n 2:0:+${ROOT_MB}M   -t 2:8300 -c 2:resin-rootA \
  -n 3:0:+${ROOT_MB}M   -t 3:8300 -c 3:resin-rootB \
  -n 4:0:+${STATE_MB}M  -t 4:8300 -c 4:resin-state \
  -n 5:0:+${DATA_MB}M   -t 5:8300 -c 5:resin-data "$disk" >/dev/null
part_start() { sgdisk -i "$1" "$disk" | awk '/First sector/ {print $3}'; }
part_sectors() { sgdisk -i "$1" "$disk" | awk '/Partition size/ {print $3}'; }
mkfs.vfat --offset "$(part_start 1)" -F 16 -n RESIN-BOOT "$disk" $(( $(part_sectors 1) / 2 )) >/dev/null 2>&1 \
  || vm_die "mkfs.vfat failed"
boot="$disk@@$(( $(part_start 1) * 512 ))"
mcopy -s -i "$boot" "$work/root-$VM_V1/resin-boot/EFI" ::/
grub-editenv "$work/grubenv" create
grub-editenv "$work/grubenv" set resin_root_part=2 upgrade_available=0 bootcount=0
mcopy -o -i "$boot" "$work/grubenv" ::/EFI/BOOT/grubenv
mkext4() {  # PART LABEL [SOURCE]
  mkfs.ext4 -q -F -L "$2" -E offset=$(( $(part_start "$1") * 512 )) ${3:+-d "$3"} "$disk" \
    $(( $(part_sectors "$1") / 2 ))k || vm_die "mkfs.ext4 of $2 failed"
}
[ $(( $(stat -c %s "$work/rootA.ext4") / 512 )) -le "$(part_sectors 2)" ] || vm_die "v1's image is larger than root A"
dd if="$work/rootA.ext4" of="$disk" bs=1M seek=$(( $(part_start 2) * 512 )) oflag=seek_bytes conv=notrunc,sparse \
  status=none || vm_die "writing v1's image to root A failed"
mkext4 3 resin-rootB
mkext4 4 resin-state
mkext4 5 resin-data
mv -f "$disk" "$VM_OUT/disk.img"

if [ "$images" = 1 ]; then
  rm -rf "$VM_OUT/images.tmp"
  for v in "$VM_V2" "$VM_V3" "$VM_V4"; do
    vm_log "image $v"
    r="$work/root-$v"
    make_root "$r" "$v"
    case $v in
      "$VM_V3") echo "this OS ships a broken engine (issue 15 scenario 2)" > "$r/etc/engine-broken" ;;
      # The kernel starts, but its initramfs stops at once: the kernel panics and panic=5 reboots, so
      # the boot never reaches multi-user and only the bootloader's count can bring the old OS back.
      "$VM_V4") vm_make_initramfs_that_panics "$r" ;;
    esac
    make_image "$VM_OUT/images.tmp" "$v" "$r" "$format"
    rm -rf "$r"
  done
  rm -rf "$VM_OUT/images" && mv "$VM_OUT/images.tmp" "$VM_OUT/images"
fi
rm -rf "$work"
vm_log "built in $(( $(date +%s) - t0 )) s: $VM_OUT/disk.img, grub.iso${images:+, images/}"
