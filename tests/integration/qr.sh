#!/usr/bin/env bash
# The owner meets a device by scanning its QR code (formats/device_uri.md): the device draws its
# URI as PNG, zbarimg (an independent QR decoder) reads it back, the owner issues from the text
# it read, and the device enrolls. Also the SVG and terminal drawings, a tampered URI, batch
# files of URIs, and the usage rules of the flags.
. "$(dirname "$0")/lib.sh"

command -v zbarimg >/dev/null || fail "zbarimg is not installed (Debian's zbar-tools; ./dev installs it)"
PY=/usr/bin/python3
[ -x "$PY" ] || fail "$PY is missing"

make_ca mfr-root
make_leaf mfr-signer mfr-root
make_ca owner-ca
signer=(--signer-key mfr-signer.key --signer-cert mfr-signer.pem --chain mfr-root.pem)

# The device shows its URI, as text and as a PNG QR code; the decoder reads exactly that text.
expect_exit 0 "$VOUCH_DEVICE" init --state dev --serial 'ACME 1001/é' --trust mfr-root.pem
udf=$(cat out.txt)
expect_exit 0 "$VOUCH_DEVICE" show --state dev --uri
uri=$(cat out.txt)
expect_same "${uri:0:12}" "VOUCH:V:1;K:"
expect_in out.txt ";F:$udf;S:ACME%201001%2F%C3%A9;;"
expect_exit 0 "$VOUCH_DEVICE" show --state dev --qr-out dev.png
expect_same "$(cat out.txt)" dev.png
expect_same "$(stat -c %a dev.png)" 644
scanned=$(zbarimg --raw -q dev.png 2>/dev/null) || fail "zbarimg could not read dev.png"
ok
expect_same "$scanned" "$uri"
# The same URI in --json, and never over an existing file.
expect_exit 0 "$VOUCH_DEVICE" show --state dev --json
expect_in out.txt "\"uri\": \"$uri\""
expect_exit 1 "$VOUCH_DEVICE" show --state dev --qr-out dev.png
expect_in err.txt "(exists)"

# The owner issues from the scanned text; the device enrolls with that voucher.
# (No certificate for Z: its subject cannot hold this serial's "/" and "é"; the voucher can.)
expect_exit 0 "$VOUCH" issue --device-uri "$scanned" "${signer[@]}" --domain-ca owner-ca.pem \
  --out v1.vjj --json
expect_in out.txt "\"device-key\": \"$udf\""
expect_in out.txt '"serial-number": "ACME 1001/é"'
expect_exit 0 "$VOUCH_DEVICE" accept --state dev v1.vjj
expect_in out.txt "enrolled"

# The SVG is well-formed XML, one path, with the quiet zone in its viewBox; the PNG is 8 pixels
# a module: (modules + 8) * 8 wide. The terminal drawing has (modules + 8 + 1) / 2 rows, each as
# wide as the code (two modules a row, half blocks), black on white.
expect_exit 0 "$VOUCH_DEVICE" show --state dev --qr-out dev.svg
n=$("$PY" - dev.png dev.svg <<'PY'
import struct, sys, xml.etree.ElementTree as ET
png = open(sys.argv[1], 'rb').read()
assert png[:8] == b'\x89PNG\r\n\x1a\n' and png[12:16] == b'IHDR'
w, h = struct.unpack('>II', png[16:24])
assert w == h and w % 8 == 0, (w, h)
root = ET.parse(sys.argv[2]).getroot()
assert root.tag == '{http://www.w3.org/2000/svg}svg', root.tag
assert len(root.findall('{http://www.w3.org/2000/svg}path')) == 1
assert root.get('viewBox') == '0 0 %d %d' % (w // 8, w // 8), root.get('viewBox')
print(w // 8)
PY
) || fail "dev.png or dev.svg is not what it should be"
ok
expect_exit 0 "$VOUCH_DEVICE" show --state dev --qr
expect_same "$(wc -l < out.txt)" $(( (n + 1) / 2 ))
expect_same "$("$PY" -c 'import re, sys
print(*sorted({len(re.sub("\x1b\\[[0-9;]*m", "", l.rstrip("\n"))) for l in open(sys.argv[1], encoding="utf-8")}))' out.txt)" "$n"
expect_same "$(grep -c $'^\x1b\\[30;107m.*\x1b\\[0m$' out.txt)" $(( (n + 1) / 2 ))
grep -q '▀' out.txt && grep -q '▄' out.txt && grep -q '█' out.txt || fail "no half blocks in the terminal drawing"
ok
# zbarimg reads the SVG's twin too: vouch key show draws the same URI from dev.pub.
expect_exit 0 "$VOUCH" key show dev/device.pub --serial 'ACME 1001/é' --uri
expect_same "$(cat out.txt)" "$uri"
expect_exit 0 "$VOUCH" key show dev/device.pub --serial 'ACME 1001/é' --qr-out key.png
expect_same "$(zbarimg --raw -q key.png 2>/dev/null)" "$uri"
expect_exit 0 "$VOUCH" key show dev/device.pub --serial 'ACME 1001/é' --json
expect_in out.txt "\"uri\": \"$uri\""

# A tampered URI (the UDF of another key) is refused, and nothing is written.
expect_exit 0 "$VOUCH" key new --suite x25519 --out other.key --public-out other.pub
other_udf=$(cat out.txt)
tampered=${uri/;F:$udf;/;F:$other_udf;}
expect_exit 1 "$VOUCH" issue --device-uri "$tampered" "${signer[@]}" --domain-ca owner-ca.pem --out t.vjj
expect_in err.txt "--device-uri: device URI: F $other_udf is not the UDF of K"
expect_in err.txt "(udf-mismatch)"
[ ! -e t.vjj ] || fail "a refused issue left t.vjj behind"; ok
expect_exit 1 "$VOUCH" issue --device-uri "${uri%;;}" "${signer[@]}" --domain-ca owner-ca.pem --out t.vjj
expect_in err.txt "(malformed)"
expect_exit 1 "$VOUCH" issue --device-uri "${uri%;;};K:AAAA;;" "${signer[@]}" --domain-ca owner-ca.pem --out t.vjj
expect_in err.txt "appears twice (malformed)"
expect_exit 1 "$VOUCH" issue --device-uri "$uri$(head -c 5000 /dev/zero | tr '\0' A)" "${signer[@]}" --domain-ca owner-ca.pem --out t.vjj
expect_in err.txt "(too-large)"

# request and contribute take the URI too (contribute uses only its key). A second later: created-on
# has one-second resolution and the device takes only a strictly later one.
sleep 1
expect_exit 0 "$VOUCH" contribute --device-uri "$uri" --out escrow.vcon --json
expect_in out.txt "\"device-key\": \"$udf\""
expect_exit 0 "$VOUCH" request --device-uri "$uri" --contribution escrow.vcon --domain-ca owner-ca.pem \
  --domain-ca-key owner-ca.key --no-certificate --out r.vrq
expect_exit 0 "$VOUCH" sign --request r.vrq --device-key dev/device.pub "${signer[@]}" --out v2.vjj
expect_exit 0 "$VOUCH_DEVICE" accept --state dev v2.vjj
expect_in out.txt "enrolled"

# A batch file may mix 'serial,key' lines and URI lines; a bad URI line fails alone.
for i in 1 2; do
  expect_exit 0 "$VOUCH_DEVICE" init --state "fleet$i" --serial "FLEET-$i" --suite x448 --trust mfr-root.pem
  expect_exit 0 "$VOUCH_DEVICE" show --state "fleet$i" --qr-out "fleet$i.png"
done
expect_exit 0 "$VOUCH_DEVICE" init --state fleet3 --serial FLEET-3 --trust mfr-root.pem
{
  echo "serial,public key"
  zbarimg --raw -q fleet1.png 2>/dev/null
  zbarimg --raw -q fleet2.png 2>/dev/null
  echo "FLEET-3,$(openssl pkey -pubin -in fleet3/device.pub -outform DER | base64 -w0)"
} > fleet.csv
expect_exit 0 "$VOUCH" issue --batch fleet.csv "${signer[@]}" --domain-ca owner-ca.pem --out-dir stick
expect_in err.txt "issued 3 vouchers, 0 failed"
for i in 1 2 3; do
  expect_exit 0 "$VOUCH_DEVICE" fetch --state "fleet$i" stick
  expect_in out.txt "enrolled"
done
echo "$tampered" >> fleet.csv
expect_exit 1 "$VOUCH" issue --batch fleet.csv "${signer[@]}" --domain-ca owner-ca.pem --out-dir stick2
expect_in err.txt "fleet.csv line 5: device URI: F $other_udf is not the UDF of K"
expect_in err.txt "(udf-mismatch)"
expect_in err.txt "issued 3 vouchers, 1 failed"

# Usage errors (exit 2): a URI with --device-key or --serial or --batch, --qr-out not .png/.svg,
# a QR code without a serial, --qr with --json.
expect_exit 2 "$VOUCH" issue --device-uri "$uri" --device-key dev/device.pub "${signer[@]}" --domain-ca owner-ca.pem --out x.vjj
expect_exit 2 "$VOUCH" issue --device-uri "$uri" --serial SN "${signer[@]}" --domain-ca owner-ca.pem --out x.vjj
expect_exit 2 "$VOUCH" issue --device-uri "$uri" --batch fleet.csv "${signer[@]}" --domain-ca owner-ca.pem --out-dir x
expect_exit 2 "$VOUCH" request --domain-ca owner-ca.pem --domain-ca-key owner-ca.key --out x.vrq
expect_in err.txt "give --device-key and --serial, or --device-uri"
expect_exit 2 "$VOUCH" contribute --device-uri "$uri" --device-key dev/device.pub --out x.vcon
expect_exit 2 "$VOUCH_DEVICE" show --state dev --qr-out dev.jpg
expect_in err.txt "does not end in .png or .svg"
[ ! -e dev.jpg ] || fail "dev.jpg was written"; ok
expect_exit 2 "$VOUCH" key show dev/device.pub --qr
expect_in err.txt "need --serial"
expect_exit 2 "$VOUCH_DEVICE" show --state dev --qr --json
expect_exit 0 "$VOUCH" issue --help
expect_in out.txt "--device-uri"
expect_in out.txt "zbarimg --raw -q"

# A serial no URI can carry (init allowed 200 bytes before URIs existed): show still shows the
# device, with no URI; only asking for the QR code is refused.
expect_exit 0 "$VOUCH_DEVICE" init --state dev-long --serial "$(printf 'A%.0s' $(seq 200))" --trust mfr-root.pem
expect_exit 0 "$VOUCH_DEVICE" show --state dev-long --json
expect_in out.txt '"uri": null'
expect_exit 1 "$VOUCH_DEVICE" show --state dev-long --qr
expect_in err.txt "(too-large)"
finish
