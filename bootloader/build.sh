#!/usr/bin/env bash
# Builds the U-Boot scripts: bootloader/uboot/*.cmd -> *.scr (boot.cmd -> boot.scr, boot-env.cmd -> boot-env.scr).
# Needs mkimage (Debian: u-boot-tools). Usage: bootloader/build.sh [OUTDIR]   (default: next to the sources)
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
out="${1:-$here/uboot}"
mkdir -p "$out"
for src in "$here"/uboot/*.cmd; do
  name="$(basename "$src" .cmd)"
  mkimage -q -A arm64 -O linux -T script -C none -n "hupd $name" -d "$src" "$out/$name.scr" >/dev/null
  echo "$out/$name.scr"
done
