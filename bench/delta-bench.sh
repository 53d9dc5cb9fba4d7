#!/usr/bin/env bash
# Delta benchmark (issue 7): a ~300 MB root filesystem, v2 changing ~5% of its bytes.
# Builds both images, pushes them to a loopback registry, makes the delta with `hupd delta create`, updates a
# simulated device running v1 (delta found by its name next to the image) and a copy of it from the full
# image, and compares the delta with xdelta3 -9 and zstd --patch-from of the two uncompressed layers.
# Usage: bench/delta-bench.sh [WORKDIR]   (needs python3, docker-registry, skopeo, xdelta3, zstd; ~2.5 GB free)
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
work="${1:-/tmp/hupd-delta-bench}"
for tool in python3 docker-registry skopeo xdelta3 zstd; do
  command -v "$tool" >/dev/null || { echo "delta-bench: $tool is missing (apt-get install -y ${tool/python3/python3})" >&2; exit 1; }
done
hupd="$here/hupd"
mkdir -p "$work" && cd "$work"
rm -rf L dev dev-full registry-data *.tar *.vcdiff *.zst

python3 "$here/bench/delta-workload.py" "$work" | tee workload.txt
"$hupd" --help >/dev/null   # builds the jar when it is missing or stale
java -cp "$here/target/hupd.jar" "$here/bench/SampleRoot.java" v1 2.113.4
java -cp "$here/target/hupd.jar" "$here/bench/SampleRoot.java" v2 2.114.0
"$hupd" image create --rootfs v1 --version 2.113.4 --device-type raspberrypi4-64 --output oci:L:2.113.4
"$hupd" image create --rootfs v2 --version 2.114.0 --device-type raspberrypi4-64 --output oci:L:2.114.0

cat > registry.yml <<YML
version: 0.1
log: {level: info, accesslog: {disabled: true}}
storage: {filesystem: {rootdirectory: $work/registry-data}}
http: {addr: 127.0.0.1:0}
YML
docker-registry serve registry.yml > registry.log 2>&1 &
registry_pid=$!
trap 'kill $registry_pid 2>/dev/null || true' EXIT
for _ in $(seq 100); do
  port=$(grep -o 'listening on 127.0.0.1:[0-9]*' registry.log | head -1 | cut -d: -f2 || true)
  [ -n "$port" ] && break; sleep 0.1
done
[ -n "$port" ] || { echo "delta-bench: the registry did not start: $(cat registry.log)" >&2; exit 1; }
reg="127.0.0.1:$port"
skopeo copy --quiet --dest-tls-verify=false oci:L:2.114.0 "docker://$reg/hostos:2.114.0"

t0=$(date +%s.%N)
"$hupd" delta create --from oci:L:2.113.4 --to "docker://$reg/hostos:2.114.0" \
  --output "docker://$reg/hostos:2.114.0-delta-from-2.113.4" --json > delta.json
t1=$(date +%s.%N)

"$hupd" device create --dir dev --image oci:L:2.113.4 --root-size 700M --health-settle 0s --health-interval 100ms > /dev/null
cp -a dev dev-full
# The full update: the same image from the registry, with the delta's tag out of reach (another repository).
skopeo copy --quiet --dest-tls-verify=false oci:L:2.114.0 "docker://$reg/nodelta:2.114.0"

update() {  # DIR IMAGE -> prints "source bytes fetch_seconds total_seconds"
  local s e
  s=$(date +%s.%N)
  "$hupd" update --device "$1" --target-version 2.114.0 --image "$2" --json > "$1.status.json"
  e=$(date +%s.%N)
  python3 - "$1" "$s" "$e" <<'PY'
import json, re, sys, datetime
d, s, e = sys.argv[1], float(sys.argv[2]), float(sys.argv[3])
st = json.load(open(d + ".status.json"))
log = open(next(__import__("glob").iglob(d + "/data/balenahup/*.log"))).read()
t = lambda pat: datetime.datetime.fromisoformat(re.search(r"^(\S+) .*" + pat, log, re.M).group(1).replace("Z", "+00:00"))
fetch = (t(r"FETCHING -> WRITING_ROOTFS") - t(r"STOPPING_SUPERVISOR -> FETCHING")).total_seconds()
print(st["source"], st["bytesFetched"], f"{fetch:.1f}", f"{e - s:.1f}")
PY
}
read -r dsrc dbytes dfetch dtotal < <(update dev "docker://$reg/hostos:2.114.0")
read -r fsrc fbytes ffetch ftotal < <(update dev-full "docker://$reg/nodelta:2.114.0")

# the two uncompressed layers, for the outside tools
layer() { python3 - "$1" <<'PY'
import json, sys
idx = json.load(open("L/index.json"))
m = [x for x in idx["manifests"] if x["annotations"]["org.opencontainers.image.ref.name"] == sys.argv[1]][0]
print(json.load(open("L/blobs/sha256/" + m["digest"][7:]))["layers"][0]["digest"][7:])
PY
}
gunzip -c "L/blobs/sha256/$(layer 2.113.4)" > v1.tar
gunzip -c "L/blobs/sha256/$(layer 2.114.0)" > v2.tar
full=$(stat -c %s "L/blobs/sha256/$(layer 2.114.0)")
xs=$(date +%s.%N); xdelta3 -9 -e -f -s v1.tar v2.tar x.vcdiff; xe=$(date +%s.%N)
xds=$(date +%s.%N); xdelta3 -d -f -s v1.tar x.vcdiff x.out; xde=$(date +%s.%N); cmp x.out v2.tar; rm -f x.out
zs=$(date +%s.%N); zstd -q -19 --long=29 -f --patch-from=v1.tar v2.tar -o z19.zst; ze=$(date +%s.%N)

python3 - "$full" "$dsrc" "$dbytes" "$dfetch" "$dtotal" "$fsrc" "$fbytes" "$ffetch" "$ftotal" \
  "$(stat -c %s x.vcdiff)" "$xs" "$xe" "$xds" "$xde" "$(stat -c %s z19.zst)" "$zs" "$ze" "$t0" "$t1" <<'PY'
import json, sys
a = sys.argv[1:]
full, dsrc, dbytes, dfetch, dtotal, fsrc, fbytes, ffetch, ftotal = int(a[0]), a[1], int(a[2]), a[3], a[4], a[5], int(a[6]), a[7], a[8]
xsize, xenc, xdec = int(a[9]), float(a[11]) - float(a[10]), float(a[13]) - float(a[12])
zsize, zenc = int(a[14]), float(a[16]) - float(a[15])
create = float(a[18]) - float(a[17])
d = json.load(open("delta.json"))
print(open("workload.txt").read().strip())
print(f"full compressed image layer: {full:,} B; uncompressed {d['targetUncompressedBytes']:,} B")
print(f"| method | bytes | % of full image | make | apply / fetch |")
print(f"|---|---:|---:|---:|---:|")
print(f"| hupd update, full image ({fsrc.split('/')[-1]}) | {fbytes:,} | 100% | – | {ffetch} s fetch, {ftotal} s whole update |")
print(f"| hupd update, delta ({dsrc.split('/')[-1]}) | {dbytes:,} | {100 * dbytes / full:.2f}% | {create:.1f} s | {dfetch} s fetch+apply+verify, {dtotal} s whole update |")
print(f"| xdelta3 -9 of the uncompressed layers | {xsize:,} | {100 * xsize / full:.2f}% | {xenc:.1f} s | {xdec:.1f} s |")
print(f"| zstd -19 --long=29 --patch-from | {zsize:,} | {100 * zsize / full:.2f}% | {zenc:.1f} s | – |")
ok = dbytes <= xsize and dbytes <= 0.05 * full
print(("PASS" if ok else "FAIL") + f": delta bytes {dbytes:,} <= xdelta3 -9 {xsize:,} and <= 5% of {full:,}")
sys.exit(0 if ok else 1)
PY
