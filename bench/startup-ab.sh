#!/usr/bin/env bash
# Start-up of two hupd jars, interleaved: for each run, A then B, each on a fresh copy of a device with an update
# staged (--no-reboot, state REBOOTING): `hupd boot` to its first persisted decision (the first fsync of
# state.mv.db after the REBOOTING journal row, as bench/run.sh times it), then `hupd status`.
#
#   bench/startup-ab.sh OLD.jar NEW.jar STAGED_DEVICE_DIR [RUNS]
#
# STAGED_DEVICE_DIR: e.g. target/bench/quick/staged-pristine, made by `bench/run.sh --quick --only startup`.
# Each jar runs with the launcher's JVM flags and its own class-data-sharing archive (made by a first, untimed
# run), as ./hupd would run it. Prints every sample and the medians; the work files are under target/bench/ab/.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
[ $# -ge 3 ] || { sed -n 2,9p "$0"; exit 2; }
jar_a="$(realpath "$1")" jar_b="$(realpath "$2")" staged="$(realpath "$3")" runs="${4:-3}"
W="$here/target/bench/ab"; rm -rf "$W"; mkdir -p "$W"
read -r -a flags <<< "$(sed -n 's/^jvm_flags=(\(.*\))$/\1/p' "$here/hupd")"
now_ns() { date +%s%N; }

hupd_with() { # JAR ARGS...: one hupd run with that jar's archive
  local jar="$1"; shift
  java "${flags[@]}" -XX:SharedArchiveFile="$W/$(basename "$(dirname "$jar")")-$(basename "$jar").jsa" -jar "$jar" "$@"
}

for jar in "$jar_a" "$jar_b"; do # the archives, from one untimed boot + status each
  rm -rf "$W/dev"; cp -a --sparse=always "$staged" "$W/dev"
  jsa="$W/$(basename "$(dirname "$jar")")-$(basename "$jar").jsa"
  java "${flags[@]}" -XX:ArchiveClassesAtExit="$jsa" -jar "$jar" boot --device "$W/dev" > /dev/null 2>&1 || true
done

one() { # LABEL JAR
  local label="$1" jar="$2" t0 first_at persisted
  rm -rf "$W/dev"; cp -a --sparse=always "$staged" "$W/dev"; sync -f "$W"
  t0=$(now_ns)
  strace -f --seccomp-bpf -e trace=fsync,fdatasync -y -ttt -o "$W/strace.out" \
    java "${flags[@]}" -XX:SharedArchiveFile="$W/$(basename "$(dirname "$jar")")-$(basename "$jar").jsa" \
    -jar "$jar" boot --device "$W/dev" > /dev/null 2>&1 || true
  first_at="$(hupd_with "$jar" history --device "$W/dev" --json | python3 -c '
import json, sys
from datetime import datetime
d = json.load(sys.stdin)
t = [x for u in d["updates"] for x in u["transitions"] if x["from"] == "REBOOTING"]
print(datetime.fromisoformat(t[-1]["at"].replace("Z", "+00:00")).timestamp())')"
  persisted="$(awk -v at="$first_at" '/state\.mv\.db>/ && /fsync/ && $2 >= at { print $2; exit }' "$W/strace.out")"
  echo "$label,first_decision,$(python3 -c "print(round(($persisted - $t0 / 1e9) * 1000))")" >> "$W/raw.csv"
  t0=$(now_ns)
  hupd_with "$jar" status --device "$W/dev" > /dev/null
  echo "$label,status,$(( ($(now_ns) - t0) / 1000000 ))" >> "$W/raw.csv"
}

for i in $(seq 1 "$runs"); do
  echo "run $i/$runs" >&2
  one A "$jar_a"
  one B "$jar_b"
done
python3 - "$W/raw.csv" <<'PY'
import statistics, sys
d = {}
for line in open(sys.argv[1]):
    label, what, ms = line.strip().split(",")
    d.setdefault((what, label), []).append(int(ms))
for what in ("first_decision", "status"):
    a, b = d[(what, "A")], d[(what, "B")]
    ma, mb = statistics.median(a), statistics.median(b)
    print(f"{what:15s} A {a} median {ma:.0f} ms | B {b} median {mb:.0f} ms | B/A {mb / ma:.2f}")
PY
