#!/usr/bin/env bash
# Adds bookworm-backports to apt's sources when the machine has no such line, using the mirror that the
# machine's own bookworm entry names (deb822 .sources or one-line .list), so no mirror is written here.
# Sourced by .ci/run and bench/run.sh; exits non-zero when there is no bookworm entry to derive it from.
add_bookworm_backports() {
  grep -rqs bookworm-backports /etc/apt/sources.list /etc/apt/sources.list.d/ && return 0
  local mirror
  mirror=$(awk '/^URIs:/ {u=$2} /^Suites:/ && / bookworm( |$)/ && u {print u; exit}' \
             /etc/apt/sources.list.d/*.sources 2>/dev/null || true)
  [ -n "$mirror" ] || mirror=$(awk '$1 == "deb" && $3 == "bookworm" {print $2; exit}' \
             /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null || true)
  if [ -z "$mirror" ]; then
    echo "no bookworm apt source to derive a backports line from" >&2
    return 1
  fi
  echo "deb $mirror bookworm-backports main" > /etc/apt/sources.list.d/backports.list
}
