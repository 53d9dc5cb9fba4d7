#!/usr/bin/env bash
# Issue 15's scenarios on the virtual device of tests/vm/build.sh (QEMU TCG, real GRUB, Debian kernel, systemd,
# hupd from its .deb), driven from the host through the 9p inbox; each ends with assertions read from the disk
# image (debugfs, mtools) and from `hupd status --json` inside the VM, and prints one PASS or FAIL line.
#   1 update v1 -> v2, real reboot, committed; the next boot stays on v2
#   2 v3 (engine fails its health check) -> rollback-health, ends on v2, says why
#   3 v4 (its initramfs panics) -> GRUB falls back after the limit -> rollback-altboot, ends on v2, says why
#   5 a clean `systemctl reboot` during the trial is not a failed boot
#   4 power cuts (SIGKILL of QEMU) while writing the new root, as GRUB starts the trial, in the trial boot:
#     every power-on ends on v1 or v2, and a retry reaches v2
# Usage: tests/vm/run.sh [--no-build] [--broken-fallback] [SCENARIO...]   (default: 1 2 3 5 4)
#   --no-build          use target/vm/disk.img and images/ as they are (else tests/vm/build.sh runs first)
#   --broken-fallback   before scenario 3's trial boot, put a grub.cfg whose fallback is removed on the boot
#                       partition: scenario 3 must then FAIL (the proof that the harness can fail); run alone,
#                       it starts from v1 rather than from scenario 1's v2
#   --reuse-run         scenarios 1-3 go on with the disk of the last run (target/vm/run) as it was left,
#                       instead of a fresh copy (implies --no-build)
# Scenarios 1-3 share one disk (2 and 3 start from 1's v2). 5 and 4 start from copies of one disk made once per
# run: v1 with the update to v2 staged (`hupd update --no-reboot`) and powered off, so that each power-on of a copy
# is a trial boot without a whole update before it; 4's cut while the root is written starts from a fresh v1.
# Exits 1 when any scenario fails. Boot times (kernel start to multi-user) are printed at the end.
set -uo pipefail
source "$(dirname "$0")/lib.sh"
build=1 broken=0 reuse=0 scenarios=()
while [ $# -gt 0 ]; do
  case "$1" in
    --no-build) build=0 ;;
    --broken-fallback) broken=1 ;;
    --reuse-run) reuse=1 build=0 ;;
    -h|--help) awk 'NR > 1 && !/^#/ {exit} NR > 1 {sub(/^# ?/, ""); print}' "$0"; exit 0 ;;
    1|2|3|4|5) scenarios+=("$1") ;;
    *) vm_die "unknown argument: $1 (see --help)" ;;
  esac
  shift
done
[ ${#scenarios[@]} -gt 0 ] || scenarios=(1 2 3 5 4)
[ "$(id -u)" = 0 ] || vm_die "run.sh runs as root (build.sh needs it, and the disk's files are root's)"
if [ "$build" = 1 ]; then "$VM_DIR/build.sh" || exit 1; fi
t_run=$(date +%s)
fails=0 results=() boots=()

# --- helpers -------------------------------------------------------------------------------------------------
say() { printf 'vm-run: %s\n' "$*"; }
failed=""
check() {  # DESCRIPTION COMMAND...: records a failed assertion of the current scenario
  if "${@:2}"; then say "  ok: $1"; else say "  NOT OK: $1"; failed="${failed:+$failed; }$1"; fi
}
finish() {  # NUMBER TITLE
  local elapsed=$(( $(date +%s) - t_scenario ))
  if [ -z "$failed" ]; then results+=("PASS scenario $1: $2 (${elapsed} s)")
  else results+=("FAIL scenario $1: $2 (${elapsed} s): $failed"); fails=$((fails + 1)); fi
  say "${results[-1]}"
  failed=""
}
start() { t_scenario=$(date +%s); say "scenario $1: $2"; }

# A boot the host waits for: the next VM-READY line (the after-boot check has finished: multi-user waits for
# hupd-boot.service). Until VERSION is the version that line reports, later lines are waited for too.
expect_boot() { vm_ready_before=$(vm_ready_count); vm_started_at=$(date +%s.%N); }
wait_boot() {  # [VERSION] [TIMEOUT]: prints the version booted
  local want=${1:-} timeout=${2:-600} t0 r line v
  t0=$(date +%s)
  while :; do
    r=$(vm_wait_ready $(( timeout - ($(date +%s) - t0) )) ) || return 1
    line=$(grep -o 'VM-READY version=[^ ]* root=[^ ]* uptime=[0-9.]*' "$VM_RUN/console.log" | tail -1)
    v=$(sed 's/.*version=\([^ ]*\).*/\1/' <<<"$line")
    boots+=("$v: multi-user at ${r% *} s of guest uptime, ${r#* } s wall from power-on/reboot")
    say "  booted $v (uptime ${r% *} s, wall ${r#* } s)"
    echo "$v" > "$VM_RUN/booted"
    vm_ready_before=$(vm_ready_count); vm_started_at=$(date +%s.%N)
    if [ -z "$want" ] || [ "$v" = "$want" ]; then return 0; fi
  done
}
booted() { cat "$VM_RUN/booted"; }
# The trial boot's hold (tests/vm/overlay: hupd-boot waits while the file is in the host's share).
hold_trial() { : > "$VM_RUN/share/vm-hold-boot"; }
release_trial() { rm -f "$VM_RUN/share/vm-hold-boot"; }
power_on() { vm_power_on; wait_boot "$@"; }

# Runs hupd update in the guest, detached from the inbox (hupd reboots the VM itself at the end); its output
# goes to the share, where the host can watch its state lines.
update_log() { echo "$VM_RUN/share/outbox/update-$1.log"; }
start_update() {  # VERSION [EXTRA hupd update OPTIONS]
  local v=$1; shift
  : > "$(update_log "$v")"
  expect_boot
  vm_exec "setsid nohup hupd update --target-version $v --image oci:/mnt/images:$v $* \
    >> /mnt/host/outbox/update-$v.log 2>&1 < /dev/null &" >/dev/null
}
wait_log() {  # FILE REGEX TIMEOUT: until FILE has a line matching REGEX
  local t0; t0=$(date +%s)
  until grep -qE "$2" "$1" 2>/dev/null; do
    vm_running || return 1
    [ $(( $(date +%s) - t0 )) -lt "$3" ] || return 1
    sleep 0.5
  done
}

status_json() { vm_exec 'sync; hupd status --json' > "$VM_RUN/status.json" 2>&1; }
field() {  # NAME: a top-level field of the last status_json (empty when null), or bootloader.NAME
  python3 -c 'import json,sys
d=json.load(open(sys.argv[1])); k=sys.argv[2].split(".")
for p in k: d=(d or {}).get(p)
print("" if d is None else d)' "$VM_RUN/status.json" "$1" 2>/dev/null
}
is() { [ "$1" = "$2" ] || { say "    expected '$2', got '$1'"; return 1; }; }
has() { grep -qiE "$2" <<<"$1" || { say "    '$1' does not match /$2/"; return 1; }; }

# The disk, read from the host: the guest synced first (status_json), and debugfs/mtools only read.
grubenv() { mtype -i "$VM_RUN/disk.img@@$(vm_part_offset 1)" ::/EFI/BOOT/grubenv 2>/dev/null | grep -a "^$1=" | cut -d= -f2; }
slot_version() {  # PARTITION: VERSION_ID of the OS on that root
  vm_debugfs "$1" "cat /etc/os-release" | sed -n 's/^VERSION_ID=//p' | tr -d '"'
}
# hupd's settled states: nothing of an update is running (the last update's end, or none).
settled() { grep -qxE 'IDLE|COMMITTED|ROLLED_BACK_HEALTH|ROLLED_BACK_ALTBOOT|FAILED' <<<"$1" || { say "    '$1' is not a settled state"; return 1; }; }
state_files() { vm_debugfs 4 "ls -l /" | awk '{print $NF}' | grep -v '^\.\.\?$' | tr '\n' ' '; }
assert_on() {  # VERSION PARTITION: the VM runs VERSION from root PARTITION, settled, no trial pending
  status_json
  check "hupd status: running $1" is "$(field runningVersion)" "$1"
  check "hupd status: slot $( [ "$2" = 2 ] && echo A || echo B)" is "$(field activeSlot)" "$( [ "$2" = 2 ] && echo A || echo B)"
  check "hupd status: settled ($(field state))" settled "$(field state)"
  check "grubenv: resin_root_part=$2" is "$(grubenv resin_root_part)" "$2"
  check "grubenv: upgrade_available=0" is "$(grubenv upgrade_available)" 0
  check "root partition $2 holds $1" is "$(slot_version "$2")" "$1"
  check "state partition: no rollback armed" bash -c "! grep -q breadcrumb <<<'$(state_files)'"
}

# --- the scenarios ---------------------------------------------------------------------------------------------
scenario_1() {
  start 1 "update $VM_V1 -> $VM_V2, real reboot, committed; the next boot stays on $VM_V2"
  start_update "$VM_V2"
  wait_boot "$VM_V2" 900 || { failed="no boot of $VM_V2"; vm_power_cut; }
  check "hupd update ran to its reboot" grep -q REBOOTING "$(update_log "$VM_V2")"
  assert_on "$VM_V2" 3
  check "hupd status: last result committed" has "$(field lastResult)" "commit"
  expect_boot; vm_exec '(sleep 1; systemctl reboot) > /dev/null 2>&1 &' >/dev/null
  wait_boot "" 600 || failed="no boot after the reboot"
  check "the next boot stays on $VM_V2" is "$(booted)" "$VM_V2"
  assert_on "$VM_V2" 3
  finish 1 "update committed, next boot stays on $VM_V2"
}

scenario_2() {
  start 2 "$VM_V3 (its engine fails the health check) -> rollback-health, back on $VM_V2"
  start_update "$VM_V3"
  wait_boot "$VM_V2" 900 || { failed="no boot of $VM_V2 after the trial of $VM_V3"; vm_power_cut; }
  check "the trial booted $VM_V3" grep -q "root=2 bootcount=1 upgrade_available=1" "$VM_RUN/console.log"
  assert_on "$VM_V2" 3
  check "hupd status: last result rollback-health" has "$(field lastResult)" "health"
  check "hupd status says why (the engine check)" has "$(field reason) $(field failedCheck)" "engine"
  check "state partition: rollback-health-triggered" has "$(state_files)" "rollback-health-triggered"
  check "root A still holds the rejected $VM_V3" is "$(slot_version 2)" "$VM_V3"
  finish 2 "rollback-health, on $VM_V2, reason given"
}

scenario_3() {
  start 3 "$VM_V4 (its kernel does not boot) -> GRUB falls back -> rollback-altboot, back on $VM_V2"
  local panics_before; panics_before=$(grep -c "does not boot" "$VM_RUN/console.log")
  if [ "$broken" = 1 ]; then
    # Staged without its reboot, then the boot partition's grub.cfg swapped for one that never falls back.
    : > "$(update_log "$VM_V4")"
    VM_EXEC_TIMEOUT=900 vm_exec "hupd update --target-version $VM_V4 --image oci:/mnt/images:$VM_V4 --no-reboot \
      >> /mnt/host/outbox/update-$VM_V4.log 2>&1" >/dev/null
    sed 's/set hupd_part="${hupd_other}"/set hupd_part="${hupd_named}"/' "$REPO/bootloader/grub/grub.cfg" \
      > "$VM_RUN/share/broken-grub.cfg"
    vm_exec 'mcopy -o -i "$(blkid -t PARTLABEL=resin-boot -o device)" /mnt/host/broken-grub.cfg ::/EFI/BOOT/grub.cfg && sync' \
      || failed="could not put the broken grub.cfg on the boot partition"
    say "  --broken-fallback: the boot partition's grub.cfg never falls back"
    expect_boot; vm_exec '(sleep 1; systemctl reboot) > /dev/null 2>&1 &' >/dev/null
    # a VM that never comes up answers no command: power it off so that the checks below fail at once
    wait_boot "" 300 || { failed="${failed:+$failed; }no boot after the trial of $VM_V4 (GRUB never fell back)"; vm_power_cut; }
  else
    start_update "$VM_V4"
    wait_boot "$VM_V2" 900 || { failed="no boot of $VM_V2 after the trial of $VM_V4"; vm_power_cut; }
  fi
  check "the trial's kernel did not boot" test "$(grep -c "does not boot" "$VM_RUN/console.log")" -gt "$panics_before"
  check "GRUB fell back: bootcount 2 booted root 3" grep -q "root=3 bootcount=2 upgrade_available=1" "$VM_RUN/console.log"
  assert_on "$VM_V2" 3
  check "hupd status: last result rollback-altboot" has "$(field lastResult)" "altboot"
  check "hupd status says why (the new root never came up)" has "$(field reason)" "boot"
  check "state partition: rollback-altboot-triggered" has "$(state_files)" "rollback-altboot-triggered"
  finish 3 "rollback-altboot by the real GRUB, on $VM_V2, reason given"
}

# The disk scenarios 5 and 4 start their trial boots from: a fresh v1 that ran `hupd update --no-reboot` to v2 (its
# REBOOTING state, the same as an update that asks for its reboot, less the request) and was then powered off
# cleanly. Made once per run of this script (next to the run folder); a copy of it powered on is a trial boot.
staged_disk="$VM_RUN.staged.img"
rm -f "$staged_disk"
stage_trial() {
  [ -f "$staged_disk" ] && return 0
  say "  staging the update to $VM_V2 on a fresh $VM_V1 (the disk the trial boots start from)"
  vm_new_run && power_on "$VM_V1" 600 || { check "a fresh $VM_V1 boots to stage the update" false; return 1; }
  : > "$(update_log "$VM_V2")"
  if ! VM_EXEC_TIMEOUT=900 vm_exec "hupd update --target-version $VM_V2 --image oci:/mnt/images:$VM_V2 --no-reboot \
      >> /mnt/host/outbox/update-$VM_V2.log 2>&1" >/dev/null; then
    check "hupd update --no-reboot to $VM_V2 stages it" false; vm_power_cut; return 1
  fi
  vm_exec '(sleep 1; systemctl poweroff) > /dev/null 2>&1 &' >/dev/null
  vm_wait_off 300 || { check "the staged $VM_V1 powers off" false; vm_power_cut; return 1; }
  cp --sparse=always "$VM_RUN/disk.img" "$staged_disk.tmp" && mv "$staged_disk.tmp" "$staged_disk"
}
# Powers on a copy of the staged disk in a fresh run folder: GRUB starts the trial of v2. With "hold", its trial
# boot is held (the hold goes in the new run folder's share, and only after the staging, whose boot it would hold).
power_on_staged() {  # [hold]
  stage_trial || return 1
  vm_new_run "$staged_disk" || return 1
  [ "${1:-}" = hold ] && hold_trial
  echo "$VM_V1" > "$VM_RUN/booted"
  expect_boot; vm_power_on
}

scenario_5() {
  start 5 "a clean systemctl reboot during the trial is not a failed boot"
  power_on_staged hold || { finish 5 "clean reboot in the trial"; return; }
  local n tries
  # the first trial boot: after GRUB's line, so that the question below goes to the trial
  wait_more "$VM_RUN/console.log" "$trial_grub" 0 900 || failed="GRUB did not start the trial"
  for n in 1 2; do
    # The trial boot is held before hupd boot decides: the inbox answers, multi-user (and VM-READY) waits.
    VM_EXEC_TIMEOUT=900 vm_exec 'until systemctl -q is-active vm-inbox; do sleep 1; done
      until [ "$(systemctl show -P ActiveState hupd-boot)" = activating ]; do sleep 1; done' >/dev/null \
      || failed="${failed:+$failed; }trial boot $n not reached"
    # a command left by the host for the previous boot may have run there; ask the booted one
    vm_exec 'sync' >/dev/null
    check "trial boot $n runs $VM_V2" has "$(vm_exec '. /etc/os-release; echo $VERSION_ID')" "^$VM_V2$"
    check "trial boot $n: grubenv bootcount=1 (not 2: not counted as failed)" is "$(grubenv bootcount)" 1
    check "trial boot $n: grubenv upgrade_available=1" is "$(grubenv upgrade_available)" 1
    if [ "$n" = 1 ]; then
      local id1 id; id1=$(vm_exec 'cat /proc/sys/kernel/random/boot_id')
      vm_exec '(sleep 1; systemctl reboot) > /dev/null 2>&1 &' >/dev/null
      say "  clean reboot during the trial"
      sleep 10
      # a command the old boot picked up as it stopped never answers: ask again
      tries=0
      until id=$(VM_EXEC_TIMEOUT=300 vm_exec 'cat /proc/sys/kernel/random/boot_id') && [ "$id" != "$id1" ]; do
        tries=$((tries + 1)); [ $tries -lt 60 ] && vm_running || { failed="no boot after the clean reboot"; break; }
        sleep 3
      done
    fi
  done
  expect_boot; release_trial
  wait_boot "$VM_V2" 600 || { failed="${failed:+$failed; }no settled boot of $VM_V2"; vm_power_cut; }
  assert_on "$VM_V2" 3
  check "hupd status: last result committed" has "$(field lastResult)" "commit"
  finish 5 "a clean reboot in the trial is not counted; the update commits"
}

# The moments of scenario 4: each returns once it is reached (the update's log, the console, the guest).
new_lines() { local n; n=$(grep -cE "$2" "$1" 2>/dev/null); echo "${n:-0}"; }
wait_more() {  # FILE REGEX COUNT TIMEOUT: until FILE has more than COUNT lines matching REGEX
  local t0; t0=$(date +%s)
  until [ "$(new_lines "$1" "$2")" -gt "$3" ]; do
    vm_running || return 1
    [ $(( $(date +%s) - t0 )) -lt "$4" ] || return 1
    sleep 0.5
  done
}
# GRUB's line as it starts the trial of root B; a trial starts from a fresh run folder, so its console has no other
trial_grub='root=3 bootcount=1 upgrade_available=1'
moment_writing() { wait_more "$(update_log "$VM_V2")" '\[WRITING_ROOTFS\]' 0 900; }
moment_trial_kernel() { wait_more "$VM_RUN/console.log" "$trial_grub" 0 900; }
moment_trial_held() {
  wait_more "$VM_RUN/console.log" "$trial_grub" 0 900 || return 1
  VM_EXEC_TIMEOUT=600 vm_exec 'until [ "$(systemctl show -P ActiveState hupd-boot)" = activating ]; do sleep 1; done' >/dev/null
}

# How a cut's run begins: an update from a fresh v1 (the cut while the root is written), or a copy of the staged
# disk powered on (the cuts in the trial).
begin_update() {
  vm_running && vm_power_cut
  vm_new_run && power_on "$VM_V1" 600 || return 1
  start_update "$VM_V2"
}
begin_trial() { vm_running && vm_power_cut; power_on_staged "$@"; }

# One power cut: BEGIN starts the run, MOMENT returns once the moment is reached; then a power-on that must end on
# v1 or v2, whatever hupd boot resumes, reverts or rolls back (it may reboot on its own: a resumed update's trial).
cut_at() {  # BEGIN MOMENT DESCRIPTION [hold]
  local v t0
  if ! "$1" "${4:-}"; then release_trial; check "the run before the cut ($3) begins" false; return 1; fi
  if ! "$2"; then release_trial; check "reached the moment: $3" false; return 1; fi
  vm_power_cut
  release_trial
  say "  power cut: $3"
  cuts=$((cuts + 1))
  vm_power_on
  wait_boot "" 900 || { check "a power-on after the cut ($3) reaches multi-user" false; return 1; }
  t0=$(date +%s)
  while [ $(( $(date +%s) - t0 )) -lt 900 ]; do
    if [ "$(vm_ready_count)" -gt "$vm_ready_before" ]; then wait_boot "" 600 || break; fi
    VM_EXEC_TIMEOUT=300 status_json && settled "$(field state)" 2>/dev/null >&2 && break
    sleep 5
  done
  v=$(booted)
  endings+=("$3: $v $(field state)")
  check "after the cut ($3): on $VM_V1 or $VM_V2 (on $v, hupd $(field state), last $(field lastResult))" \
    bash -c "[ '$v' = '$VM_V1' ] || [ '$v' = '$VM_V2' ]"
  check "after the cut ($3): hupd status agrees ($(field runningVersion))" is "$(field runningVersion)" "$v"
}

scenario_4() {
  start 4 "power cuts during an update and its trial: every power-on ends on $VM_V1 or $VM_V2; a retry reaches $VM_V2"
  cuts=0 endings=()
  cut_at begin_update moment_writing "while hupd writes the new root"
  cut_at begin_trial moment_trial_kernel "as GRUB starts the trial (bootcount=1 saved)"
  # The last cut lands in the trial boot itself, while hupd boot is held before its health checks.
  cut_at begin_trial moment_trial_held "in the trial boot, before hupd boot's checks" hold
  if ! vm_running; then
    check "the VM runs after the last cut's power-on" false
  elif [ "$(booted)" != "$VM_V2" ]; then
    say "  retry: update to $VM_V2"
    start_update "$VM_V2"
    wait_boot "$VM_V2" 900 || { failed="${failed:+$failed; }the retry did not boot $VM_V2"; vm_power_cut; }
  fi
  assert_on "$VM_V2" 3
  for e in "${endings[@]}"; do say "  ended after the cut $e"; done
  finish 4 "$cuts power cuts, every power-on on $VM_V1 or $VM_V2, $VM_V2 reached"
}

# --- the run ---------------------------------------------------------------------------------------------------
say "console: $VM_RUN/console.log (tail -f it to watch the VM)"
first=1
for s in "${scenarios[@]}"; do
  case $s in
    1|2|3)
      if [ "$first" = 1 ] || ! vm_running; then
        { if [ "$reuse" = 1 ] && [ -f "$VM_RUN/disk.img" ]; then vm_power_on; wait_boot "" 600; else vm_new_run && power_on "" 600; fi; } || { results+=("FAIL scenario $s: the VM did not boot"); fails=$((fails + 1)); continue; }
        first=0
        # 2 and 3 start from v2: run 1 first when it was not asked for (the proof of --broken-fallback needs
        # no v2: it must fail from whatever it starts on)
        if [ "$s" != 1 ] && [ "$(booted)" != "$VM_V2" ] && { [ "$s" = 2 ] || [ "$broken" = 0 ]; }; then scenario_1; fi
      fi
      "scenario_$s" ;;
    4|5) vm_running && vm_power_cut; "scenario_$s"; first=1 ;;
  esac
done
vm_running && vm_power_cut
say "boot times (kernel start to multi-user, and wall time from power-on or reboot to multi-user):"
for b in "${boots[@]}"; do say "  $b"; done
say "results ($(( $(date +%s) - t_run )) s):"
for r in "${results[@]}"; do echo "vm-scenarios: $r"; done
echo "vm-scenarios: $(( ${#results[@]} - fails )) passed, $fails failed"
[ "$fails" = 0 ]
