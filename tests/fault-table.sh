#!/usr/bin/env bash
# Runs the fault-injection suites and prints the table of fault classes and case counts kept in README.md.
set -euo pipefail
cd "$(dirname "$0")/.."
# Usage: tests/fault-table.sh                 runs the fault suites (about 10 minutes on 2 cores), then prints
#        tests/fault-table.sh --from-last-run  prints from the reports of the last `mvn -B verify | tee target/fault-table.log`
if [ "${1:-}" != "--from-last-run" ]; then
  suites='ScenarioTest,TransitionCoverageTest,CrashEnumerationTest,DatabaseLossTest,DamagedDatabaseTest,PowerCutTest,RandomFaultScheduleTest,JournalReplayTest,TrialBootTest,UpdateBadInputTest,BootBadInputTest,HostileArchivesTest,CorruptSpareSlotTest,AntiRollbackTest,RealDeviceConfigTest,RegistryClientTest,RegistrySourceTest'
  mkdir -p target
  mvn -B verify -Dtest="$suites" -Dsurefire.failIfNoSpecifiedTests=false -Dit.test=KillDuringUpdateIT,DataPartitionFullIT,SignedImageIT,RegistryTlsIT,FsImageUpdateIT,RealDeviceIT \
      > target/fault-table.log 2>&1 || { echo "the fault suites failed; see target/fault-table.log" >&2; exit 1; }
fi

cases() { # testcases in a surefire/failsafe report, optionally only those whose name matches $2
  local f; f=$(ls target/surefire-reports/TEST-*"$1".xml target/failsafe-reports/TEST-*"$1".xml 2>/dev/null | head -1)
  grep -o '<testcase name="[^"]*"' "$f" | grep -c -- "${2:-}" || true
}
# one line per image kind (tar layer, filesystem image): the rows count both
enum=$(grep -o 'crash enumeration: [0-9]* side-effect boundaries, [0-9]* cases' target/fault-table.log)
boundaries=$(echo "$enum" | awk '{s+=$3} END {print s+0}'); total=$(echo "$enum" | awk '{s+=$6} END {print s+0}')
cuts=$(grep -o 'power cuts: [0-9]* database writes, [0-9]* cut points' target/fault-table.log | awk '{s+=$6} END {print s+0}')
damaged=$(grep -o 'damaged database copies: [0-9]*' target/fault-table.log | awk '{s+=$4} END {print s+0}')
kills=$(grep -o 'kill -9 runs: [0-9]*' target/fault-table.log | tail -1 | awk '{print $4}')

echo "| fault class | how it is injected | cases |"
echo "|---|---|---|"
echo "| scenario files (tests/scenarios) | crash, power cut, failure, abort, lost database, clean reboots, as scripted | $(cases ScenarioTest) |"
echo "| failure in each state before the commit point | the state's step fails | $(cases TransitionCoverageTest failureInEachState) |"
echo "| crash in each state, resumed | the process dies after the step's work, before its transition is persisted | $(cases TransitionCoverageTest crashInEachState) |"
echo "| interrupted three times: attempt limit | three crashes in the same state | $(cases TransitionCoverageTest InterruptedThreeTimes) |"
echo "| operator abort in each state | hupd abort after a crash | $(cases TransitionCoverageTest abortOf) |"
echo "| loop guard in each state | endless crashes with a high attempt limit | $(cases TransitionCoverageTest anUpdateThatLoops) |"
echo "| crash at every side-effect boundary | the process dies before each of the side effects and transitions of one update and its trial, on a tar-layer and on a filesystem-image update (there also before each flush of the slot being written) | $boundaries |"
echo "| double fault | a second crash during the recovery of a first | $((total - boundaries)) |"
echo "| power cut under the database | the H2 file loses every write not forced to disk (the last one torn), at evenly spread writes of an update, on a tar-layer and on a filesystem-image update | $cuts |"
echo "| seeded random fault schedules | crashes at random side effects during the update and every recovery | $(cases RandomFaultScheduleTest) |"
echo "| trial-boot faults | hung health check, clean reboots, power cuts during the trial, on each bootloader | $(cases TrialBootTest) |"
echo "| recorded journals replayed | tests/replays on the current definition | $(cases JournalReplayTest recordedRun) |"
echo "| database lost in each state | deleted, truncated, bits flipped | $(cases DatabaseLossTest Ends) |"
echo "| damaged database file | copies of a mid-update database with 64 flipped bits or truncated, opened, read and written: read intact or reported as damage (then rebuilt from the disk), never a dead end | $damaged |"
echo "| bad input | malformed, mismatched, not enough space, locked, through the CLI | $(( $(cases UpdateBadInputTest) + $(cases BootBadInputTest) )) |"
echo "| hostile archives | path traversal, absolute paths, symlink/hardlink/whiteout escapes, bombs (flattened, and surveyed for the one-pass write) | $(cases HostileArchivesTest) |"
echo "| data partition full / stalled registry | a 2^62-byte layer, the user's app filling a tmpfs data partition mid-download, a dripping layer, an abort of a slow download (through ./hupd); stall cuts in the registry client | $(( $(cases DataPartitionFullIT) + $(cases RegistryClientTest Dripping) + $(cases RegistrySourceTest Drips) )) |"
echo "| power cut inside a boot-settings write | the settings file's decided write left complete but not renamed (U-Boot text, GRUB) or half-written (binary env), then power-ons: the trial still happens (one case per flavour, each cutting inside every settings write of an update) | $(cases CrashEnumerationTest powerCutInsideEachBootSettingsWrite) |"
echo "| corrupted spare slot | the new root's /boot directory block zeroed after the update: a root that does not boot, rolled back in one boot command | $(cases CorruptSpareSlotTest) |"
echo "| untrusted image or registry | unsigned, unknown or revoked key, another image or tag, tampered payload, swapped manifest (real registry, pushed with skopeo); bad TLS certificates, plain HTTP, missing CA bundle; images below the anti-rollback floor | $(( $(cases SignedImageIT) + $(cases RegistryTlsIT) + $(cases AntiRollbackTest) )) |"
echo "| filesystem-image faults | a corrupted chunk (with and without a fallback), the connection cut mid-chunk, the process killed mid-write, an image larger than the slot | $(( $(cases FsImageUpdateIT) - $(cases FsImageUpdateIT chunksStreamed) )) |"
echo "| real device: bad configs and lying tools | every wrong or missing config field; on loop devices: missing partitions, wrong mounts, a mounted spare root, an fw_setenv that fails or exits 0 without writing | $(( $(cases RealDeviceConfigTest) + $(cases RealDeviceIT badConfigs) + $(cases RealDeviceIT LyingOrFailing) )) |"
firmware=$(grep -o 'firmware table: [0-9]* passed' target/firmware-table.log 2>/dev/null | tail -1 | awk '{print $3}' || true)
echo "| bootloader scripts in real firmware | each case (upgrade pending or not x bootcount 0..limit+1, missing, garbage, trailing NUL, hex counts) in grub-emu, i386-pc GRUB and U-Boot qemu_arm64, against the simulated firmware (\`mvn -B test -Pfirmware\`, its own CI step) | ${firmware:-see mvn -B test -Pfirmware} |"
vm=$(grep -o 'vm-scenarios: [0-9]* passed, [0-9]* failed' target/vm-scenarios.log 2>/dev/null | tail -1 | awk '{print $2}' || true)
vmcuts=$(grep -o 'PASS scenario 4: [0-9]* power cuts' target/vm-scenarios.log 2>/dev/null | tail -1 | awk '{print $4}' || true)
echo "| real machine (QEMU, real GRUB, Debian kernel, systemd, the .deb) | scenarios passed in CI: update and commit, rollback-health, rollback-altboot by GRUB, a clean reboot in the trial, SIGKILL of QEMU at ${vmcuts:-several} moments (while the root is written, as GRUB starts the trial, in the trial boot), and the proof that a grub.cfg that never falls back makes scenario 3 fail | ${vm:-see tests/vm/run.sh} |"
echo "| kill -9 of the real process | SIGKILL at random moments of hupd update, then power-ons | $kills |"
