#!/usr/bin/env bash
# Regenerates cds/hupd.classlist: the classes the commands load, from which ./hupd makes its class-data-sharing
# archive (target/hupd.jsa); and cds/serve.classlist, cds/update.classlist and cds/status.classlist, the classes
# of those runs alone, from which ./hupd makes those commands' smaller archives (target/hupd-serve.jsa,
# target/hupd-update.jsa, target/hupd-status.jsa). Run it after changes that make the commands load other
# classes; a stale list only costs start-up time (a class missing from it is loaded from the jar as usual, a name
# that no longer exists is skipped).
#
#   cds/make-classlist.sh
#
# The workload: the demo (image create, device create, update, boot, status, in one JVM), then status, history,
# boot, the diagram, the help, a page of serve on the demo's device and one on a fresh device each in a JVM of
# its own, as a user starts them.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$here"
HUPD_NO_CDS=1 ./hupd --version > /dev/null   # builds the jar when it is stale
work="$(mktemp -d)"
trap 'kill "${serve_pid:-}" 2>/dev/null || true; rm -rf "$work"' EXIT
flags=()
# The launcher's flags (its jvm_flags array, which spans lines).
read -r -a flags <<< "$(awk '/^jvm_flags=\(/,/\)$/' hupd | tr '\n' ' ' | sed 's/^jvm_flags=(//; s/) *$//')"
n=0
run() { # run ARGS...: one JVM of hupd recording the classes it loads
  n=$((n + 1))
  java "${flags[@]}" -XX:DumpLoadedClassList="$work/$n.lst" -jar target/hupd.jar "$@" > "$work/$n.out" 2>&1
}
run demo --dir "$work/demo"
dev="$work/demo/device"
status_run=$((n + 1))
run status --device "$dev"
run status --device "$dev" --json
run history --device "$dev" --json
# history opened the database, so this status reads it through H2 (the first two read the snapshot the demo's
# release left): status's list has both ways
status_through_h2=$((n + 1))
run status --device "$dev"
update_run=$((n + 1))
run update --device "$dev" --target-version 2.115.1 --image "oci:$work/demo/images:2.115.1" --no-reboot --no-require-upgrade
run status --device "$dev"
run boot --device "$dev"
run diagram --format dot
run --help
serve_once() { # DEVICE: one page of serve, recording the classes it loads
  n=$((n + 1))
  java "${flags[@]}" -XX:DumpLoadedClassList="$work/$n.lst" -jar target/hupd.jar serve --device "$1" --port 0 \
    > "$work/serve.out" 2>&1 &
  serve_pid=$!
  url=""
  for _ in $(seq 1 200); do
    url="$(sed -n 's/^hupd serve: \(http[^ ]*\).*/\1/p' "$work/serve.out")"
    [ -n "$url" ] && break
    sleep 0.1
  done
  curl -s -o /dev/null -H "Authorization: Bearer $(cat "$1/data/hupd/serve-token")" "$url" || true
  kill "$serve_pid"; wait "$serve_pid" 2>/dev/null || true
}
serve_once "$dev"
# serve's own list comes from a device that has never run an update, so it holds no H2: on a device with a
# database serve loads H2's classes from the jar instead, which costs about what their share of the archive
# would (BENCHMARKS.md, change 15), while on one without they would cost it for nothing.
run device create --dir "$work/fresh" --image "oci:$work/demo/images:2.113.4"
serve_once "$work/fresh"
# One list: each line once, in the order first seen (a lambda line must come after the classes it names).
awk '!seen[$0]++' $(for i in $(seq 1 "$n"); do echo "$work/$i.lst"; done) > cds/hupd.classlist
cp "$work/$update_run.lst" cds/update.classlist
# status's own: the plain and the --json report, from the snapshot and through H2
awk '!seen[$0]++' "$work/$status_run.lst" "$work/$((status_run + 1)).lst" "$work/$status_through_h2.lst" \
  > cds/status.classlist
cp "$work/$n.lst" cds/serve.classlist
for l in hupd update status serve; do
  echo "cds/$l.classlist: $(grep -vc '^[#@]' "cds/$l.classlist") classes" >&2
done
