#!/usr/bin/env bash
# The owner's view (issue 14): vouchers for three devices in a cache, one device enrolls from a
# stick and writes its receipt there (vouch-device receipt), the stick comes back and is
# imported, and `vouch cache status` says that device, and only it, has enrolled. Receipts stay
# out of lists and bundles, travel with pulls, and are refused without their voucher.
. "$(dirname "$0")/lib.sh"

make_ca mfr-root
make_leaf mfr-signer mfr-root
make_ca owner-ca
export VOUCH_CACHE="$T/cache.git"

# json EXPR: evaluates a python expression on out.txt's JSON document (as `d`).
json() { python3 -c "import json,sys; d=json.load(open('out.txt')); print($1)"; }

udfs=()
for n in 1 2 3; do
  expect_exit 0 "$VOUCH_DEVICE" init --state "dev$n" --serial "SN-$n" --trust mfr-root.pem --clock trusted
  udfs+=("$(cat out.txt)")
  expect_exit 0 "$VOUCH" issue --device-key "dev$n/device.pub" --serial "SN-$n" --signer-key mfr-signer.key \
    --signer-cert mfr-signer.pem --chain mfr-root.pem --domain-ca owner-ca.pem --domain-ca-key owner-ca.key --out-dir issued
done
expect_exit 0 "$VOUCH_DEVICE" init --state dev4 --serial SN-4 --trust mfr-root.pem --clock trusted
absent=$(cat out.txt)   # a device the owner never issued for

expect_exit 0 "$VOUCH" cache init --trust mfr-root.pem
expect_exit 0 "$VOUCH" cache import issued
expect_in out.txt "added 3, already present 0, refused 0, receipts added 0"
expect_exit 0 "$VOUCH" cache status --json
expect_same "$(json 'd["summary"]["devices"], d["summary"]["enrolled"], d["summary"]["renewal-due"]')" "3 0 0"

# Device 1 enrolls from the stick, then writes its receipt onto it.
cp -r issued stick
mkdir stick/vouch-receipts
expect_exit 0 "$VOUCH_DEVICE" fetch --state dev1 stick --json
expect_in out.txt '"outcome": "enrolled"'
expect_exit 0 "$VOUCH_DEVICE" receipt --state dev1 --out stick/vouch-receipts --json
receipt_id=$(json 'd["id"]')
voucher_id=$(json 'd["voucher-id"]')

# The stick comes back: its root is imported, vouchers (already held) and the receipt.
expect_exit 0 "$VOUCH" cache import stick --json
expect_same "$(json 'd["added"], d["receipts-added"], d["present"], len(d["refused"])')" "0 1 3 0"
expect_exit 0 "$VOUCH" cache import stick
expect_in out.txt "added 0, already present 4, refused 0, receipts added 0"   # the same again: a no-op
c=$(echo "${udfs[0]}" | tr -d -)
[ -n "$(git --git-dir "$VOUCH_CACHE" ls-tree -r --name-only refs/heads/vouchers "receipts/${c:1:2}/${c:3:2}/${udfs[0]}/$receipt_id.vrj")" ] ||
  fail "the receipt is not at receipts/<c1c2>/<c3c4>/<UDF>/<ID>.vrj"; ok
expect_exit 0 "$VOUCH" cache verify

expect_exit 0 "$VOUCH" cache status --json
expect_same "$(json '[x["device"] for x in d["devices"] if x["enrolled"]]')" "['${udfs[0]}']"
expect_same "$(json '[x["enrolled"]["generation"] for x in d["devices"] if x["enrolled"]]')" "[1]"
expect_same "$(json '[x["enrolled"]["voucher-id"] for x in d["devices"] if x["enrolled"]]')" "['$voucher_id']"
expect_same "$(json 'sorted(x["vouchers"] for x in d["devices"])')" "[1, 1, 1]"
expect_same "$(json 'd["summary"]["enrolled"], d["summary"]["renewal-due"]')" "1 0"
expect_exit 0 "$VOUCH" cache status
expect_in out.txt "3 devices, 1 enrolled, 0 renewal due"
expect_in out.txt "${udfs[0]}  vouchers 1  newest $voucher_id"
expect_in out.txt "enrolled generation 1 at"
# Renewal: every certificate for Z ends within ten years and a day; judged at another time too.
expect_exit 0 "$VOUCH" cache status --within 3651d
expect_in out.txt "3 devices, 1 enrolled, 3 renewal due"
expect_exit 0 "$VOUCH" cache status --at 2020-01-01T00:00:00Z --json
expect_same "$(json 'd["summary"]["renewal-due"]')" "0"
expect_exit 2 "$VOUCH" cache status --within soon
expect_in err.txt "--within"

# A devices file, as `vouch log monitor --devices` reads it: a device absent from the cache too.
printf '# fleet\n%s,SN-2\n%s\n' "${udfs[1]}" "$absent" > fleet.csv
expect_exit 0 "$VOUCH" cache status --devices fleet.csv --json
expect_same "$(json 'len(d["devices"])')" "2"
expect_same "$(json '[(x["vouchers"], x["renewal"]) for x in d["devices"] if x["device"] == "'"$absent"'"]')" "[(0, 'no-voucher')]"
expect_same "$(json '[(x["vouchers"], x["renewal"]) for x in d["devices"] if x["device"] == "'"${udfs[1]}"'"]')" "[(1, 'not-due')]"
printf 'not-a-udf\n' > bad.txt
expect_exit 1 "$VOUCH" cache status --devices bad.txt
expect_in err.txt "(malformed)"

# Receipts stay out of lists and bundles.
expect_exit 0 "$VOUCH" cache list --json
expect_in out.txt '"count": 3'
expect_exit 0 "$VOUCH" bundle create --cache --out bundles
expect_exit 0 "$VOUCH" bundle list bundles/*.vbundle --json
expect_in out.txt '"count": 3'

# A pull carries the receipt; the mirror's status agrees.
expect_exit 0 "$VOUCH" cache init --cache mirror.git
expect_exit 0 "$VOUCH" cache pull "$VOUCH_CACHE" --cache mirror.git --json
expect_same "$(json 'd["new-vouchers"], d["new-receipts"]')" "3 1"
expect_exit 0 "$VOUCH" cache status --cache mirror.git --json
expect_same "$(json 'd["summary"]["enrolled"]')" "1"

# A receipt whose voucher the cache lacks is refused (and the rest of the import goes on).
expect_exit 0 "$VOUCH" cache init --cache empty.git
expect_exit 1 "$VOUCH" cache import stick/vouch-receipts --cache empty.git
expect_in err.txt "(not-found)"
expect_in out.txt "refused 1, receipts added 0"
finish
