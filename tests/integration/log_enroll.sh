#!/usr/bin/env bash
# Issue #12 end to end, real commands only: a manufacturer's cache is a log, two witnesses
# cosign it, a bundle cut from the cache carries each voucher's proof, and a device that
# insists on the log (2 of 2 witnesses) enrolls from the stick. The same voucher without its
# proof, after a fork the witnesses refused, or under a checkpoint only one witness cosigned,
# is refused with the state unchanged; the owner's monitor sees the voucher.
. "$(dirname "$0")/lib.sh"

make_ca mfr
make_ca owner-ca
export VOUCH_CACHE="$T/cache.git"
expect_exit 0 "$VOUCH" cache init --trust mfr.pem
expect_exit 0 "$VOUCH" log init --origin mfr.example/vouchers --key log.key
"$VOUCH" log status --json | sed -n 's/.*"vkey": "\(.*\)".*/\1/p' > log.vkey
expect_exit 0 "$VOUCH" witness init --name w1.example --key w1.key --state w1
cp out.txt w1.vkey
expect_exit 0 "$VOUCH" witness init --name w2.example --key w2.key --state w2
cp out.txt w2.vkey

insist=(--log-key log.vkey --witness w1.vkey --witness w2.vkey --witnesses 2)
for d in dev solo; do
  expect_exit 0 "$VOUCH_DEVICE" init --state "$d" --serial "SN-$d" --trust mfr.pem "${insist[@]}"
done
udf() { "$VOUCH_DEVICE" show --state "$1" --json | sed -n 's/.*"udf": "\(.*\)".*/\1/p'; }
issue() { # STATE OUTDIR
  "$VOUCH" issue --device-key "$1/device.pub" --serial "SN-$1" --signer-key mfr.key --signer-cert mfr.pem \
    --domain-ca owner-ca.pem --domain-ca-key owner-ca.key --out-dir "$2" >/dev/null
}
issue dev issued
"$MAKE_VOUCHERS" 20 others mfr.key mfr.pem
expect_exit 0 "$VOUCH" cache import issued others
expect_exit 0 "$VOUCH" witness cosign --log-key log.vkey --state w1
expect_exit 0 "$VOUCH" witness cosign --log-key log.vkey --state w2

state_hash() { (cd "$1" && find . -path ./lock -prune -o -print | sort && find . -type f ! -name lock -exec sha256sum {} + | sort); }
refused() { # CODE STATE STICK
  local before
  before=$(state_hash "$2")
  expect_exit 4 "$VOUCH_DEVICE" fetch --state "$2" "$3"
  expect_in out.txt "($1)"
  expect_same "$(state_hash "$2")" "$before"
}

# Without its proof (the plain tree vouch issue wrote): not logged.
refused not-logged dev issued

# A bundle from the logged cache carries the proof beside the voucher.
expect_exit 0 "$VOUCH" bundle create --cache --device "$(udf dev)" --out stick
bundle=$(cat out.txt)
unzip -l "$bundle" > listing.txt
expect_in listing.txt ".vjj.tlog-proof"
expect_exit 0 "$VOUCH" bundle verify "$bundle" --trust mfr.pem
# vouch verify checks a proof as the device will (here on a tree from cache get --out-dir).
expect_exit 0 "$VOUCH" cache get "$(udf dev)" --out-dir got
v=$(find got -name '*.vjj')
expect_exit 0 "$VOUCH" verify "$v" --trust mfr.pem "${insist[@]}"
expect_exit 1 "$VOUCH" verify "$(find issued -name '*.vjj')" --trust mfr.pem "${insist[@]}"
expect_in err.txt "(not-logged)"

# The device enrolls from the stick: 2 of 2 witnesses cosigned the checkpoint.
expect_exit 0 "$VOUCH_DEVICE" fetch --state dev stick
expect_in out.txt "enrolled"

# A new voucher whose checkpoint only one witness has cosigned yet: too few witnesses.
issue solo issued2
expect_exit 0 "$VOUCH" cache import issued2
expect_exit 0 "$VOUCH" witness cosign --log-key log.vkey --state w1
expect_exit 0 "$VOUCH" bundle create --cache --device "$(udf solo)" --out stick2
refused too-few-witnesses solo stick2
# Once the second witness cosigns, a fresh bundle enrolls it.
expect_exit 0 "$VOUCH" witness cosign --log-key log.vkey --state w2
expect_exit 0 "$VOUCH" bundle create --cache --device "$(udf solo)" --out stick3
expect_exit 0 "$VOUCH_DEVICE" fetch --state solo stick3
expect_in out.txt "enrolled"

# The owner watches its two devices: both vouchers logged, both expected.
printf '%s\n%s\n' "$(udf dev)" "$(udf solo)" > fleet.txt
expect_exit 0 "$VOUCH" log monitor --devices fleet.txt --expect issued --expect issued2 --state mon --log-key log.vkey --json
expect_in out.txt '"unexpected": 0'
finish
