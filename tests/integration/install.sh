#!/usr/bin/env bash
# meson install from this build directory into a temporary DESTDIR puts everything where the
# system looks for it, and nothing else: the programs, the readers and the mount helper, the
# man pages, the completions, the udev rule, the unit, the sysusers file and the spec pages;
# and the installed unit and helper name the installed paths.
. "$(dirname "$0")/lib.sh"

: "${VOUCH_BUILD_ROOT:?the meson build directory}"
build=$VOUCH_BUILD_ROOT
dest=$T/root
PY=/usr/bin/python3

meson install -C "$build" --no-rebuild --destdir "$dest" >install.log 2>&1 || { cat install.log >&2; fail "meson install failed"; }
ok

# option NAME: the build directory's value of a meson option.
option() {
  meson introspect "$build" --buildoptions |
    "$PY" -c 'import json, sys; print(next(o["value"] for o in json.load(sys.stdin) if o["name"] == sys.argv[1]))' "$1"
}
prefix=$(option prefix)
abs() { case "$1" in /*) echo "$1" ;; *) echo "$prefix/$1" ;; esac; }
bindir=$(abs "$(option bindir)")
libexecdir=$(abs "$(option libexecdir)")/vouch
datadir=$(abs "$(option datadir)")
mandir=$(abs "$(option mandir)")
# pkgconf DIR PACKAGE VARIABLE FALLBACK [--define-variable=...]: what meson.build reads.
pkgconf() {
  local given=$1 pkg=$2 var=$3 fallback=$4; shift 4
  if [ -n "$given" ]; then abs "$given"
  elif pkg-config --exists "$pkg"; then pkg-config "$@" --variable="$var" "$pkg"
  else echo "$fallback"; fi
}
bashdir=$(pkgconf "$(option bashcompletiondir)" bash-completion completionsdir "$datadir/bash-completion/completions" --define-variable=datadir="$datadir")
zshdir=$(option zshcompletiondir); zshdir=$(abs "${zshdir:-$datadir/zsh/vendor-completions}")
udevdir=$(option udevrulesdir)
if [ -z "$udevdir" ]; then udevdir=$(pkgconf "" udev udevdir "$prefix/lib/udev")/rules.d; else udevdir=$(abs "$udevdir"); fi
unitdir=$(pkgconf "$(option systemdunitdir)" systemd systemdsystemunitdir "$prefix/lib/systemd/system")
sysusersdir=$(pkgconf "$(option sysusersdir)" systemd sysusersdir "$prefix/lib/sysusers.d")
docdir=$datadir/doc/vouch

expected=(
  "$bindir/vouch" "$bindir/vouch-device"
  "$libexecdir/vouch-medium-reader" "$libexecdir/vouch-git-reader" "$libexecdir/vouch-fetch"
  "$bashdir/vouch" "$bashdir/vouch-device" "$zshdir/_vouch" "$zshdir/_vouch-device"
  "$udevdir/90-vouch.rules" "$unitdir/vouch-fetch@.service" "$sysusersdir/vouch.conf"
)
for doc in README.md NEWS.md DESIGN.md udf.md device-state.md errors.md cogen.md voucher.md vouch-enroll.yang \
           layout.md bundle.md device_uri.md receipt.md tlog.md cache.md log.md publish.md protocol.md dist-README.md; do
  expected+=("$docdir/$doc")
done
if command -v scdoc >/dev/null; then
  expected+=("$mandir/man1/vouch.1" "$mandir/man8/vouch-device.8" "$mandir/man5/vouch-voucher.5"
             "$mandir/man5/vouch-bundle.5" "$mandir/man5/vouch-device-state.5")
fi

# Exactly these files, nothing else.
printf '%s\n' "${expected[@]}" | sort >expected.txt
(cd "$dest" && find . -type f -o -type l) | sed 's|^\.||' | sort >installed.txt
diff expected.txt installed.txt >&2 || fail "meson install installed other files than expected (< missing, > unexpected)"
ok

for f in "$bindir/vouch" "$bindir/vouch-device" "$libexecdir/vouch-medium-reader" "$libexecdir/vouch-git-reader" "$libexecdir/vouch-fetch"; do
  [ -x "$dest$f" ] || fail "$f is not executable"
  ok
done
for f in "$udevdir/90-vouch.rules" "$unitdir/vouch-fetch@.service" "$sysusersdir/vouch.conf" "$docdir/voucher.md"; do
  expect_same "$(stat -c %a "$dest$f")" 644
done

# The rule starts the unit; the unit runs the installed helper; the helper runs the installed
# vouch-device; no @VARIABLE@ is left.
expect_in "$dest$udevdir/90-vouch.rules" 'SYSTEMD_WANTS}+="vouch-fetch@%k.service"'
expect_in "$dest$unitdir/vouch-fetch@.service" "ExecStart=$libexecdir/vouch-fetch /dev/%I"
expect_in "$dest$unitdir/vouch-fetch@.service" "Documentation=man:vouch-device(8)"
expect_in "$dest$libexecdir/vouch-fetch" "report=\$($bindir/vouch-device fetch"
expect_in "$dest$libexecdir/vouch-fetch" "    $bindir/vouch-device receipt"
! grep -n '@[A-Z_]*@' "$dest$unitdir/vouch-fetch@.service" "$dest$libexecdir/vouch-fetch" || fail "a placeholder is left"
ok
sh -n "$dest$libexecdir/vouch-fetch" || fail "vouch-fetch does not parse"
ok
expect_in "$dest$sysusersdir/vouch.conf" "u vouch-reader "

# The installed programs run, and their completions are the generated ones.
expect_exit 0 "$dest$bindir/vouch" --version
expect_in out.txt "vouch $VOUCH_VERSION"
"$dest$bindir/vouch-device" --completion bash | cmp -s - "$dest$bashdir/vouch-device" || fail "installed vouch-device completion differs"
ok
if command -v scdoc >/dev/null; then
  expect_in "$dest$mandir/man1/vouch.1" ".TH \"vouch\" \"1\""
  command -v man >/dev/null && { MANWIDTH=80 man -l "$dest$mandir/man8/vouch-device.8" 2>&1 | grep -q "vouch-device fetch" || fail "man cannot render vouch-device.8"; ok; }
fi

echo "install: $checks checks passed ($prefix)"
