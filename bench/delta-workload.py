#!/usr/bin/env python3
"""Makes the delta benchmark's two root filesystems from this machine's own /usr files.

v1: the first ~300 MB of regular files under /usr (sorted, so the same machine always gives the same set).
v2: v1 where about 5% of the bytes change, the way an OS release changes them:
  - "rebuilt binaries": ELF files of 100 KB..8 MB, ~9 MB in all, each with code shifted at three places
    (64 new bytes inserted) and 4 bytes changed in every KiB (addresses and offsets that moved);
  - added files: the next ~4.5 MB of /usr files after the v1 cut;
  - removed files: ~3 MB of v1 files.
Usage: delta-workload.py OUTDIR  (makes OUTDIR/v1 and OUTDIR/v2)
"""
import os
import random
import shutil
import stat
import sys

# HUPD_WORKLOAD_MB scales the tree down for a quick run (bench/fsimage-bench.sh on a loaded machine)
TARGET = int(os.environ.get("HUPD_WORKLOAD_MB", "300")) * 1000 * 1000
REBUILT = 9 * 1000 * 1000
ADDED = 4500 * 1000
REMOVED = 3 * 1000 * 1000


def files_under(root):
    out = []
    for d, dirs, names in os.walk(root):
        dirs.sort()
        for n in sorted(names):
            p = os.path.join(d, n)
            try:
                st = os.lstat(p)
            except OSError:
                continue
            if stat.S_ISREG(st.st_mode) and os.access(p, os.R_OK) and st.st_size > 0:
                out.append((p, st.st_size))
    return out


def copy(src, root):
    dst = os.path.join(root, src.lstrip("/"))
    os.makedirs(os.path.dirname(dst), exist_ok=True)
    shutil.copyfile(src, dst)
    os.chmod(dst, os.lstat(src).st_mode & 0o755)
    os.utime(dst, (1700000000, 1700000000))
    return dst


def rebuild(path, rng):
    data = bytearray(open(path, "rb").read())
    for _ in range(3):
        at = rng.randrange(len(data))
        data[at:at] = rng.randbytes(64)
    for page in range(0, len(data) - 4, 1024):
        at = page + rng.randrange(1020)
        data[at:at + 4] = rng.randbytes(4)
    with open(path, "wb") as f:
        f.write(data)
    os.utime(path, (1700100000, 1700100000))


def main():
    out = sys.argv[1]
    v1, v2 = os.path.join(out, "v1"), os.path.join(out, "v2")
    for d in (v1, v2):
        shutil.rmtree(d, ignore_errors=True)
    candidates = files_under("/usr")
    chosen, extra, total = [], [], 0
    for p, size in candidates:
        if size > 20 * 1000 * 1000:
            continue
        if total < TARGET:
            chosen.append((p, size))
            total += size
        elif sum(s for _, s in extra) + size <= ADDED:
            extra.append((p, size))
    if total < TARGET * 0.9:
        sys.exit(f"only {total} bytes of files under /usr; the benchmark wants ~{TARGET}")
    for p, _ in chosen:
        copy(p, v1)
        copy(p, v2)
    rng = random.Random(7)
    elves = []
    for p, size in chosen:
        if 100_000 <= size <= 8_000_000:
            with open(p, "rb") as f:
                if f.read(4) == b"\x7fELF":
                    elves.append((p, size))
    rng.shuffle(elves)
    rebuilt = 0
    for p, size in elves:
        if rebuilt >= REBUILT:
            break
        rebuild(os.path.join(v2, p.lstrip("/")), rng)
        rebuilt += size
    removed = 0
    others = [c for c in chosen if c not in elves[:50]]
    rng.shuffle(others)
    for p, size in others:
        if removed >= REMOVED:
            break
        os.remove(os.path.join(v2, p.lstrip("/")))
        removed += size
    added = 0
    for p, size in extra:
        copy(p, v2)
        added += size
    print(f"v1: {len(chosen)} files, {total} bytes; v2: rebuilt {rebuilt}, added {added}, removed {removed} bytes"
          f" ({100.0 * (rebuilt + added + removed) / total:.1f}% of v1)")


if __name__ == "__main__":
    main()
