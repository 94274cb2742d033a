#!/usr/bin/env bash
# One device's whole life on sticks only (issue 14): enroll with the receipt coming back on the
# stick into the owner's cache, two renewals (same key, new certificate), a transfer to a second
# owner (new key; the first owner refused from then on), and a factory reset. Every certificate
# for Z is checked by `openssl verify`, every receipt's two signatures by the openssl CLI.
. "$(dirname "$0")/lib.sh"

make_ca mfr
make_ca owner-a
make_ca owner-b
expect_exit 0 "$VOUCH_DEVICE" init --state dev --serial SN-L --trust mfr.pem --clock trusted
udf=$(cat out.txt)
x_before=$(openssl pkey -pubin -in dev/device.pub -outform DER | base64 -w0)
expect_exit 0 "$VOUCH" cache init --cache a.git
expect_exit 0 "$VOUCH" cache init --cache b.git

# stick NAME: an empty stick whose owner wants receipts back.
stick() { mkdir -p "$1/vouch-receipts"; }

# receipt_on STICK: the one receipt the device wrote on the stick, by its layout path.
receipt_on() {
  local found
  found=$(find "$1/vouch-receipts" -type f -name '*.vrj')
  [ "$(printf '%s\n' "$found" | grep -c .)" = 1 ] || fail "expected one receipt on $1, found: $found"
  local bare=${udf//-/}
  case "$found" in
    "$1/vouch-receipts/${bare:1:2}/${bare:3:2}/$udf/"*.vrj) ;;
    *) fail "receipt $found is not at its layout path" ;;
  esac
  printf '%s' "$found"
}

# openssl_checks_receipt FILE: both signatures, by the openssl CLI alone: the first with Z
# (the device's current z.pub), the second with X. ES256 signatures are r || s in JWS and DER
# for openssl; python3 only re-encodes them.
openssl_checks_receipt() {
  python3 - "$1" <<'EOF'
import base64, json, sys
d = json.load(open(sys.argv[1]))
ub = lambda s: base64.urlsafe_b64decode(s + '=' * (-len(s) % 4))
def der_int(x):
    b = x.to_bytes((x.bit_length() + 8) // 8, 'big')
    return b'\x02' + bytes([len(b)]) + b
for i, sig in enumerate(d['signatures']):
    open('input%d' % i, 'wb').write((sig['protected'] + '.' + d['payload']).encode())
    raw = ub(sig['signature'])
    body = der_int(int.from_bytes(raw[:32], 'big')) + der_int(int.from_bytes(raw[32:], 'big'))
    open('sig%d.der' % i, 'wb').write(b'\x30' + bytes([len(body)]) + body)
EOF
  openssl dgst -sha256 -verify dev/current/z.pub -signature sig0.der input0 >/dev/null || fail "openssl: receipt not signed by Z"
  openssl dgst -sha256 -verify dev/device.pub -signature sig1.der input1 >/dev/null || fail "openssl: receipt not signed by X"
  # And not the other way round: the signatures are bound to their keys.
  openssl dgst -sha256 -verify dev/device.pub -signature sig0.der input0 >/dev/null 2>&1 && fail "receipt's Z signature verifies under X"
  ok
}

# status_of CACHE: the device's line of `cache status --json`, as "enrolled generation vouchers".
status_of() {
  "$VOUCH" cache status --cache "$1" --device "$udf" --json >status.json || fail "cache status failed"
  python3 -c 'import json; d = json.load(open("status.json"))["devices"][0]; e = d.get("enrolled") or {}
print(bool(e), e.get("generation", 0), d["vouchers"])' 
}

# --- Enrollment: the manufacturer's voucher on stick 1, the receipt back in owner A's cache.
stick s1
expect_exit 0 "$VOUCH" issue --device-key dev/device.pub --serial SN-L --signer-key mfr.key --signer-cert mfr.pem \
  --domain-ca owner-a.pem --domain-ca-key owner-a.key --out-dir s1
expect_exit 0 "$VOUCH" cache import --cache a.git s1
expect_same "$(status_of a.git)" "False 0 1"
expect_exit 0 "$VOUCH_DEVICE" fetch --state dev --receipts s1
expect_in out.txt "(enrolled)"
r1=$(receipt_on s1)
openssl verify -CAfile owner-a.pem dev/current/certificate.pem >/dev/null || fail "certificate for Z does not chain to owner A"; ok
openssl_checks_receipt "$r1"
expect_exit 0 "$VOUCH" receipt verify "$r1" --trust owner-a.pem --device-key dev/device.pub
expect_exit 0 "$VOUCH" cache import --cache a.git s1
expect_same "$(status_of a.git)" "True 1 1"
z1=$(cat dev/current/z.pub)
cert1=$(cat dev/current/certificate.pem)

# --- Two renewals: the owner's, then the manufacturer's. Same key, a new certificate each time.
n=2
for signer in owner-a mfr; do
  stick "r$n"
  sleep 1  # created-on has one-second resolution; the device takes only a strictly later one
  expect_exit 0 "$VOUCH" renew --device-key dev/device.pub --combined-key dev/current/z.pub --serial SN-L \
    --previous-cert dev/current/certificate.pem --domain-ca owner-a.pem --domain-ca-key owner-a.key \
    --signer-key "$signer.key" --signer-cert "$signer.pem" --out-dir "r$n"
  expect_exit 0 "$VOUCH" cache import --cache a.git "r$n"
  expect_exit 0 "$VOUCH_DEVICE" fetch --state dev --receipts "r$n" --json
  expect_in out.txt '"change": "renewed"'
  expect_same "$(cat dev/current/z.pub)" "$z1"
  [ "$(cat dev/current/certificate.pem)" != "$cert1" ] || fail "renewal $n left the certificate as it was"; ok
  openssl verify -CAfile owner-a.pem dev/current/certificate.pem >/dev/null || fail "renewed certificate does not chain"; ok
  # z.key still derives Z (openssl computes its public half).
  expect_same "$(openssl pkey -in dev/current/z.key -pubout)" "$z1"
  cert1=$(cat dev/current/certificate.pem)
  r=$(receipt_on "r$n")
  openssl_checks_receipt "$r"
  expect_exit 0 "$VOUCH" cache import --cache a.git "r$n"
  expect_same "$(status_of a.git)" "True $n $n"
  n=$((n + 1))
done
# The first receipt again is the same bytes: nothing new. In a cache that has the newest receipt
# and not the first, the first is an older generation: refused, nothing changes.
expect_exit 0 "$VOUCH" cache import --cache a.git "$r1"
expect_same "$(status_of a.git)" "True 3 3"
expect_exit 0 "$VOUCH" cache init --cache c.git
expect_exit 0 "$VOUCH" cache import --cache c.git s1/vouchers r2/vouchers r3/vouchers "$r"
expect_exit 1 "$VOUCH" cache import --cache c.git "$r1"
expect_in err.txt "rollback"
expect_same "$(status_of c.git)" "True 3 3"

# --- Transfer to owner B: B's request (its domain CA, its own contribution), signed by A.
stick t
sleep 1
expect_exit 0 "$VOUCH" request --device-key dev/device.pub --serial SN-L --domain-ca owner-b.pem \
  --domain-ca-key owner-b.key --out to-b.vrq
expect_exit 0 "$VOUCH" sign --request to-b.vrq --device-key dev/device.pub --signer-key owner-a.key \
  --signer-cert owner-a.pem --out-dir t
expect_exit 0 "$VOUCH" cache import --cache b.git t
expect_exit 0 "$VOUCH_DEVICE" fetch --state dev --receipts t --json
expect_in out.txt '"change": "transferred"'
[ "$(cat dev/current/z.pub)" != "$z1" ] || fail "a transfer kept the key"; ok
openssl verify -CAfile owner-b.pem dev/current/certificate.pem >/dev/null || fail "certificate for Z' does not chain to owner B"; ok
openssl verify -CAfile owner-a.pem dev/current/certificate.pem >/dev/null 2>&1 && fail "certificate for Z' chains to owner A"
ok
rt=$(receipt_on t)
openssl_checks_receipt "$rt"
expect_exit 0 "$VOUCH" receipt verify "$rt" --trust owner-b.pem
expect_exit 1 "$VOUCH" receipt verify "$rt" --trust owner-a.pem
expect_exit 0 "$VOUCH" cache import --cache b.git t
expect_same "$(status_of b.git)" "True 4 1"

# The former owner's later vouchers are refused by name: a re-key, a renewal of the new key.
stick late
sleep 1  # later than the transfer: refused for who signed them, not for their date
expect_exit 0 "$VOUCH" issue --device-key dev/device.pub --serial SN-L --signer-key owner-a.key --signer-cert owner-a.pem \
  --domain-ca owner-a.pem --domain-ca-key owner-a.key --out-dir late
expect_exit 0 "$VOUCH" renew --device-key dev/device.pub --combined-key dev/current/z.pub --serial SN-L \
  --domain-ca owner-b.pem --domain-ca-key owner-b.key --signer-key owner-a.key --signer-cert owner-a.pem --out-dir late
expect_exit 4 "$VOUCH_DEVICE" fetch --state dev --receipts late --json
expect_same "$(grep -c '"code": "not-owner"' out.txt)" 2
[ -z "$(find late/vouch-receipts -type f)" ] || fail "a refused fetch wrote a receipt"; ok
expect_same "$(cat dev/current/z.pub)" "$(openssl pkey -in dev/current/z.key -pubout)"

# --- Factory reset: every owner forgotten, the key kept, generations go on counting.
expect_exit 0 "$VOUCH_DEVICE" init --state dev --serial SN-L --trust mfr.pem --clock trusted --force
expect_same "$(openssl pkey -pubin -in dev/device.pub -outform DER | base64 -w0)" "$x_before"
[ ! -e dev/current ] || fail "a factory reset kept the owner"; ok
expect_exit 4 "$VOUCH_DEVICE" fetch --state dev t     # A's transfer: A is nobody to this device now
expect_in out.txt "(untrusted-signer)"
stick again
sleep 1  # later than the last voucher applied before the reset
expect_exit 0 "$VOUCH" issue --device-key dev/device.pub --serial SN-L --signer-key mfr.key --signer-cert mfr.pem \
  --domain-ca owner-b.pem --domain-ca-key owner-b.key --out-dir again
expect_exit 0 "$VOUCH" cache import --cache b.git again
expect_exit 0 "$VOUCH_DEVICE" fetch --state dev --receipts again --json
expect_in out.txt '"generation": 5'
expect_exit 0 "$VOUCH" cache import --cache b.git again
expect_same "$(status_of b.git)" "True 5 2"
finish
