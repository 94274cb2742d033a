#!/usr/bin/env bash
# Enrollment receipts (formats/receipt.md, DESIGN.md 9a): a device enrolls from a stick that has
# a vouch-receipts/ folder and leaves its receipt there; the owner's `vouch receipt verify`
# accepts it against the domain CA, the voucher and the device key, and the openssl CLI (an
# independent implementation) verifies both signatures, with Z from the device's z.pub and X
# from its device.pub, ES256 and Ed25519. Then what a hostile stick can do, and what it cannot.
. "$(dirname "$0")/lib.sh"

make_ca mfr-root
make_leaf mfr-signer mfr-root
make_ca owner-ca
make_ca other-ca

# issue_to STATE SN DIR: a voucher for the device in STATE, filed on the stick DIR.
issue_to() {
  expect_exit 0 "$VOUCH" issue --device-key "$1/device.pub" --serial "$2" --signer-key mfr-signer.key \
    --signer-cert mfr-signer.pem --chain mfr-root.pem --domain-ca owner-ca.pem --domain-ca-key owner-ca.key --out-dir "$3"
}

# split_jws RECEIPT: sig0.raw, sig1.raw (the raw signatures) and input0.txt, input1.txt (each
# one's JWS signing input, RFC 7515 5.2), with python's json and base64, not vouch's.
split_jws() {
  python3 - "$1" <<'PY'
import base64, json, sys
doc = json.load(open(sys.argv[1]))
def unb64url(s): return base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))
for i, s in enumerate(doc["signatures"]):
    open(f"sig{i}.raw", "wb").write(unb64url(s["signature"]))
    open(f"input{i}.txt", "w").write(s["protected"] + "." + doc["payload"])
    print(json.loads(unb64url(s["protected"]))["kid"])
open("payload.json", "wb").write(unb64url(doc["payload"]))
PY
}

# es256_der RAW DER: r || s (64 bytes) as the DER ECDSA-Sig-Value openssl dgst reads.
es256_der() {
  python3 - "$1" "$2" <<'PY'
import sys
raw = open(sys.argv[1], "rb").read()
assert len(raw) == 64, len(raw)
def integer(b):
    b = b.lstrip(b"\0") or b"\0"
    if b[0] & 0x80: b = b"\0" + b
    return b"\x02" + bytes([len(b)]) + b
body = integer(raw[:32]) + integer(raw[32:])
open(sys.argv[2], "wb").write(b"\x30" + bytes([len(body)]) + body)
PY
}

# payload_member NAME: a member of the receipt's payload (after split_jws).
payload_member() { python3 -c "import json,sys; print(json.load(open('payload.json'))['vouch-receipt'][sys.argv[1]])" "$1"; }

# key_udf PUB: the UDF `vouch key show` gives a public key.
key_udf() { "$VOUCH" key show "$1" --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["udf"])'; }

# layout_dir UDF: <c1c2>/<c3c4>/UDF, computed here from the UDF's characters.
layout_dir() { local c; c=$(echo "$1" | tr -d -); echo "${c:1:2}/${c:3:2}/$1"; }

# --- P-256: enroll from a stick that asks for a receipt --------------------------------------
expect_exit 0 "$VOUCH_DEVICE" init --state dev --serial SN-1 --trust mfr-root.pem --clock trusted
udf=$(cat out.txt)
expect_exit 1 "$VOUCH_DEVICE" receipt --state dev --out .   # nothing applied yet
expect_in err.txt "(not-found)"
mkdir -p stick/vouch-receipts
issue_to dev SN-1 stick
voucher=$(ls stick/vouchers/*/*/"$udf"/*.vjj)
expect_exit 0 "$VOUCH_DEVICE" fetch --state dev stick --receipts --json
expect_in out.txt '"outcome": "enrolled"'
expect_in out.txt '"written": true'
receipt=$(python3 -c "import json; print(json.load(open('out.txt'))['receipts'][0]['path'])")
case "$receipt" in stick/vouch-receipts/$(layout_dir "$udf")/*.vrj) ok ;; *) fail "receipt written at $receipt" ;; esac
[ -f "$receipt" ] || fail "no receipt at $receipt"; ok
expect_same "$(stat -c %a "$receipt")" 644
# Nothing but the receipt was written to the stick, and no temporary file was left.
expect_same "$(find stick/vouch-receipts -type f | wc -l)" 1
expect_same "$(find stick -type f -not -path 'stick/vouchers/*' | wc -l)" 1

# The owner's check, against each thing it knows, then all together.
expect_exit 0 "$VOUCH" receipt verify "$receipt" --trust owner-ca.pem
expect_in out.txt "verified: $receipt"
expect_in out.txt "chains to CN=owner-ca"
expect_exit 0 "$VOUCH" receipt verify "$receipt" --voucher "$voucher"
expect_exit 0 "$VOUCH" receipt verify "$receipt" --device-key dev/device.pub
expect_exit 0 "$VOUCH" receipt verify "$receipt" --trust owner-ca.pem --voucher "$voucher" --device-key dev/device.pub --json
expect_in out.txt '"verified": true'
expect_in out.txt "\"device-key\": \"$udf\""
expect_in out.txt '"generation": 1'
expect_in out.txt "\"voucher-id\": \"$(basename "$voucher" .vjj)\""
expect_in out.txt '"device-key-checked": true'
expect_in out.txt '"anchor": "CN=owner-ca"'
# A receipt checked against nothing proves only that someone holds two keys.
expect_exit 2 "$VOUCH" receipt verify "$receipt"
expect_in err.txt "(usage)"
expect_exit 2 "$VOUCH" receipt verify "$receipt" --device-key dev/device.pub --no-time
expect_exit 0 "$VOUCH" receipt verify --help
expect_in out.txt "Example"
# Against the wrong things.
expect_exit 1 "$VOUCH" receipt verify "$receipt" --trust other-ca.pem
expect_in err.txt "(untrusted-signer)"
expect_exit 1 "$VOUCH" receipt verify "$receipt" --trust mfr-root.pem --json
expect_in out.txt '"verified": false'
expect_exit 0 "$VOUCH" key new --out stranger.key --public-out stranger.pub
expect_exit 1 "$VOUCH" receipt verify "$receipt" --device-key stranger.pub
expect_in err.txt "(wrong-device)"
expect_exit 0 "$VOUCH_DEVICE" init --state dev-b --serial SN-2 --trust mfr-root.pem
udf_b=$(cat out.txt)
mkdir -p stick-b/vouch-receipts
issue_to dev-b SN-2 stick-b
voucher_b=$(ls stick-b/vouchers/*/*/"$udf_b"/*.vjj)
expect_exit 1 "$VOUCH" receipt verify "$receipt" --voucher "$voucher_b"
expect_in err.txt "(id-mismatch)"

# The openssl CLI checks both signatures: z's under the device's z.pub, x's under device.pub.
split_jws "$receipt" > kids.txt
expect_same "$(sed -n 1p kids.txt)" "$(key_udf dev/current/z.pub)"
expect_same "$(sed -n 2p kids.txt)" "$udf"
expect_same "$(payload_member combined-key)" "$(openssl pkey -pubin -in dev/current/z.pub -outform DER | base64 -w0)"
expect_same "$(payload_member device-public-key)" "$(openssl pkey -pubin -in dev/device.pub -outform DER | base64 -w0)"
es256_der sig0.raw sig0.der
es256_der sig1.raw sig1.der
openssl dgst -sha256 -verify dev/current/z.pub -signature sig0.der input0.txt >/dev/null || fail "openssl: z's signature"
openssl dgst -sha256 -verify dev/device.pub -signature sig1.der input1.txt >/dev/null || fail "openssl: x's signature"
ok
# ... and not crosswise: the first signature is z's, not x's.
if openssl dgst -sha256 -verify dev/device.pub -signature sig0.der input0.txt >/dev/null 2>&1; then fail "sig0 verifies under X"; fi
ok
# The certificate in the receipt is the device's certificate for Z, and openssl chains it.
payload_member certificate | base64 -d > zcert.der
openssl verify -CAfile owner-ca.pem <(openssl x509 -inform DER -in zcert.der) >/dev/null || fail "openssl verify: certificate for Z"
ok
cmp -s <(openssl x509 -in dev/current/certificate.pem -outform DER) zcert.der || fail "not the device's certificate"
ok

# A tampered receipt (generation 1 -> 2 in the payload, signatures kept) is refused.
python3 - "$receipt" > tampered.vrj <<'PY'
import base64, json, sys
doc = json.load(open(sys.argv[1]))
p = json.loads(base64.urlsafe_b64decode(doc["payload"] + "=" * (-len(doc["payload"]) % 4)))
p["vouch-receipt"]["generation"] = 2
doc["payload"] = base64.urlsafe_b64encode(json.dumps(p, separators=(",", ":")).encode()).decode().rstrip("=")
print(json.dumps(doc, separators=(",", ":")), end="")
PY
expect_exit 1 "$VOUCH" receipt verify tampered.vrj --device-key dev/device.pub
expect_in err.txt "(bad-signature)"
head -c 16385 /dev/zero | tr '\0' ' ' > big.vrj
expect_exit 1 "$VOUCH" receipt verify big.vrj --device-key dev/device.pub
expect_in err.txt "(too-large)"

# Nothing applied, nothing written: a fetch that changes nothing, and a dry run.
expect_exit 0 "$VOUCH_DEVICE" fetch --state dev stick --receipts --json
expect_in out.txt '"outcome": "already-current"'
expect_in out.txt '"receipts": []'
expect_same "$(find stick/vouch-receipts -type f | wc -l)" 1
expect_exit 0 "$VOUCH_DEVICE" fetch --state dev-b stick-b --receipts --dry-run
expect_same "$(find stick-b/vouch-receipts -type f | wc -l)" 0
# A stick without the folder is not written to at all.
mkdir -p plain
issue_to dev-b SN-2 plain
expect_exit 0 "$VOUCH_DEVICE" fetch --state dev-b plain --receipts --json
expect_in out.txt '"receipts": []'
[ ! -e plain/vouch-receipts ] || fail "a receipts folder was made on a stick that did not ask"; ok

# On demand.
expect_exit 0 "$VOUCH_DEVICE" receipt --state dev --out stick/vouch-receipts --json
expect_in out.txt '"generation": 1'
expect_exit 0 "$VOUCH" receipt verify "$(python3 -c "import json; print(json.load(open('out.txt'))['path'])")" --device-key dev/device.pub

# --- x25519: EdDSA receipts, verified by openssl pkeyutl -rawin ------------------------------
expect_exit 0 "$VOUCH_DEVICE" init --state devx --serial SN-X --trust mfr-root.pem --suite x25519
udfx=$(cat out.txt)
mkdir -p stickx/vouch-receipts
issue_to devx SN-X stickx
expect_exit 0 "$VOUCH_DEVICE" fetch --state devx stickx --receipts
expect_in out.txt "receipt     stickx/vouch-receipts/$(layout_dir "$udfx")/"
receiptx=$(ls stickx/vouch-receipts/*/*/"$udfx"/*.vrj)
expect_exit 0 "$VOUCH" receipt verify "$receiptx" --trust owner-ca.pem --device-key devx/device.pub \
  --voucher "$(ls stickx/vouchers/*/*/"$udfx"/*.vjj)"
split_jws "$receiptx" > /dev/null
expect_same "$(stat -c %s sig0.raw) $(stat -c %s sig1.raw)" "64 64"
openssl pkeyutl -verify -pubin -inkey devx/current/z.pub -rawin -in input0.txt -sigfile sig0.raw >/dev/null \
  || fail "openssl: z's Ed25519 signature"
openssl pkeyutl -verify -pubin -inkey devx/device.pub -rawin -in input1.txt -sigfile sig1.raw >/dev/null \
  || fail "openssl: x's Ed25519 signature"
ok
# EdDSA is deterministic: asked again, the device has the same receipt, and the file is kept.
cp "$receiptx" kept.vrj
expect_exit 1 "$VOUCH_DEVICE" receipt --state devx --out stickx/vouch-receipts
expect_in err.txt "(exists)"
cmp -s "$receiptx" kept.vrj || fail "an existing receipt was changed"; ok

# --- Hostile sticks --------------------------------------------------------------------------
# vouch-receipts a link to a directory elsewhere: nothing is written there; the enrollment
# stands and exits 0; the refusal is reported.
expect_exit 0 "$VOUCH_DEVICE" init --state dev-c --serial SN-3 --trust mfr-root.pem
mkdir -p stick-c elsewhere
ln -s ../elsewhere stick-c/vouch-receipts
issue_to dev-c SN-3 stick-c
expect_exit 0 "$VOUCH_DEVICE" fetch --state dev-c stick-c --receipts --json
expect_in out.txt '"outcome": "enrolled"'
expect_in out.txt '"code": "symlink-entry"'
expect_same "$(find elsewhere | wc -l)" 1
expect_exit 1 "$VOUCH_DEVICE" receipt --state dev-c --out stick-c/vouch-receipts
expect_in err.txt "(symlink-entry)"
expect_same "$(find elsewhere | wc -l)" 1
# A link inside the folder, where the device's prefix directory belongs.
c=$(layout_dir "$(key_udf dev-c/device.pub)")
rm stick-c/vouch-receipts && mkdir -p stick-c/vouch-receipts
ln -s ../../elsewhere "stick-c/vouch-receipts/${c%%/*}"
expect_exit 1 "$VOUCH_DEVICE" receipt --state dev-c --out stick-c/vouch-receipts
expect_in err.txt "(symlink-entry)"
expect_same "$(find elsewhere | wc -l)" 1
# A FIFO at the device's directory: never opened (the command returns), nothing written.
rm "stick-c/vouch-receipts/${c%%/*}"
mkdir -p "stick-c/vouch-receipts/${c%/*}"
mkfifo "stick-c/vouch-receipts/$c"
expect_exit 1 timeout 10 "$VOUCH_DEVICE" receipt --state dev-c --out stick-c/vouch-receipts
expect_in err.txt "not a directory"
expect_same "$(find stick-c/vouch-receipts -type f | wc -l)" 0

finish
