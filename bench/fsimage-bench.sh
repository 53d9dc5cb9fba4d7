#!/usr/bin/env bash
# Filesystem-image layers (issue 17): install time against dd + fsync of the ready image and against RAUC 1.8,
# bytes fetched for the ~5 % change against xdelta3 -9, the pairwise delta and casync, and bytes fetched to the
# newest from three older versions. Usage: bench/fsimage-bench.sh [WORKDIR] [RUNS]; HUPD_WORKLOAD_MB scales the
# tree (default 300). Prints one table; every ratio is of medians from this one run.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
case "${1:-}" in
  -*) echo "usage: bench/fsimage-bench.sh [WORKDIR] [RUNS] (WORKDIR is emptied first)" >&2; exit 2 ;;
esac
work="${1:-/tmp/hupd-fsimage-bench}"
runs="${2:-3}"
for tool in python3 xdelta3 casync mke2fs; do
  command -v "$tool" >/dev/null || { echo "fsimage-bench: $tool is missing" >&2; exit 1; }
done
hupd="$here/hupd"
DT=raspberrypi4-64
rm -rf "$work" && mkdir -p "$work" && cd "$work"
python3 "$here/bench/delta-workload.py" "$work" > workload.txt
"$hupd" --help > /dev/null
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

: > dd.txt; : > hupd.txt; : > rss.txt
for r in $(seq "$runs"); do
  rm -f slot.img && truncate -s "$root_size" slot.img
  s=$(date +%s%N); dd if=img-2.114.0.ext4 of=slot.img bs=4M conv=notrunc,fsync status=none; e=$(date +%s%N)
  secs "$s" "$e" >> dd.txt
  rm -rf dev && "$hupd" device create --dir dev --image oci:tar:2.113.4 --root-size "$root_size" \
      --health-settle 0s --health-interval 100ms > /dev/null
  "$hupd" update --device dev --target-version 2.114.0 --image oci:fs:2.114.0 --no-reboot > upd.log 2>&1 \
      || "$hupd" update --device dev --target-version 2.114.0 --image oci:fs:2.114.0 > upd.log 2>&1
  # WRITING_ROOTFS's time (the streaming install) from the update's own log
  python3 - dev >> hupd.txt <<'PY'
import glob, re, sys, datetime
log = open(glob.glob(sys.argv[1] + "/data/balenahup/*.log")[0]).read()
t = [datetime.datetime.fromisoformat(m) for m in re.findall(r"^(\S+) .*(?:FETCHING -> WRITING_ROOTFS|WRITING_ROOTFS -> UPDATING_BOOT_FILES)", log, re.M)]
print(f"{(t[1] - t[0]).total_seconds():.3f}" if len(t) == 2 else "nan")
PY
done
echo "workload: $(cat workload.txt)"
echo "image: $size bytes; layer: $(stat -c %s "$(layer fs 2.114.0 x)") bytes; runs: $runs"
dd_m=$(median < dd.txt); hupd_m=$(median < hupd.txt)
echo "install  dd+fsync (physical limit)  median ${dd_m} s"
echo "install  hupd filesystem image      median ${hupd_m} s  ratio $(python3 -c "print(f'{$hupd_m / $dd_m:.2f}')")x"

# bytes for the ~5 % change, and from each older version
xdelta3 -9 -e -f -s img-2.113.4.ext4 img-2.114.0.ext4 v1-v2.vcdiff
echo "bytes    xdelta3 -9 (2.113.4 -> 2.114.0)  $(stat -c %s v1-v2.vcdiff)"
"$hupd" delta create --from oci:tar:2.113.4 --to oci:tar:2.114.0 --output oci:tar:2.114.0-delta-from-2.113.4 --json > delta.json
python3 -c "import json; d=json.load(open('delta.json')); print('bytes    pairwise delta (tar images)      ', d.get('deltaBytes', d))"
casync make --store=store.castr v2.caibx img-2.114.0.ext4 > /dev/null
for v in 2.113.4 2.112.0 2.113.9; do
  rm -rf "seed-$v.castr" && casync make --store="seed-$v.castr" "seed-$v.caibx" "img-$v.ext4" > /dev/null
  # casync's fetch: the chunks of the new index not in the seed's store
  python3 - "$work/store.castr" "$work/seed-$v.castr" "$v" <<'PY'
import os, sys
def chunks(store):
    out = {}
    for d, _, ns in os.walk(store):
        for n in ns:
            if n.endswith(".cacnk"):
                out[n] = os.path.getsize(os.path.join(d, n))
    return out
new, seed = chunks(sys.argv[1]), chunks(sys.argv[2])
print(f"bytes    casync (seed {sys.argv[3]})           {sum(s for n, s in new.items() if n not in seed)}")
PY
  rm -rf dev && "$hupd" device create --dir dev --image "oci:tar:$v" --root-size "$root_size" \
      --health-settle 0s --health-interval 100ms > /dev/null
  # a device that installed version v as a filesystem image: its running root holds that image
  dd if="img-$v.ext4" of=dev/rootA.img bs=4M conv=notrunc,fsync status=none
  "$hupd" update --device dev --target-version 2.114.0 --image oci:fs:2.114.0 --no-require-upgrade --json > st.json 2> upd.err
  echo "bytes    hupd chunk delta (from $v)      $(python3 -c "import json; print(json.load(open('st.json'))['bytesFetched'])")"
done
