#!/usr/bin/env bash
# Start-up of two hupd jars, interleaved: for each run, A then B, each on a fresh copy of a device with an update
# staged (--no-reboot, state REBOOTING): `hupd boot` to its first persisted decision (the first fsync of
# state.mv.db after the REBOOTING journal row, as bench/run.sh times it), then `hupd status`.
#
#   bench/startup-ab.sh OLD.jar NEW.jar STAGED_DEVICE_DIR [RUNS]
#
# STAGED_DEVICE_DIR: e.g. target/bench/quick/staged-pristine, made by `bench/run.sh --quick --only startup`.
# A_BOOT_FLAGS / B_BOOT_FLAGS, A_STATUS_FLAGS / B_STATUS_FLAGS: JVM flags added after the launcher's for that
# side's boot or status (e.g. B_BOOT_FLAGS=-XX:TieredStopAtLevel=1 to compare C2 and C1 on one jar).
# A_CLASSLIST / B_CLASSLIST: the class list each side's archive is made from (default cds/hupd.classlist).
# Each jar runs with the launcher's JVM flags and a static class-data-sharing archive made from its class list, as
# ./hupd runs it. Prints every sample and the medians: wall time to the first persisted decision, the simulated
# firmware's part of it (from its first write, boot/bootcount.env, to its last, run/power) and the rest (hupd's
# own share, what a real device pays after its kernel is up), the boot's CPU time up to its exit (user + sys,
# the firmware's tools included), and status wall and CPU. The work files are under target/bench/ab/.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
[ $# -ge 3 ] || { sed -n 2,15p "$0"; exit 2; }
jar_a="$(realpath "$1")" jar_b="$(realpath "$2")" staged="$(realpath "$3")" runs="${4:-3}"
W="$here/target/bench/ab"; rm -rf "$W"; mkdir -p "$W"
read -r -a flags <<< "$(awk '/^  jvm_flags=\(/,/\)$/' "$here/packaging/launcher/jvm-flags.sh" | tr '\n' ' ' | sed 's/^ *jvm_flags=(//; s/) *$//')"
now_ns() { date +%s%N; }
jsa() { echo "$W/$1.jsa"; }

make_archive() { # SIDE JAR CLASSLIST
  java -Xshare:dump -XX:SharedClassListFile="$3" -XX:SharedArchiveFile="$(jsa "$1")" -Xmx64m -Xlog:disable \
    -cp "$2" > /dev/null 2>&1
}
make_archive A "$jar_a" "${A_CLASSLIST:-$here/cds/hupd.classlist}"
make_archive B "$jar_b" "${B_CLASSLIST:-$here/cds/hupd.classlist}"

one() { # SIDE JAR
  local side="$1" jar="$2" t0 first_at persisted boot_flags status_flags
  boot_flags="$(eval echo "\${${side}_BOOT_FLAGS:-}")" status_flags="$(eval echo "\${${side}_STATUS_FLAGS:-}")"
  rm -rf "$W/dev"; cp -a --sparse=always "$staged" "$W/dev"; sync -f "$W"
  t0=$(now_ns)
  # shellcheck disable=SC2086
  strace -f --seccomp-bpf -e trace=fsync,fdatasync -y -ttt -o "$W/strace.out" \
    /usr/bin/time -f "%U %S" -o "$W/cpu.txt" \
    java "${flags[@]}" $boot_flags -XX:SharedArchiveFile="$(jsa "$side")" -jar "$jar" boot --device "$W/dev" \
    > /dev/null 2>&1 || true
  first_at="$(java "${flags[@]}" -XX:TieredStopAtLevel=1 -XX:SharedArchiveFile="$(jsa "$side")" -jar "$jar" \
      history --device "$W/dev" --json | python3 -c '
import json, sys
from datetime import datetime
d = json.load(sys.stdin)
t = [x for u in d["updates"] for x in u["transitions"] if x["from"] == "REBOOTING"]
print(datetime.fromisoformat(t[-1]["at"].replace("Z", "+00:00")).timestamp())')"
  persisted="$(awk -v at="$first_at" '/state\.mv\.db>/ && /fsync/ && $2 >= at { print $2; exit }' "$W/strace.out")"
  fw_start="$(awk '/fsync\(/ && /\/boot\/bootcount\.env>/ { print $2; exit }' "$W/strace.out")"
  fw_end="$(awk '/fsync\(/ && /\/run\/\.power\./ { print $2; exit }' "$W/strace.out")"
  python3 - "$side" "$t0" "$persisted" "$fw_start" "$fw_end" "$(cat "$W/cpu.txt" | tail -1)" >> "$W/raw.csv" <<'PY'
import sys
side, t0, persisted, fw_start, fw_end, cpu = sys.argv[1:7]
t0 = int(t0) / 1e9
first = (float(persisted) - t0) * 1000
fw = (float(fw_end) - float(fw_start)) * 1000
u, s = cpu.split()
print(f"{side},first_decision,{first:.0f}\n{side},firmware,{fw:.0f}\n{side},hupd_share,{first - fw:.0f}")
print(f"{side},boot_cpu,{(float(u) + float(s)) * 1000:.0f}")
PY
  t0=$(now_ns)
  # shellcheck disable=SC2086
  /usr/bin/time -f "%U %S" -o "$W/cpu.txt" java "${flags[@]}" -XX:TieredStopAtLevel=1 $status_flags \
    -XX:SharedArchiveFile="$(jsa "$side")" -jar "$jar" status --device "$W/dev" > /dev/null
  echo "$side,status,$(( ($(now_ns) - t0) / 1000000 ))" >> "$W/raw.csv"
  echo "$side,status_cpu,$(awk '{ printf "%.0f", ($1 + $2) * 1000 }' "$W/cpu.txt")" >> "$W/raw.csv"
}

for i in $(seq 1 "$runs"); do
  echo "run $i/$runs (load $(cut -d' ' -f1 /proc/loadavg))" >&2
  one A "$jar_a"
  one B "$jar_b"
done
python3 - "$W/raw.csv" <<'PY'
import statistics, sys
d = {}
for line in open(sys.argv[1]):
    label, what, ms = line.strip().split(",")
    d.setdefault((what, label), []).append(int(ms))
for what in ("first_decision", "firmware", "hupd_share", "boot_cpu", "status", "status_cpu"):
    a, b = d[(what, "A")], d[(what, "B")]
    ma, mb = statistics.median(a), statistics.median(b)
    print(f"{what:15s} A {a} median {ma:.0f} ms | B {b} median {mb:.0f} ms | B/A {mb / ma:.2f}")
PY
