#!/usr/bin/env bash
# The Debian packages (issue 17): debian/rules run by dpkg-buildpackage, with this build
# directory standing in for the compile (VOUCH_PREBUILT; everything else is the real rules
# file and debhelper); lintian with no errors; every path where Debian expects it (dpkg-deb -c);
# and the unpacked packages, not this build, running `vouch demo` and a device's fetch.
. "$(dirname "$0")/lib.sh"

: "${VOUCH_BUILD_ROOT:?the meson build directory}" "${VOUCH_SOURCE_ROOT:?the source tree}" "${VOUCH_VERSION:?}"
build=$VOUCH_BUILD_ROOT
src=$VOUCH_SOURCE_ROOT
PY=/usr/bin/python3

# The build directory must be configured as debian/rules configures the package's: prefix
# /usr and the same udev, systemd and sysusers folders (./dev configures it so).
option() {
  meson introspect "$build" --buildoptions |
    "$PY" -c 'import json, sys; print(next(o["value"] for o in json.load(sys.stdin) if o["name"] == sys.argv[1]))' "$1"
}
expect_same "$(option prefix)" /usr
for d in $(sed -n 's/^.*-D\(udevrulesdir\|systemdunitdir\|sysusersdir\)=\([^ \\]*\).*$/\1=\2/p' "$src/debian/rules"); do
  expect_same "${d%%=*}=$(option "${d%%=*}")" "$d"
done
[ "$(grep -c -- '-D\(udevrulesdir\|systemdunitdir\|sysusersdir\)=' "$src/debian/rules")" = 3 ] || fail "debian/rules does not name the three folders"
ok

# The packaging files as the repository has them (not a manual build's leftovers in debian/).
mkdir -p pkg/vouch
if git -C "$src" rev-parse --git-dir >/dev/null 2>&1; then
  git -C "$src" ls-files -z debian | (cd "$src" && xargs -0 cp --parents -t "$T/pkg/vouch")
else
  cp -r "$src/debian" pkg/vouch/
fi
version=$(cd pkg/vouch && dpkg-parsechangelog -S Version)
expect_same "${version%-*}" "$VOUCH_VERSION"

# -b binary packages only; -nc no clean (there is nothing to clean: nothing is compiled here).
# noddebs: no -dbgsym packages (compressing 80 MB of debug symbols is most of the time).
(cd pkg/vouch && DEB_BUILD_OPTIONS=noddebs VOUCH_PREBUILT=$build dpkg-buildpackage -us -uc -b -nc >../build.log 2>&1) ||
  { tail -40 pkg/build.log >&2; fail "dpkg-buildpackage failed"; }
ok
arch=$(dpkg --print-architecture)
deb=pkg/vouch_${version}_$arch.deb
ddeb=pkg/vouch-device_${version}_$arch.deb
[ -f "$deb" ] && [ -f "$ddeb" ] || { ls pkg >&2; fail "no vouch and vouch-device packages"; }
ok

# lintian: errors fail; every tag is printed for the log (the note lists the warnings).
lintian_rc=0
lintian --fail-on error --display-info pkg/vouch_"${version}"_"$arch".changes >lintian.txt 2>&1 || lintian_rc=$?
echo "lintian ($(lintian --version)):" >&2
sed 's/^/  /' lintian.txt >&2
[ "$lintian_rc" = 0 ] || fail "lintian reports errors (exit $lintian_rc)"
! grep -q '^E: ' lintian.txt || fail "lintian reports errors"
ok

# Every file each package installs, where Debian 12 expects it: no /usr/local, no /opt, the
# man pages compressed, docs under the package's own /usr/share/doc, root-owned, no set-id
# bit, programs 0755 and everything else 0644.
# contents DEB: "MODE OWNER PATH" for each file (not the folders), sorted; under /usr/share/doc
# without the .gz that dh_compress adds by size (over 4 KiB), man pages with it.
contents() {
  dpkg-deb -c "$1" | awk '$1 !~ /^d/ { print $1, $2, $6 }' | sed 's| \./| /|; s|^\(.* /usr/share/doc/.*\)\.gz$|\1|' | sort -k3
}
docs=(README.md NEWS.md DESIGN.md udf.md device-state.md errors.md cogen.md voucher.md vouch-enroll.yang layout.md
      bundle.md device_uri.md receipt.md tlog.md cache.md log.md publish.md protocol.md dist-README.md)
{
  echo "-rwxr-xr-x root/root /usr/bin/vouch"
  echo "-rw-r--r-- root/root /usr/share/man/man1/vouch.1.gz"
  echo "-rw-r--r-- root/root /usr/share/man/man5/vouch-voucher.5.gz"
  echo "-rw-r--r-- root/root /usr/share/man/man5/vouch-bundle.5.gz"
  echo "-rw-r--r-- root/root /usr/share/bash-completion/completions/vouch"
  echo "-rw-r--r-- root/root /usr/share/zsh/vendor-completions/_vouch"
  echo "-rw-r--r-- root/root /usr/share/doc/vouch/copyright"
  echo "-rw-r--r-- root/root /usr/share/doc/vouch/changelog"
  for d in "${docs[@]}"; do echo "-rw-r--r-- root/root /usr/share/doc/vouch/$d"; done
} | sort -k3 >want-vouch.txt
{
  echo "-rwxr-xr-x root/root /usr/bin/vouch-device"
  echo "-rwxr-xr-x root/root /usr/libexec/vouch/vouch-medium-reader"
  echo "-rwxr-xr-x root/root /usr/libexec/vouch/vouch-git-reader"
  echo "-rwxr-xr-x root/root /usr/libexec/vouch/vouch-fetch"
  echo "-rw-r--r-- root/root /usr/share/man/man8/vouch-device.8.gz"
  echo "-rw-r--r-- root/root /usr/share/man/man5/vouch-device-state.5.gz"
  echo "-rw-r--r-- root/root /usr/share/bash-completion/completions/vouch-device"
  echo "-rw-r--r-- root/root /usr/share/zsh/vendor-completions/_vouch-device"
  echo "-rw-r--r-- root/root /lib/udev/rules.d/90-vouch.rules"
  echo "-rw-r--r-- root/root /lib/systemd/system/vouch-fetch@.service"
  echo "-rw-r--r-- root/root /usr/lib/sysusers.d/vouch.conf"
  echo "-rw-r--r-- root/root /usr/share/doc/vouch-device/copyright"
  echo "-rw-r--r-- root/root /usr/share/doc/vouch-device/changelog"
} | sort -k3 >want-vouch-device.txt
for p in vouch vouch-device; do
  contents "pkg/${p}_${version}_$arch.deb" >got-$p.txt
  diff want-$p.txt got-$p.txt >&2 || fail "$p: dpkg-deb -c lists other files, modes or owners (< expected, > packaged)"
  ok
done
# The control fields: the device package names the shared libraries it links and adduser
# (its postinst makes the reader's user); the operators' package needs nothing of the device's.
dpkg-deb -f "$ddeb" Depends >depends.txt
expect_in depends.txt "adduser"
expect_in depends.txt "libseccomp2"
dpkg-deb -f "$deb" Depends >depends.txt
expect_in depends.txt "libgit2"
! grep -q "vouch-device" depends.txt || fail "vouch depends on vouch-device"
ok
dpkg-deb -I "$ddeb" postinst >postinst.txt
expect_in postinst.txt "vouch-reader"

# The unpacked packages run from their own files only (vouch-device finds its reader in
# ../libexec/vouch from its own folder; nothing points it at this build).
mkdir root
dpkg-deb -x "$deb" root
dpkg-deb -x "$ddeb" root
VOUCH=$T/root/usr/bin/vouch
VOUCH_DEVICE=$T/root/usr/bin/vouch-device
expect_exit 0 "$VOUCH" --version
expect_in out.txt "vouch $VOUCH_VERSION"
expect_exit 0 "$VOUCH" demo --dir demo
expect_in out.txt "enrolled"
# The mount helper names the installed vouch-device; the unit, the installed helper.
expect_in root/usr/libexec/vouch/vouch-fetch "/usr/bin/vouch-device fetch"
expect_in root/lib/systemd/system/vouch-fetch@.service "ExecStart=/usr/libexec/vouch/vouch-fetch /dev/%I"
# systemd-analyze verify of an instance, with the installed helper's path rewritten to the
# unpacked one (verify checks that ExecStart= exists and is executable).
sed "s|/usr/libexec/vouch/vouch-fetch|$T/root/usr/libexec/vouch/vouch-fetch|" \
  root/lib/systemd/system/vouch-fetch@.service >vouch-fetch@sda1.service
systemd-analyze verify --man=no ./vouch-fetch@sda1.service >verify.txt 2>&1 || { cat verify.txt >&2; fail "systemd-analyze verify"; }
ok

# A device's fetch with the unpacked vouch-device and its unpacked reader, strace showing which
# reader ran.
make_ca mfr
make_ca owner-ca
expect_exit 0 "$VOUCH_DEVICE" init --state dev --serial SN-1 --trust mfr.pem
expect_exit 0 "$VOUCH" issue --device-key dev/device.pub --serial SN-1 --signer-key mfr.key --signer-cert mfr.pem \
  --domain-ca owner-ca.pem --domain-ca-key owner-ca.key --out-dir issued
expect_exit 0 "$VOUCH" bundle create --from issued --out stick
strace -f -qq -e trace=execve -o exec.txt "$VOUCH_DEVICE" fetch --state dev stick >out.txt 2>err.txt ||
  { cat out.txt err.txt >&2; fail "the unpacked vouch-device did not fetch"; }
expect_in out.txt "enrolled"
expect_in exec.txt "$T/root/usr/libexec/vouch/vouch-medium-reader"
! grep -q "$build" exec.txt || fail "the unpacked vouch-device ran something from the build directory"
ok
finish
