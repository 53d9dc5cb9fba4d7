#!/usr/bin/env bash
# Filesystem-image layers (issue 17): install time against dd + fsync of the ready image and against RAUC 1.8
# (file-backed slots, a plain bundle of the same image, its service on a private D-Bus), bytes fetched for the
# ~5 % change against xdelta3 -9, the pairwise delta and casync, bytes fetched to the newest from three older
# versions, and the update's peak RSS for two image sizes. Usage: bench/fsimage-bench.sh [WORKDIR] [RUNS];
# HUPD_WORKLOAD_MB scales the tree (default 300). Prints one table; every ratio is of medians from this one run,
# dd, hupd and RAUC interleaved in each run so that a burst of load hits all three. The tools it needs:
# bench/run.sh --install-tools.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
case "${1:-}" in
  -*) echo "usage: bench/fsimage-bench.sh [WORKDIR] [RUNS] (WORKDIR is emptied first)" >&2; exit 2 ;;
esac
work="${1:-/tmp/hupd-fsimage-bench}"
runs="${2:-3}"
for tool in python3 xdelta3 casync mke2fs rauc mksquashfs dbus-daemon openssl /usr/bin/time; do
  command -v "$tool" >/dev/null || { echo "fsimage-bench: $tool is missing (bench/run.sh --install-tools)" >&2; exit 1; }
done
hupd="$here/hupd"
DT=raspberrypi4-64
rm -rf "$work" && mkdir -p "$work" && cd "$work"
python3 "$here/bench/delta-workload.py" "$work" > workload.txt
# the launcher writes its class-data-sharing archives on a command's first run after a build (slower, about
# twice the RSS): not a run to measure
"$hupd" --help > /dev/null; "$hupd" update --help > /dev/null
# three older versions: v1 (the ~5 % change), v1 with files dropped, and v2 with others rewritten
python3 - <<'PY'
import os, random, shutil
rng = random.Random(11)
def files(root):
    return sorted(os.path.join(d, n) for d, _, ns in os.walk(root) for n in ns)
shutil.copytree("v1", "v0b", symlinks=True)
for p in rng.sample(files("v0b"), 40):
    os.remove(p)
shutil.copytree("v2", "v0c", symlinks=True)
for p in rng.sample(files("v0c"), 40):
    n = os.path.getsize(p)
    open(p, "wb").write(rng.randbytes(n))
PY
versions=(v1:2.113.4 v0b:2.112.0 v0c:2.113.9 v2:2.114.0)
for pair in "${versions[@]}"; do
  d=${pair%%:*}; v=${pair#*:}
  java -cp "$here/target/hupd.jar" "$here/bench/SampleRoot.java" "$d" "$v"   # the OS skeleton: kernel, os-release
  "$hupd" image create --rootfs "$d" --version "$v" --device-type $DT --format ext4 --output "oci:fs:$v" > /dev/null
  "$hupd" image create --rootfs "$d" --version "$v" --device-type $DT --output "oci:tar:$v" > /dev/null
done
layer() { python3 - "$1" "$2" "$3" <<'PY'
import json, sys
layout, tag, kind = sys.argv[1:]
idx = json.load(open(layout + "/index.json"))
m = next(e for e in idx["manifests"] if e["annotations"]["org.opencontainers.image.ref.name"] == tag)
man = json.load(open(layout + "/blobs/sha256/" + m["digest"][7:]))
print(layout + "/blobs/sha256/" + man["layers"][0]["digest"][7:])
PY
}
for v in 2.113.4 2.112.0 2.113.9 2.114.0; do gunzip -c < "$(layer fs $v x)" > "img-$v.ext4"; done
size=$(stat -c %s img-2.114.0.ext4)
root_size=$(( (size / 1048576 + 64) ))M

median() { sort -n | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2}'; }
secs() { python3 -c "import sys; print(f'{(int(sys.argv[2]) - int(sys.argv[1])) / 1e9:.3f}')" "$1" "$2"; }
ratio() { python3 -c "print(f'{$1 / $2:.2f}')"; }
runs_of() { tr '\n' ' ' < "$1"; }

# a second, larger image for the memory row: the same tree and HUPD_BIG_MB (256) MiB that do not compress
cp -a v2 v2big && head -c $((${HUPD_BIG_MB:-256} << 20)) /dev/urandom > v2big/firmware.bin
"$hupd" image create --rootfs v2big --version 2.114.0 --device-type $DT --format ext4 --output oci:fs:2.114.0-big > /dev/null
big_size=$(gunzip -c < "$(layer fs 2.114.0-big x)" | wc -c)
big_root_size=$(( (big_size / 1048576 + 64) ))M

# RAUC: a plain bundle of the very same image, file-backed slots, its service on a private system bus
mkdir -p rauc/content rauc/mnt
openssl req -x509 -newkey rsa:2048 -nodes -keyout rauc/key.pem -out rauc/cert.pem -subj "/O=hupd bench/CN=bench" \
    -days 30 2> /dev/null
cp img-2.114.0.ext4 rauc/content/rootfs.ext4
printf '[update]\ncompatible=hupd-bench\nversion=2.114.0\n\n[bundle]\nformat=plain\n\n[image.rootfs]\nfilename=rootfs.ext4\n' \
    > rauc/content/manifest.raucm
rauc bundle --cert rauc/cert.pem --key rauc/key.pem rauc/content rauc/bundle.raucb > rauc/bundle.log 2>&1
rm -rf rauc/content
cat > rauc/system.conf <<EOF
[system]
compatible=hupd-bench
bootloader=noop
bundle-formats=plain
mountprefix=$work/rauc/mnt
statusfile=$work/rauc/status.raucs

[keyring]
path=$work/rauc/cert.pem

[slot.rootfs.0]
device=$work/rauc/slotA.img
type=ext4
bootname=A

[slot.rootfs.1]
device=$work/rauc/slotB.img
type=ext4
bootname=B
EOF
cat > rauc/bus.conf <<EOF
<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>system</type>
  <listen>unix:path=$work/rauc/bus.sock</listen>
  <auth>EXTERNAL</auth>
  <policy context="default"><allow user="*"/><allow own="*"/><allow send_destination="*"/>
    <allow receive_sender="*"/></policy>
</busconfig>
EOF
truncate -s "$root_size" rauc/slotA.img
dbus-daemon --config-file=rauc/bus.conf --fork --print-pid > rauc/bus.pid
export DBUS_SYSTEM_BUS_ADDRESS="unix:path=$work/rauc/bus.sock"
# Debian's rauc is built with its service: install asks it over D-Bus. A is the booted slot, so B is written.
rauc service --conf=rauc/system.conf --override-boot-slot=A > rauc/service.log 2>&1 &
echo $! > rauc/service.pid
stop_rauc() { kill "$(cat "$work/rauc/service.pid")" "$(cat "$work/rauc/bus.pid")" 2> /dev/null || true; }
trap stop_rauc EXIT
for i in $(seq 50); do rauc status > /dev/null 2>&1 && break; sleep 0.2; done

# WRITING_ROOTFS's time (the streaming install, its flushes and the slot's checks) from the update's own log
writing_time() { python3 - "$1" <<'PY'
import glob, re, sys, datetime
log = open(glob.glob(sys.argv[1] + "/data/balenahup/*.log")[0]).read()
t = [datetime.datetime.fromisoformat(m) for m in re.findall(r"^(\S+) .*(?:FETCHING -> WRITING_ROOTFS|WRITING_ROOTFS -> UPDATING_BOOT_FILES)", log, re.M)]
print(f"{(t[1] - t[0]).total_seconds():.3f}" if len(t) == 2 else "nan")
PY
}
# hupd_install TAG ROOT_SIZE TIMES RSS: a fresh device updated to oci:fs:TAG; the install's time and the update
# process's peak RSS (kB) appended
hupd_install() {
  rm -rf dev && "$hupd" device create --dir dev --image oci:tar:2.113.4 --root-size "$2" \
      --health-settle 0s --health-interval 100ms > /dev/null
  /usr/bin/time -f %M -o rss.one "$hupd" update --device dev --target-version 2.114.0 --image "oci:fs:$1" \
      --no-reboot > upd.log 2>&1 || { echo "fsimage-bench: hupd update failed:" >&2; cat upd.log >&2; exit 1; }
  writing_time dev >> "$3"; tail -1 rss.one >> "$4"
}

: > dd.txt; : > hupd.txt; : > rauc.txt; : > rss.txt; : > rss-big.txt; : > hupd-big.txt
for r in $(seq "$runs"); do
  rm -f slot.img && truncate -s "$root_size" slot.img
  s=$(date +%s%N); dd if=img-2.114.0.ext4 of=slot.img bs=4M conv=notrunc,fsync status=none; e=$(date +%s%N)
  secs "$s" "$e" >> dd.txt
  hupd_install 2.114.0 "$root_size" hupd.txt rss.txt
  rm -f rauc/slotB.img && truncate -s "$root_size" rauc/slotB.img
  s=$(date +%s%N); rauc install rauc/bundle.raucb > rauc.log 2>&1; e=$(date +%s%N)
  grep -q "succeeded" rauc.log || { echo "fsimage-bench: rauc install failed:" >&2; cat rauc.log >&2; exit 1; }
  cmp -s -n "$size" rauc/slotB.img img-2.114.0.ext4 || { echo "fsimage-bench: RAUC wrote another image" >&2; exit 1; }
  secs "$s" "$e" >> rauc.txt
  hupd_install 2.114.0-big "$big_root_size" hupd-big.txt rss-big.txt
done
echo "workload: $(cat workload.txt)"
echo "image: $size bytes; layer: $(stat -c %s "$(layer fs 2.114.0 x)") bytes; runs: $runs"
dd_m=$(median < dd.txt); hupd_m=$(median < hupd.txt); rauc_m=$(median < rauc.txt)
echo "install  dd+fsync (physical limit)  median ${dd_m} s  (runs: $(runs_of dd.txt))"
echo "install  hupd filesystem image      median ${hupd_m} s = $(ratio "$hupd_m" "$dd_m")x dd  (runs: $(runs_of hupd.txt))"
echo "install  RAUC 1.8 plain bundle      median ${rauc_m} s = $(ratio "$rauc_m" "$dd_m")x dd; hupd/RAUC $(ratio "$hupd_m" "$rauc_m")  (runs: $(runs_of rauc.txt))"
echo "memory   hupd update peak RSS, $((size >> 20)) MiB image  median $(median < rss.txt) kB  (runs: $(runs_of rss.txt))"
echo "memory   hupd update peak RSS, $((big_size >> 20)) MiB image  median $(median < rss-big.txt) kB  (runs: $(runs_of rss-big.txt)); its install median $(median < hupd-big.txt) s"

# bytes for the ~5 % change, and from each older version
xdelta3 -9 -e -f -s img-2.113.4.ext4 img-2.114.0.ext4 v1-v2.vcdiff
xd=$(stat -c %s v1-v2.vcdiff)
echo "bytes    xdelta3 -9 (2.113.4 -> 2.114.0)  $xd"
"$hupd" delta create --from oci:tar:2.113.4 --to oci:tar:2.114.0 --output oci:tar:2.114.0-delta-from-2.113.4 --json > delta.json
echo "bytes    pairwise delta (tar images, its patch layer)  $(python3 -c "import json; print(json.load(open('delta.json'))['patchBytes'])")"
index_bytes=$(python3 - <<'PY'
import json
idx = json.load(open("fs/index.json"))
m = next(e for e in idx["manifests"] if e["annotations"]["org.opencontainers.image.ref.name"] == "2.114.0")
print(json.load(open("fs/blobs/sha256/" + m["digest"][7:]))["layers"][1]["size"])
PY
)
echo "bytes    in each hupd fetch below: the chunk index, $index_bytes (and the config)"
casync make --store=store.castr v2.caibx img-2.114.0.ext4 > /dev/null
for v in 2.113.4 2.112.0 2.113.9; do
  rm -rf "seed-$v.castr" && casync make --store="seed-$v.castr" "seed-$v.caibx" "img-$v.ext4" > /dev/null
  # casync's fetch: the chunks of the new index not in the seed's store, and the index itself
  python3 - "$work/store.castr" "$work/seed-$v.castr" "$v" "$(stat -c %s v2.caibx)" <<'PY'
import os, sys
def chunks(store):
    out = {}
    for d, _, ns in os.walk(store):
        for n in ns:
            if n.endswith(".cacnk"):
                out[n] = os.path.getsize(os.path.join(d, n))
    return out
new, seed = chunks(sys.argv[1]), chunks(sys.argv[2])
print(f"bytes    casync (seed {sys.argv[3]})           {sum(s for n, s in new.items() if n not in seed) + int(sys.argv[4])}  (its .caibx index included: {sys.argv[4]})")
PY
  rm -rf dev && "$hupd" device create --dir dev --image "oci:tar:$v" --root-size "$root_size" \
      --health-settle 0s --health-interval 100ms > /dev/null
  # a device that installed version v as a filesystem image: its running root holds that image
  dd if="img-$v.ext4" of=dev/rootA.img bs=4M conv=notrunc,fsync status=none
  "$hupd" update --device dev --target-version 2.114.0 --image oci:fs:2.114.0 --no-require-upgrade --json > st.json 2> upd.err
  fetched=$(python3 -c "import json; print(json.load(open('st.json'))['bytesFetched'])")
  echo "bytes    hupd chunk delta (from $v)      $fetched = $(ratio "$fetched" "$xd")x xdelta3 of 2.113.4"
done
