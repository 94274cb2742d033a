#!/usr/bin/env bash
# vouch --version and vouch-device --version: the project's version from meson, every suite
# (DESIGN.md section 3), and the libraries each links at the versions pkg-config says the
# build used (an independent source: the .pc files of the -dev packages).
. "$(dirname "$0")/lib.sh"

: "${VOUCH_VERSION:?the project version meson.build declares}"

# built_with FILE NAME PCNAME: FILE's "  NAME X.Y.Z" line names pkg-config's version of PCNAME.
built_with() {
  local want
  want=$(pkg-config --modversion "$3") || fail "pkg-config knows no $3"
  expect_in "$1" "  $2 $want"
}

for prog in "$VOUCH" "$VOUCH_DEVICE"; do
  name=$(basename "$prog")
  expect_exit 0 "$prog" --version
  mv out.txt "$name.txt"
  expect_same "$(head -1 "$name.txt")" "$name $VOUCH_VERSION"
  expect_in "$name.txt" "suites:"
  expect_in "$name.txt" "  p256    P256-HPKE-SHA256-AES128GCM"
  expect_in "$name.txt" "  x25519  X25519-HPKE-SHA256-CHACHA20POLY1305"
  expect_in "$name.txt" "  x448    X448-HPKE-SHA512-AES256GCM"
  expect_in "$name.txt" "built with:"
  built_with "$name.txt" OpenSSL libcrypto
  built_with "$name.txt" libsodium libsodium
  built_with "$name.txt" libzip libzip
  built_with "$name.txt" libcbor libcbor
  built_with "$name.txt" libpng libpng
  expect_in "$name.txt" "  libqrencode "
  [ ! -s err.txt ] || fail "$name --version wrote to stderr"
done
# The operators' tool also links libgit2 and libcurl; the device's process never does.
built_with vouch.txt libgit2 libgit2
built_with vouch.txt libcurl libcurl
! grep -q 'libgit2\|libcurl' vouch-device.txt || fail "vouch-device --version lists libgit2 or libcurl"
ok
# --version stands alone: no subcommand needed, and --help lists it.
expect_exit 0 "$VOUCH" --help
expect_in out.txt "--version"

echo "version: $checks checks passed"
