# The JVM flags of hupd, by command: sourced by ./hupd (the development launcher) and by the installed
# /usr/bin/hupd (packaging/launcher/hupd), so that both run the JVM the same way. Defines:
#   hupd_command ARGS...      sets $command: the first argument that is not an option
#   hupd_jvm_flags            sets the array jvm_flags for $command (HUPD_JVM_FLAGS appended last)
#   hupd_cds_name             sets $cds_name (the archive's base name) and $classlist_name for $command
hupd_command() {
  command=""
  for arg in "$@"; do
    case "$arg" in -*) ;; *) command="$arg"; break ;; esac
  done
}

hupd_jvm_flags() {
  # The JVM decodes its arguments and encodes what it prints by the locale's charset, which under the C or POSIX
  # locale (what systemd units, cron and a bare ssh give) is ASCII: a version typed as 2.119.é reached hupd as
  # 2.119.?? and was echoed so. A locale naming another charset is the user's choice and is left alone.
  case "${LC_ALL:-${LC_CTYPE:-${LANG:-}}}" in
    ""|C|POSIX) export LC_ALL=C.UTF-8 ;;
  esac
  # A device runs hupd next to the user's applications and starts it after every boot: one GC thread and a heap
  # that is capped and handed back (hupd streams images, it never holds one; 64 MiB leaves headroom).
  # JVM log lines go to stderr, never into the output of 'status --json'.
  jvm_flags=(-XX:+UseSerialGC -Xss512k -Xms8m -Xmx64m -XX:MinHeapFreeRatio=10
    -XX:MaxHeapFreeRatio=30 -XX:ReservedCodeCacheSize=16m -Xlog:disable -Xlog:all=warning,cds=off,cds+dynamic=off:stderr)
  # Commands that only read and print stop at C1: it starts sooner and keeps a smaller footprint.
  # So does boot, whose first decision is what a device waits for after every power-on (BENCHMARKS.md, change 13);
  # a boot that resumes an interrupted download hashes it at C1's pace (2-2.3 s for 225 MB instead of 0.4-0.5 s).
  # serve, which sits next to the user's applications all day, is interpreted: no compiled code, no compiler
  # thread or arenas, 3-4 MiB less at rest (a page takes 0.05-0.1 s more; BENCHMARKS.md, change 15).
  # Commands that stream an image keep C2: SHA-256 of a 225 MB layer takes 2-2.3 s under C1 and 0.4-0.5 s with
  # C2's SHA intrinsics on this machine (BENCHMARKS.md, change 7). Capping the size of one C2 compilation
  # (MaxNodeLimit, 80000 by default) keeps C2's arenas small, at no cost to the streaming loops (change 14).
  # daemon runs the updates it is asked for, so it is one of those.
  case "$command" in
    status|history|diagram|abort|boot|reboot|"") jvm_flags+=(-XX:TieredStopAtLevel=1) ;;
    serve) jvm_flags+=(-Xint) ;;
    *) jvm_flags+=(-XX:MaxNodeLimit=20000 -XX:NodeLimitFudgeFactor=1000) ;;
  esac
  # C2 costs an update ~25 MiB of peak RSS; a device short of memory can trade it back for time with
  # HUPD_JVM_FLAGS=-XX:TieredStopAtLevel=1 (added last, so any flag above can be overridden this way).
  if [ -n "${HUPD_JVM_FLAGS:-}" ]; then
    read -r -a extra_flags <<< "$HUPD_JVM_FLAGS"
    jvm_flags+=("${extra_flags[@]}")
  fi
}

# Class-data sharing: target/hupd.jsa holds the classes of cds/hupd.classlist (what the commands load, JDK ones
# included) already parsed and verified, so a command maps them instead of reading them from the jar. It is made
# once from the list, not recorded at the exit of whichever command runs first, so that every command finds its
# classes in it, and so that picocli's Java 5 class files are in it too (only this static kind of archive takes
# them). It is only a cache: rebuilt when the jar or the list changes; hupd runs without it when it cannot be made.
# serve, update and status have lists and archives of their own (cds/serve.classlist, target/hupd-serve.jsa): this
# JDK relocates an archive when it maps it, which dirties every page of it, so each page counts in the process's
# RSS whether the command uses its classes or not; an archive of only what serve loads is 10 MB smaller. For
# status, whose time is mostly JVM start, the relocation is the point: its 23 MB archive maps 0.05 s sooner than
# the 42 MB one (BENCHMARKS.md, change 18).
hupd_cds_name() {
  case "$command" in
    serve|update|status) cds_name="hupd-$command" classlist_name="$command" ;;
    *) cds_name="hupd" classlist_name="hupd" ;;
  esac
}
