#!/usr/bin/env bash
# The staging update of two hupd checkouts, interleaved: for each round, A then B, each `./hupd update ...
# --no-reboot` (its own launcher, flags and class-data archive) on a fresh copy of the benchmark device, with
# the phases timed from the update log.
#
#   bench/staging-ab.sh CHECKOUT_A CHECKOUT_B [ROUNDS]
#
# A checkout is a folder with a built ./hupd (e.g. a `git worktree add` of the commit to compare against, then
# `mvn -q -DskipTests package` in it). The device and image are bench/run.sh's full workload
# (target/bench/full in this checkout: run `bench/run.sh --runs 1 --only staging` once to make them).
# Prints one line per run: wall ms, FETCHING ms, the checks in WRITING_ROOTFS before mke2fs, the slot write and
# verification, fetch start to slot written, peak RSS in KiB.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
[ $# -ge 2 ] || { sed -n 2,11p "$0"; exit 2; }
a="$(realpath "$1")" b="$(realpath "$2")" rounds="${3:-3}"
W="$here/target/bench/full"
[ -d "$W/device-pristine" ] || { echo "bench/staging-ab.sh: no $W/device-pristine; run bench/run.sh first" >&2; exit 2; }
X="$here/target/bench/staging-ab"; rm -rf "$X"; mkdir -p "$X"
for side in "$a" "$b"; do "$side/hupd" --help > /dev/null 2>&1 || true; done # builds and class-data archives

one() { # LABEL CHECKOUT
  rm -rf "$X/dev"; cp -a --sparse=always "$W/device-pristine" "$X/dev"; sync -f "$X"
  local t0 t1
  t0=$(date +%s%N)
  /usr/bin/time -f "%M" -o "$X/time" "$2/hupd" update --device "$X/dev" --target-version 2.101.0 \
    --image "oci:$W/image:2.101.0" --no-reboot > "$X/out" 2>&1 || { cat "$X/out" >&2; exit 1; }
  t1=$(date +%s%N)
  python3 - "$1" $(( (t1 - t0) / 1000000 )) "$(tail -1 "$X/time")" "$X"/dev/data/balenahup/*.log <<'PY'
import sys
from datetime import datetime
label, wall, rss, log = sys.argv[1:5]
at = {}
marks = (("fetch", "] fetching image"), ("writing", "FETCHING -> WRITING_ROOTFS"), ("write", "] writing slot"),
         ("written", "written and verified"))
for line in open(log):
    for key, text in marks:
        if text in line and key not in at:
            at[key] = datetime.fromisoformat(line[:23])
ms = lambda x, y: round((at[y] - at[x]).total_seconds() * 1000)
print(f"{label} wall {wall} fetching {ms('fetch', 'writing')} checks {ms('writing', 'write')} "
      f"write {ms('write', 'written')} fetch-to-written {ms('fetch', 'written')} rss {rss}")
PY
}
for _ in $(seq 1 "$rounds"); do
  one A "$a"
  one B "$b"
done
