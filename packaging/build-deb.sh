#!/usr/bin/env bash
# Builds the Debian package target/hupd_VERSION_all.deb from the shaded jar (mvn package; no network beyond
# Maven's), the installed launcher, the JVM flags and class lists, the systemd units, bootloader/ as it is now,
# and the example settings. Usage: packaging/build-deb.sh [--no-build]   (--no-build: use target/hupd.jar as is)
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$here"
if [ "${1:-}" != --no-build ]; then
  mvn -q -B -DskipTests package
fi
[ -f target/hupd.jar ] || { echo "hupd: target/hupd.jar is missing (run without --no-build)" >&2; exit 1; }
pom_version=$(sed -n 's|^  <version>\(.*\)</version>|\1|p' pom.xml | head -1)
version=$(echo "$pom_version" | sed 's/-SNAPSHOT$/~snapshot/')
root=target/deb/root
rm -rf target/deb
install -d "$root/DEBIAN" "$root/usr/bin" "$root/usr/share/hupd/cds" "$root/lib/systemd/system/reboot.target.d" \
  "$root/usr/share/doc/hupd/examples"
install -m 644 target/hupd.jar "$root/usr/share/hupd/hupd.jar"
install -m 644 packaging/launcher/jvm-flags.sh "$root/usr/share/hupd/jvm-flags.sh"
install -m 644 cds/*.classlist "$root/usr/share/hupd/cds/"
install -m 755 packaging/launcher/hupd "$root/usr/bin/hupd"
install -m 644 packaging/systemd/*.service "$root/lib/systemd/system/"
install -m 644 packaging/systemd/reboot.target.d/*.conf "$root/lib/systemd/system/reboot.target.d/"
if [ -d bootloader ]; then
  cp -r bootloader "$root/usr/share/hupd/bootloader"
fi
install -m 644 packaging/examples/*.json "$root/usr/share/doc/hupd/examples/"
install -m 644 docs/service.md "$root/usr/share/doc/hupd/service.md"
printf 'hupd\n\nCopyright: the hupd developers. The jar bundles its Maven dependencies under their own licences.\n' \
  > "$root/usr/share/doc/hupd/copyright"
install -m 755 packaging/debian/postinst packaging/debian/prerm packaging/debian/postrm "$root/DEBIAN/"
size=$(du -sk --exclude=DEBIAN "$root" | cut -f1)
sed -e "s/@VERSION@/$version/" -e "s/@SIZE@/$size/" packaging/debian/control.in > "$root/DEBIAN/control"
find "$root" -type d -exec chmod 755 {} +
deb="target/hupd_${version}_all.deb"
dpkg-deb --root-owner-group -Zxz --build "$root" "$deb" >/dev/null
echo "$deb"
