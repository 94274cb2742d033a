#!/usr/bin/env bash
# Batch issuing for a fleet: one voucher per line, failures reported per line, batch goes on.
. "$(dirname "$0")/lib.sh"

make_ca mfr
make_ca owner-ca
echo "serial,public key" > fleet.csv
for i in $(seq 1 20); do
  "$VOUCH_DEVICE" init --state "dev$i" --serial "SN-$i" --trust mfr.pem >/dev/null
  if [ "$i" = 7 ]; then
    # A PEM key in quotes, spanning lines.
    printf 'SN-%s,"%s"\n' "$i" "$(cat "dev$i/device.pub")" >> fleet.csv
  else
    printf 'SN-%s,%s\n' "$i" "$(openssl pkey -pubin -in "dev$i/device.pub" -outform DER | base64 -w0)" >> fleet.csv
  fi
done
echo "SN-bad,bm90IGEga2V5" >> fleet.csv    # line 25 (line 7 spans 4 lines): not a key
echo ",MFkw" >> fleet.csv                   # line 26: no serial
expect_exit 1 "$VOUCH" issue --batch fleet.csv --signer-key mfr.key --signer-cert mfr.pem \
  --domain-ca owner-ca.pem --domain-ca-key owner-ca.key --out-dir stick --jobs 2
expect_in err.txt "fleet.csv line 25"
expect_in err.txt "fleet.csv line 26"
expect_in err.txt "issued 20 vouchers, 2 failed"
expect_same "$(find stick -name '*.vjj' | wc -l)" 20
for i in 1 7 20; do
  udf=$("$VOUCH" key show "dev$i/device.pub" --json | sed -n 's/.*"udf": "\(.*\)".*/\1/p')
  expect_exit 0 "$VOUCH_DEVICE" accept --state "dev$i" "$(find "stick" -path "*/$udf/*" -name '*.vjj')"
  expect_in out.txt "enrolled"
done
# --json gives the per-line report to scripts.
expect_exit 1 "$VOUCH" issue --batch fleet.csv --signer-key mfr.key --signer-cert mfr.pem \
  --domain-ca owner-ca.pem --out-dir stick2 --json
expect_in out.txt '"line": 25'

# Renewals for the enrolled devices: serial,device key,combined key per line; the device keeps
# its key and installs the new certificate. A line whose Z is not the device's current key is
# a voucher the device refuses (combined-key-mismatch); a line without a Z fails alone.
der() { openssl pkey -pubin -in "$1" -outform DER | base64 -w0; }
{
  echo "serial,device key,combined key"
  for i in 1 7; do printf 'SN-%s,%s,%s
' "$i" "$(der "dev$i/device.pub")" "$(der "dev$i/current/z.pub")"; done
  printf 'SN-20,%s,%s
' "$(der dev20/device.pub)" "$(der dev1/current/z.pub)"   # dev1's Z for dev20
  printf 'SN-3,%s
' "$(der dev3/device.pub)"                                    # no Z
} > renew.csv
sleep 1  # created-on has one-second resolution; a renewal must be strictly later than the voucher it follows
expect_exit 1 "$VOUCH" renew --batch renew.csv --signer-key owner-ca.key --signer-cert owner-ca.pem \
  --domain-ca owner-ca.pem --domain-ca-key owner-ca.key --out-dir renewals --json
expect_in err.txt "renew.csv line 5"
expect_in err.txt "issued 3 vouchers, 1 failed"
for i in 1 7; do
  z=$(cat "dev$i/current/z.pub")
  udf=$("$VOUCH" key show "dev$i/device.pub" --json | sed -n 's/.*"udf": "\(.*\)".*/\1/p')
  expect_exit 0 "$VOUCH_DEVICE" accept --state "dev$i" "$(find renewals -path "*/$udf/*" -name '*.vjj')" --json
  expect_in out.txt '"change": "renewed"'
  expect_same "$(cat "dev$i/current/z.pub")" "$z"
  openssl verify -CAfile owner-ca.pem "dev$i/current/certificate.pem" >/dev/null || fail "renewed certificate does not chain"; ok
done
udf=$("$VOUCH" key show dev20/device.pub --json | sed -n 's/.*"udf": "\(.*\)".*/\1/p')
expect_exit 4 "$VOUCH_DEVICE" accept --state dev20 "$(find renewals -path "*/$udf/*" -name '*.vjj')"
expect_in out.txt "(combined-key-mismatch)"
finish
