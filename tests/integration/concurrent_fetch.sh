#!/usr/bin/env bash
# Two fetches at once (udev starts one per partition) never roll a device back: with an old
# voucher on one stick and a newer one on another, every race ends on the newer voucher,
# because each decision is made again under the state lock (docs/device-state.md, "Lock").
. "$(dirname "$0")/lib.sh"
TRIALS=${VOUCH_RACE_TRIALS:-48}

make_ca mfr
"$VOUCH_DEVICE" init --state pristine --serial SN-1 --trust mfr.pem >/dev/null
issue() { "$VOUCH" issue --device-key pristine/device.pub --serial SN-1 --signer-key mfr.key --signer-cert mfr.pem \
  --domain-ca mfr.pem --domain-ca-key mfr.key --out-dir "$1" >/dev/null; }
issue old
sleep 1  # created-on has one-second resolution: "new" must be strictly later
issue new
new_id=$(basename "$(find new -name '*.vjj')" .vjj)

for i in $(seq 1 "$TRIALS"); do
  rm -rf work && cp -a pristine work
  "$VOUCH_DEVICE" fetch --state work old >/dev/null 2>&1 & a=$!
  "$VOUCH_DEVICE" fetch --state work new >/dev/null 2>&1 & b=$!
  wait "$a" || true
  wait "$b" || true
  got=$("$VOUCH_DEVICE" show --state work --json | sed -n 's/.*"voucher-id": "\(.*\)".*/\1/p')
  [ "$got" = "$new_id" ] || fail "trial $i: the device ended on $got, not the newer $new_id"
  ok
done
echo "$TRIALS races, each ended on the newer voucher"

# A fetch that cannot get the lock in time says so (exit 1, io), and changes nothing.
rm -rf work && cp -a pristine work
exec 9>work/lock
flock -x 9
expect_exit 1 timeout 120 "$VOUCH_DEVICE" fetch --state work new --lock-timeout 1
expect_in err.txt "locked by another vouch-device"
flock -u 9
exec 9>&-
finish
