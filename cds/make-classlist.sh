#!/usr/bin/env bash
# Regenerates cds/hupd.classlist: the classes the commands load, from which ./hupd makes its class-data-sharing
# archive (target/hupd.jsa). Run it after changes that make the commands load other classes; a stale list only
# costs start-up time (a class missing from it is loaded from the jar as usual, a name that no longer exists is
# skipped).
#
#   cds/make-classlist.sh
#
# The workload: the demo (image create, device create, update, boot, status, in one JVM), then status, history,
# boot, the diagram, a page of serve and the help each in a JVM of its own, as a user starts them.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$here"
HUPD_NO_CDS=1 ./hupd --version > /dev/null   # builds the jar when it is stale
work="$(mktemp -d)"
trap 'kill "${serve_pid:-}" 2>/dev/null || true; rm -rf "$work"' EXIT
flags=()
read -r -a flags <<< "$(sed -n 's/^jvm_flags=(\(.*\))$/\1/p' hupd)"
n=0
run() { # run ARGS...: one JVM of hupd recording the classes it loads
  n=$((n + 1))
  java "${flags[@]}" -XX:DumpLoadedClassList="$work/$n.lst" -jar target/hupd.jar "$@" > "$work/$n.out" 2>&1
}
run demo --dir "$work/demo"
dev="$work/demo/device"
run status --device "$dev"
run status --device "$dev" --json
run history --device "$dev" --json
run update --device "$dev" --target-version 2.115.1 --image "oci:$work/demo/images:2.115.1" --no-reboot
run status --device "$dev"
run boot --device "$dev"
run diagram --format dot
run --help
n=$((n + 1))
java "${flags[@]}" -XX:DumpLoadedClassList="$work/$n.lst" -jar target/hupd.jar serve --device "$dev" --port 0 \
  > "$work/serve.out" 2>&1 &
serve_pid=$!
url=""
for _ in $(seq 1 200); do
  url="$(sed -n 's/^hupd serve: \(http[^ ]*\).*/\1/p' "$work/serve.out")"
  [ -n "$url" ] && break
  sleep 0.1
done
curl -s -o /dev/null -H "Authorization: Bearer $(cat "$dev/data/hupd/serve-token")" "$url" || true
kill "$serve_pid"; wait "$serve_pid" 2>/dev/null || true
# One list: each line once, in the order first seen (a lambda line must come after the classes it names).
awk '!seen[$0]++' $(for i in $(seq 1 "$n"); do echo "$work/$i.lst"; done) > cds/hupd.classlist
echo "cds/hupd.classlist: $(grep -vc '^[#@]' cds/hupd.classlist) classes" >&2
