#!/usr/bin/env bash
# Benchmarks of issue 8: staging, pulling, start-up and memory, each against a baseline run in the same go.
#
#   bench/run.sh [--quick] [--runs N] [--only staging,pull,startup,memory] [--install-e2fsprogs-backports]
#   bench/run.sh --install-tools    installs what bench/fsimage-bench.sh compares with and measures by, then exits
#
# --quick uses a ~30 MB workload to check that the script works; the numbers in BENCHMARKS.md come from the
# full ~300 MB one. Everything lives under target/bench/ and the workload is generated from a fixed seed.
# Results: a table on stdout and target/bench/<mode>/results.md (plus raw.csv with every sample).
#
# This machine is shared with other builds: runs of hupd and of its baseline are interleaved, so that a burst
# of load hits both, and medians are reported.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$here"

mode=full scale=1.0 runs=5 only="staging,pull,startup,memory" install_backports=0
while [ $# -gt 0 ]; do
  case "$1" in
    --quick) mode=quick scale=0.1 runs=3 ;;
    --runs) runs="$2"; shift ;;
    --only) only="$2"; shift ;;
    --install-e2fsprogs-backports) install_backports=1 ;;
    --install-tools)
      # bench/fsimage-bench.sh: the tools it compares with (xdelta3, casync, RAUC and the mksquashfs its bundles
      # need, a D-Bus daemon for its service) and GNU time for peak RSS
      apt-get update -qq && apt-get install -y -qq xdelta3 casync rauc squashfs-tools dbus-daemon openssl time >&2
      exit 0 ;;
    -h|--help) sed -n 2,10p "$0"; exit 0 ;;
    *) echo "bench/run.sh: unknown option $1" >&2; exit 2 ;;
  esac
  shift
done
wants() { [[ ",$only," == *",$1,"* ]]; }

W="$here/target/bench/$mode"
mkdir -p "$W"
RAW="$W/raw.csv"
: > "$RAW"
export LC_ALL=C
PATH="$PATH:/usr/sbin:/sbin"
V_BASE=2.100.0 V_NEW=2.101.0 DT=bench-device
if [ "$mode" = quick ]; then ROOT_SIZE=128M; else ROOT_SIZE=640M; fi

log() { echo "bench: $*" >&2; }
now_ns() { date +%s%N; }
# sample NAME MS [RSS_KB]: one measurement, appended to raw.csv
sample() { echo "$1,$2,${3:-}" >> "$RAW"; }

if [ "$install_backports" = 1 ]; then
  # Only on request: it changes the machine's e2fsprogs (see ../shared/reference/tools-on-this-machine.md §11).
  source "$(dirname "$0")/../.ci/backports.sh"
  add_bookworm_backports
  apt-get update -qq && apt-get install -y -qq -t bookworm-backports e2fsprogs libarchive13 >&2
fi

log "building the jar and the benchmark harness"
mvn -q -B -DskipTests package >&2
# The launcher writes its class-data-sharing archives on the first run after a build (slower, ~2x the RSS); that
# run is not one to time. update, serve and status have archives of their own.
./hupd --help > /dev/null 2>&1 || true
./hupd update --help > /dev/null 2>&1 || true
./hupd serve --help > /dev/null 2>&1 || true
./hupd status --help > /dev/null 2>&1 || true
# The launcher's flags for a command that streams an image (its jvm_flags array, which spans lines).
java_flags() { awk '/^  jvm_flags=\(/,/\)$/' "$here/packaging/launcher/jvm-flags.sh" | tr '\n' ' ' | sed 's/^ *jvm_flags=(//; s/) *$//'; }

# ---------------------------------------------------------------------------------------------------------
# Workload: the new OS (seeded, ~300 MB) as a one-layer gzip OCI image, and a tiny old OS for the device.
if [ ! -f "$W/workload.json" ] || [ "$(cat "$W/workload.key" 2>/dev/null)" != "$scale:$V_NEW:$(sha256sum bench/workload.py)" ]; then
  log "generating the workload (scale $scale)"
  python3 bench/workload.py --root "$W/rootfs" --layout "$W/image" --scale "$scale" --version "$V_NEW" \
    --device-type "$DT" > "$W/workload.json"
  rm -rf "$W/base" "$W/base-image" "$W/device-pristine" "$W/ready.img" "$W/staged-pristine"
  echo "$scale:$V_NEW:$(sha256sum bench/workload.py)" > "$W/workload.key"
fi
LAYER="$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["layer"])' "$W/workload.json")"
IMAGE="oci:$W/image:$V_NEW"
if [ ! -d "$W/device-pristine" ]; then
  python3 -c 'import sys; sys.path.insert(0, "bench"); import workload; workload.make_tree(sys.argv[1], 0, 1, sys.argv[2], sys.argv[3])' \
    "$W/base" "$V_BASE" "$DT"
  ./hupd image create --rootfs "$W/base" --version "$V_BASE" --device-type "$DT" --arch amd64 \
    --output "oci:$W/base-image:$V_BASE" > /dev/null
  ./hupd device create --dir "$W/device-pristine" --image "oci:$W/base-image:$V_BASE" --root-size "$ROOT_SIZE" \
    --health-settle 0s --health-interval 100ms > /dev/null
fi
ROOT_BYTES=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["rootSizeBytes"])' "$W/device-pristine/device.json" 2>/dev/null || echo "")
[ -n "$ROOT_BYTES" ] || ROOT_BYTES=$(stat -c %s "$W/device-pristine/rootB.img")
# The mke2fs options hupd uses for a slot (Ext4Image.mkfs), so the baselines do the same work.
MKFS_OPTS=(-q -F -t ext4 -L resin-rootB -b 4096 -i 8192 -E lazy_itable_init=0,lazy_journal_init=0)
E2FS_VERSION="$(mke2fs -V 2>&1 | awk 'NR == 1 {print $2}')"  # awk reads it all: head could SIGPIPE mke2fs (pipefail)
# mke2fs -d takes a tar archive from 1.47.1 on, and needs libarchive at run time: asked the way hupd asks
# (Ext4Image.takesArchives), by making a tiny filesystem from an empty archive.
tar_capable() {
  local d; d="$(mktemp -d)"
  head -c 1024 /dev/zero > "$d/empty.tar"
  local rc=0
  mke2fs -q -F -t ext4 -O ^has_journal -d "$d/empty.tar" "$d/probe.img" 256k > /dev/null 2>&1 || rc=1
  rm -rf "$d"
  return $rc
}
TAR_OK=0; if tar_capable; then TAR_OK=1; fi

# ---------------------------------------------------------------------------------------------------------
# 1. staging
if wants staging || wants memory; then
  S="$W/staging"; rm -rf "$S"; mkdir -p "$S"
  # The same device told to stage in a folder (device.json "stagingFolder": true): hupd's way before the one-pass
  # write, and still its way where mke2fs takes no archives. Run in the same go, so the two compare directly.
  rm -rf "$W/device-pristine-folder"
  cp -a --sparse=always "$W/device-pristine" "$W/device-pristine-folder"
  python3 - "$W/device-pristine-folder/device.json" <<'PY'
import json, sys
c = json.load(open(sys.argv[1])); c["stagingFolder"] = True; json.dump(c, open(sys.argv[1], "w"), indent=2)
PY
  if [ ! -f "$W/ready.img" ]; then
    truncate -s "$ROOT_BYTES" "$W/ready.img"
    mke2fs "${MKFS_OPTS[@]}" -d "$W/rootfs" "$W/ready.img"
  fi
  for i in $(seq 1 "$runs"); do
    log "staging run $i/$runs"
    # hupd: the whole update up to the switch (pre-flight, fetch from the layout, flatten, mkfs, fsck, verify,
    # boot files, switch), as the launcher runs it
    rm -rf "$S/dev"; cp -a --sparse=always "$W/device-pristine" "$S/dev"; sync -f "$S"
    t0=$(now_ns)
    /usr/bin/time -f "%M" -o "$S/time.txt" ./hupd update --device "$S/dev" --target-version "$V_NEW" \
      --image "$IMAGE" --no-reboot > "$S/update.log" 2>&1 || { cat "$S/update.log" >&2; exit 1; }
    t1=$(now_ns)
    sample staging.hupd $(( (t1 - t0) / 1000000 )) "$(tail -1 "$S/time.txt")"
    grep -q "from the layer" "$S/update.log" || { [ "$TAR_OK" = 0 ] || { cat "$S/update.log" >&2; echo "bench: hupd staged in a folder although mke2fs takes archives" >&2; exit 1; }; }
    rm -rf "$S/dev"

    # hupd through a staging folder
    rm -rf "$S/dev"; cp -a --sparse=always "$W/device-pristine-folder" "$S/dev"; sync -f "$S"
    t0=$(now_ns)
    /usr/bin/time -f "%M" -o "$S/time.txt" ./hupd update --device "$S/dev" --target-version "$V_NEW" \
      --image "$IMAGE" --no-reboot > "$S/update.log" 2>&1 || { cat "$S/update.log" >&2; exit 1; }
    t1=$(now_ns)
    sample staging.hupd_folder $(( (t1 - t0) / 1000000 )) "$(tail -1 "$S/time.txt")"
    rm -rf "$S/dev"

    # standard tools: extract, populate, sync the slot file
    rm -rf "$S/tree"; mkdir "$S/tree"; truncate -s 0 "$S/slot.img"; truncate -s "$ROOT_BYTES" "$S/slot.img"
    t0=$(now_ns)
    tar -xzf "$LAYER" -C "$S/tree"
    mke2fs "${MKFS_OPTS[@]}" -d "$S/tree" "$S/slot.img"
    sync "$S/slot.img"
    t1=$(now_ns)
    sample staging.tools $(( (t1 - t0) / 1000000 ))
    rm -rf "$S/tree"

    if [ "$TAR_OK" = 1 ]; then
      truncate -s 0 "$S/slot.img"; truncate -s "$ROOT_BYTES" "$S/slot.img"
      t0=$(now_ns)
      mke2fs "${MKFS_OPTS[@]}" -d "$LAYER" "$S/slot.img"
      sync "$S/slot.img"
      t1=$(now_ns)
      sample staging.mke2fs_tar $(( (t1 - t0) / 1000000 ))
    fi

    # physical limit: the finished filesystem copied into the slot, holes skipped (as bmaptool would), fsync
    rm -f "$S/slot.img"
    t0=$(now_ns)
    dd if="$W/ready.img" of="$S/slot.img" bs=4M conv=sparse,fsync status=none
    t1=$(now_ns)
    sample staging.copy $(( (t1 - t0) / 1000000 ))
  done
  rm -f "$S/slot.img"
fi

# ---------------------------------------------------------------------------------------------------------
# 2. pulling from a loopback registry
if wants pull; then
  P="$W/pull"; rm -rf "$P"; mkdir -p "$P"
  cat > "$P/registry.yml" <<YML
version: 0.1
log: {level: info, accesslog: {disabled: true}}
storage: {filesystem: {rootdirectory: $P/registry-data}}
http: {addr: 127.0.0.1:0, secret: bench}
YML
  docker-registry serve "$P/registry.yml" > "$P/registry.log" 2>&1 &
  registry_pid=$!
  trap 'kill "$registry_pid" 2>/dev/null || true' EXIT
  port=""
  for _ in $(seq 1 100); do
    port="$(sed -n 's/.*listening on 127\.0\.0\.1:\([0-9]*\).*/\1/p' "$P/registry.log" | head -1)"
    [ -n "$port" ] && break
    sleep 0.1
  done
  [ -n "$port" ] || { cat "$P/registry.log" >&2; echo "bench: the registry did not start" >&2; exit 1; }
  REF="127.0.0.1:$port/hostos:$V_NEW"
  skopeo copy -q --dest-tls-verify=false "$IMAGE" "docker://$REF" >&2
  read -r -a flags <<< "$(java_flags)"
  for i in $(seq 1 "$runs"); do
    log "pull run $i/$runs"
    rm -rf "$P/hupd-cache"; sync -f "$P"
    t0=$(now_ns)
    /usr/bin/time -f "%U %S %M" -o "$P/time.txt" java "${flags[@]}" -cp "target/hupd.jar:target/test-classes" \
      io.hupd.bench.FetchOnce "docker://$REF" "$P/hupd-cache" > "$P/fetch.out"
    t1=$(now_ns)
    sample pull.hupd $(( (t1 - t0) / 1000000 )) "$(tail -1 "$P/time.txt" | cut -d' ' -f3)"
    sample pull.hupd_cpu "$(tail -1 "$P/time.txt" | awk '{printf "%d", ($1 + $2) * 1000}')"
    rm -rf "$P/skopeo-out"; sync -f "$P"
    t0=$(now_ns)
    /usr/bin/time -f "%U %S %M" -o "$P/time.txt" skopeo copy -q --src-tls-verify=false "docker://$REF" \
      "oci:$P/skopeo-out:$V_NEW" >&2
    t1=$(now_ns)
    sample pull.skopeo $(( (t1 - t0) / 1000000 )) "$(tail -1 "$P/time.txt" | cut -d' ' -f3)"
    sample pull.skopeo_cpu "$(tail -1 "$P/time.txt" | awk '{printf "%d", ($1 + $2) * 1000}')"
  done
  kill "$registry_pid" 2>/dev/null || true
  wait "$registry_pid" 2>/dev/null || true
  trap - EXIT
  rm -rf "$P/hupd-cache" "$P/skopeo-out"
fi

# ---------------------------------------------------------------------------------------------------------
# 3. start-up, on a device with an update in flight (staged with --no-reboot, so the state is REBOOTING)
if wants startup; then
  U="$W/startup"; rm -rf "$U"; mkdir -p "$U"
  if [ ! -d "$W/staged-pristine" ]; then
    cp -a --sparse=always "$W/device-pristine" "$W/staged-pristine"
    ./hupd update --device "$W/staged-pristine" --target-version "$V_NEW" --image "$IMAGE" --no-reboot > /dev/null
  fi
  for i in $(seq 1 "$runs"); do
    log "start-up run $i/$runs"
    rm -rf "$U/dev"; cp -a --sparse=always "$W/staged-pristine" "$U/dev"; sync -f "$U"
    # The first decision is persisted when H2's CHECKPOINT SYNC forces the database after the journal row of
    # the first transition was stamped; strace (seccomp-filtered: only fsync stops the process) gives the time.
    t0=$(now_ns)
    strace -f --seccomp-bpf -e trace=fsync,fdatasync -y -ttt -o "$U/strace.out" \
      ./hupd boot --device "$U/dev" > /dev/null 2>&1 || true
    # status right after the boot released the database (it reads the snapshot that release left), then again
    # after history has opened the database (it reads it through H2 until the next release)
    t1=$(now_ns)
    ./hupd status --device "$U/dev" > /dev/null
    t2=$(now_ns)
    sample startup.status $(( (t2 - t1) / 1000000 ))
    first_at="$(./hupd history --device "$U/dev" --json | python3 -c '
import json, sys
from datetime import datetime
d = json.load(sys.stdin)
t = [x for u in d["updates"] for x in u["transitions"] if x["from"] == "REBOOTING"]
print(datetime.fromisoformat(t[-1]["at"].replace("Z", "+00:00")).timestamp())')"
    persisted="$(awk -v at="$first_at" '/state\.mv\.db>/ && /fsync/ && $2 >= at { print $2; exit }' "$U/strace.out")"
    sample startup.first_decision "$(python3 -c "print(round(($persisted - $t0 / 1e9) * 1000))")"
    # The simulated firmware's part of it (the bootloader's rules, the root's checks, the OS's services): from its
    # first write (boot/bootcount.env) to its last (run/power). The rest is hupd's own share, what a real device
    # pays after its kernel is up: the JVM, the command line, the device's ports, the machine, the database.
    fw_start="$(awk '/fsync\(/ && /\/boot\/bootcount\.env>/ { print $2; exit }' "$U/strace.out")"
    fw_end="$(awk '/fsync\(/ && /\/run\/\.power\./ { print $2; exit }' "$U/strace.out")"
    sample startup.firmware "$(python3 -c "print(round(($fw_end - $fw_start) * 1000))")"
    sample startup.hupd_share "$(python3 -c "print(round(($persisted - $t0 / 1e9 - ($fw_end - $fw_start)) * 1000))")"
    sample startup.first_decision_unpersisted "$(python3 -c "print(round(($first_at - $t0 / 1e9) * 1000))")"
    t1=$(now_ns)
    ./hupd status --device "$U/dev" > /dev/null
    t2=$(now_ns)
    sample startup.status_after_a_reader $(( (t2 - t1) / 1000000 ))
  done
  rm -rf "$U/dev"
fi

# ---------------------------------------------------------------------------------------------------------
# 4. memory of a long-running hupd serve at rest (the update's peak RSS comes from the staging runs)
if wants memory; then
  M="$W/memory"; rm -rf "$M"; mkdir -p "$M"
  cp -a --sparse=always "$W/device-pristine" "$M/dev"
  for i in $(seq 1 "$runs"); do
    log "serve run $i/$runs"
    ./hupd serve --device "$M/dev" --port 0 > "$M/serve.out" 2>&1 &
    serve_pid=$!
    url=""
    for _ in $(seq 1 200); do
      url="$(sed -n 's/^hupd serve: \(http[^ ]*\).*/\1/p' "$M/serve.out")"
      [ -n "$url" ] && break
      sleep 0.1
    done
    # one page view (with the token), then rest: what sits next to the user's applications all day
    token="$(cat "$M/dev/data/hupd/serve-token" 2>/dev/null || true)"
    curl -s -o /dev/null -H "Authorization: Bearer $token" "$url" || true
    sleep 10
    rss=$(awk '/^VmRSS/ {print $2}' "/proc/$serve_pid/status")
    hwm=$(awk '/^VmHWM/ {print $2}' "/proc/$serve_pid/status")
    sample memory.serve_rest 0 "$rss"
    sample memory.serve_peak 0 "$hwm"
    kill "$serve_pid"; wait "$serve_pid" 2>/dev/null || true
  done
fi

# ---------------------------------------------------------------------------------------------------------
python3 - "$RAW" "$W/workload.json" "$E2FS_VERSION" "$mode" "$runs" > "$W/results.md" <<'PY'
import json, os, statistics, sys
raw, wl, e2fs, mode, runs = sys.argv[1:6]
ms, kb = {}, {}
for line in open(raw):
    name, t, r = line.strip().split(",")
    ms.setdefault(name, []).append(int(t))
    if r:
        kb.setdefault(name, []).append(int(r))
med = lambda xs: statistics.median(xs)
w = json.load(open(wl))
print(f"mode {mode}, {runs} runs each; e2fsprogs {e2fs}; nproc {os.cpu_count()}; "
      f"load average at the end {open('/proc/loadavg').read().split()[:3]}")
print(f"workload: {w['tree_bytes'] / 1e6:.0f} MB tree, {w['files']} files ({w['hardlinked']} hard-linked), "
      f"{w['symlinks']} symlinks, {w['dirs']} dirs; layer {w['layer_bytes'] / 1e6:.0f} MB gzip\n")
print("| measurement | hupd (median) | baseline (median) | ratio | target |")
print("|---|---|---|---|---|")
def row(label, a, b, target):
    if a not in ms or b not in ms:
        if a in ms:
            print(f"| {label} | {med(ms[a]):.0f} ms | not run | n/a | {target} |")
        return
    print(f"| {label} | {med(ms[a]):.0f} ms | {med(ms[b]):.0f} ms | {med(ms[a]) / med(ms[b]):.2f}x | {target} |")
row("staging vs tar -xzf + mke2fs -d dir + sync", "staging.hupd", "staging.tools", "<= 1.0x")
row("staging vs mke2fs -d layer.tar.gz + sync", "staging.hupd", "staging.mke2fs_tar", "<= 1.3x")
row("staging vs copy of a ready ext4 + fsync", "staging.hupd", "staging.copy", "<= 2.0x")
row("staging through a folder (stagingFolder) vs tar -xzf + mke2fs -d dir + sync", "staging.hupd_folder",
    "staging.tools", "")
row("staging from the layer vs through a folder, same jar", "staging.hupd", "staging.hupd_folder", "")
row("pull vs skopeo copy", "pull.hupd", "pull.skopeo", "<= 1.0x")
row("pull, CPU time (user + sys)", "pull.hupd_cpu", "pull.skopeo_cpu", "")
for name, label, target in (("startup.first_decision", "boot: start to first persisted decision", "<= 500 ms"),
                            ("startup.first_decision_unpersisted", "boot: start to first decision stamped", ""),
                            ("startup.firmware", "boot: of which the simulated firmware (bootcount.env to run/power)", ""),
                            ("startup.hupd_share", "boot: of which hupd's own share (the rest)", ""),
                            ("startup.status", "hupd status (the database as the boot released it)", "<= 500 ms"),
                            ("startup.status_after_a_reader", "hupd status (after history opened the database)", "")):
    if name in ms:
        print(f"| {label} | {med(ms[name]):.0f} ms | | | {target} |")
for name, label, target in (("staging.hupd", "peak RSS of hupd update", "<= 128 MB"),
                            ("staging.hupd_folder", "peak RSS of hupd update through a folder", ""),
                            ("pull.hupd", "peak RSS of the pull (FetchOnce)", ""),
                            ("pull.skopeo", "peak RSS of skopeo copy", ""),
                            ("memory.serve_rest", "RSS of hupd serve at rest (10 s after one page view)", "<= 64 MB"),
                            ("memory.serve_peak", "peak RSS of hupd serve since start (VmHWM)", "")):
    if name in kb:
        print(f"| {label} | {med(kb[name]) / 1024:.0f} MiB (max {max(kb[name]) / 1024:.0f}) | | | {target} |")
print("\nsamples (ms or KiB):")
for k in sorted(set(ms) | set(kb)):
    print(f"- {k}: ms {ms.get(k)} rss {kb.get(k, '')}")
PY
cat "$W/results.md"
