#!/usr/bin/env bash
# COSE vouchers (formats/voucher.md, "COSE envelope"): the real cBRSKI example verifies; ours
# verify with an independent COSE implementation (Debian's python3-cbor2 and -cryptography,
# tests/integration/cose_peer.py) and theirs with ours; .vch goes everywhere .vjj and .vcj go
# (stick, cache, bundle, request/sign) and the device enrolls from it.
. "$(dirname "$0")/lib.sh"
PEER="/usr/bin/python3 $(dirname "$(readlink -f "$0")")/cose_peer.py"
VECTORS="$(dirname "$(readlink -f "$0")")/../vectors"

# The cBRSKI example: inside its MASA's validity it verifies; the device-side reader sees a
# plain voucher (no enrollment).
/usr/bin/python3 -c "import sys; open('example.vch', 'wb').write(bytes.fromhex(open(sys.argv[1]).read()))" "$VECTORS/constrained-voucher-example.vch.hex"
expect_exit 0 "$VOUCH" verify example.vch --trust "$VECTORS/constrained-voucher-masa-ca.pem" --at 2024-01-01T00:00:00Z --json
expect_in out.txt '"envelope": "cose"'
expect_in out.txt '"serial-number": "JADA123456789"'
expect_exit 0 "$VOUCH" inspect example.vch
expect_in out.txt "application/voucher+cose"
expect_in out.txt "proximity"
expect_exit 1 "$VOUCH" verify example.vch --trust "$VECTORS/constrained-voucher-masa-ca.pem" --at 2022-12-07T00:00:00Z
expect_in err.txt "(not-yet-valid)"

make_ca mfr-root
make_leaf mfr-signer mfr-root
make_ca owner-ca
# An Ed25519 voucher signer under the same (P-256) root.
openssl genpkey -algorithm ed25519 -out ed-signer.key
openssl req -new -key ed-signer.key -subj /CN=ed-signer -out ed-signer.csr
openssl x509 -req -in ed-signer.csr -CA mfr-root.pem -CAkey mfr-root.key -CAcreateserial -out ed-signer.pem -days 30 2>/dev/null

expect_exit 0 "$VOUCH_DEVICE" init --state dev --serial SN-1 --trust mfr-root.pem --clock trusted
udf=$(cat out.txt)
expect_exit 0 "$VOUCH_DEVICE" init --state dev25519 --serial SN-2 --suite x25519 --trust mfr-root.pem --clock trusted

# Ours, read by the peer: signature, deterministic CBOR, the SIDs of formats/vouch-enroll.sid.
expect_exit 0 "$VOUCH" issue --device-key dev/device.pub --serial SN-1 --signer-key mfr-signer.key --signer-cert mfr-signer.pem \
  --chain mfr-root.pem --domain-ca owner-ca.pem --domain-ca-key owner-ca.key --format cose --out v1.vch
$PEER verify v1.vch mfr-signer.pem > peer.json || fail "the independent COSE peer refused our voucher"
ok
expect_in peer.json '"2451": {"1": 0, "11": "SN-1"'
expect_in peer.json '"57650": {'              # vouch-enroll:enrollment, 60101 - 2451
expect_in peer.json "\"9\": \"$udf\""            # device-key, 60110 - 60101
expect_exit 0 "$VOUCH" issue --device-key dev25519/device.pub --serial SN-2 --signer-key ed-signer.key --signer-cert ed-signer.pem \
  --domain-ca owner-ca.pem --domain-ca-key owner-ca.key --format cose --out-dir stick
ed=$(find stick -name '*.vch')
[ -n "$ed" ] || fail "no .vch filed under stick/"
ok
$PEER verify "$ed" ed-signer.pem > /dev/null || fail "the peer refused our EdDSA COSE voucher"
ok

# Theirs, read by us: the peer re-encodes our voucher with its own CBOR (member names, its own
# key order), signs it, and the device enrolls with it.
$PEER sign v1.vch mfr-signer.key mfr-signer.pem theirs.vch names
expect_exit 0 "$VOUCH" verify theirs.vch --trust mfr-root.pem
expect_exit 0 "$VOUCH_DEVICE" accept --state dev theirs.vch --json
expect_in out.txt '"outcome": "enrolled"'
# The same voucher in our spelling is equally dated: not newer, so not taken.
expect_exit 4 "$VOUCH_DEVICE" accept --state dev v1.vch
expect_in out.txt "(rollback)"

# From a stick: the device finds its .vch at its layout path.
expect_exit 0 "$VOUCH_DEVICE" fetch --state dev25519 stick --json
expect_in out.txt '"outcome": "enrolled"'
expect_in out.txt "$(basename "$ed" .vch)"

# A changed byte in the payload: refused by the device, state unchanged.
sleep 1
expect_exit 0 "$VOUCH" issue --device-key dev/device.pub --serial SN-1 --signer-key mfr-signer.key --signer-cert mfr-signer.pem \
  --domain-ca owner-ca.pem --domain-ca-key owner-ca.key --format cose --out v2.vch
python3 -c "import sys; b=bytearray(open('v2.vch','rb').read()); b[-200]^=1; open('bad.vch','wb').write(b)"
before=$(find dev -type f -exec sha256sum {} + | sort)
expect_exit 4 "$VOUCH_DEVICE" accept --state dev bad.vch
expect_same "$(find dev -type f -exec sha256sum {} + | sort)" "$before"

# The cache and bundles carry .vch like the others; a device fetches from the bundle.
export VOUCH_CACHE="$T/cache.git"
expect_exit 0 "$VOUCH" cache init --trust mfr-root.pem
mkdir in && cp v2.vch in/
expect_exit 0 "$VOUCH" cache import in stick --json
expect_in out.txt '"added": 2'
expect_exit 0 "$VOUCH" cache get "$udf" --out-dir got
[ -n "$(find got -name '*.vch')" ] || fail "cache get did not give back the .vch"
ok
expect_exit 0 "$VOUCH" cache verify
expect_exit 0 "$VOUCH" bundle create --cache --out bundles --json
expect_exit 0 "$VOUCH_DEVICE" fetch --state dev bundles --json
expect_in out.txt '"outcome": "enrolled"'
v2_id=$("$VOUCH" inspect v2.vch --json | sed -n 's/.*"id": "\([^"]*\)".*/\1/p')
expect_exit 0 "$VOUCH_DEVICE" show --state dev --json
expect_in out.txt "$v2_id"

# The owner/manufacturer split, signed as COSE: the same voucher the request carries.
sleep 1
expect_exit 0 "$VOUCH" request --device-key dev/device.pub --serial SN-1 --domain-ca owner-ca.pem --domain-ca-key owner-ca.key --out r.vrq
expect_exit 0 "$VOUCH" sign --request r.vrq --device-key dev/device.pub --signer-key mfr-signer.key --signer-cert mfr-signer.pem \
  --format cose --out r.vch
expect_exit 0 "$VOUCH_DEVICE" accept --state dev r.vch --json
expect_in out.txt '"outcome": "enrolled"'

# One spelling: the peer's envelope untagged, or with the chain in the unprotected header, verifies
# under RFC 9052 but would be the same voucher under new ids; refused.
$PEER sign v1.vch mfr-signer.key mfr-signer.pem untagged.vch untagged
$PEER sign v1.vch mfr-signer.key mfr-signer.pem unprot.vch unprotected-chain
for f in untagged.vch unprot.vch; do
  expect_exit 1 "$VOUCH" verify "$f" --trust mfr-root.pem
  expect_in err.txt "(malformed)"
done

# Not a COSE_Sign1: a COSE_Mac0 tag, and junk, are refused with codes.
python3 -c "b=bytearray(open('v1.vch','rb').read()); b[0]=0xd1; open('mac.vch','wb').write(b)"
expect_exit 1 "$VOUCH" verify mac.vch --trust mfr-root.pem
expect_in err.txt "(malformed)"
printf '\x84\x9f\xff' > junk.vch
expect_exit 1 "$VOUCH" verify junk.vch --trust mfr-root.pem
expect_in err.txt "(malformed)"
finish
