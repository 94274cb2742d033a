#!/usr/bin/env bash
# The owner / manufacturer split: `vouch request` by the owner, `vouch sign` by the
# manufacturer, who checks the request against the device it has on record and never sees y.
. "$(dirname "$0")/lib.sh"

make_ca mfr
make_ca owner-ca
make_ca other-owner
expect_exit 0 "$VOUCH_DEVICE" init --state dev --serial SN-7 --trust mfr.pem
expect_exit 0 "$VOUCH" request --device-key dev/device.pub --serial SN-7 --domain-ca owner-ca.pem \
  --domain-ca-key owner-ca.key --expires-in 7d --out sn7.vrq
# Nothing in the request decrypts without the device key: it carries no private material.
grep -q "PRIVATE" sn7.vrq && fail "request contains private key material"; ok

expect_exit 0 "$VOUCH" sign --request sn7.vrq --device-key dev/device.pub --signer-key mfr.key \
  --signer-cert mfr.pem --owner owner-ca.pem --out-dir stick --json
expect_in out.txt '"serial-number": "SN-7"'
path=$(sed -n 's/.*"path": "\(.*\)".*/\1/p' out.txt)
expect_exit 0 "$VOUCH_DEVICE" accept --state dev "$path"
expect_in out.txt "enrolled"

# The manufacturer's record says another key: refused as wrong-device, nothing written.
"$VOUCH" key new --out other.key --public-out other.pub >/dev/null
expect_exit 1 "$VOUCH" sign --request sn7.vrq --device-key other.pub --signer-key mfr.key --signer-cert mfr.pem --out x.vjj
expect_in err.txt "(wrong-device)"
[ ! -e x.vjj ] || fail "refused sign wrote x.vjj"; ok
# A devices file looked up by serial; a serial not on record is refused.
printf 'serial,key\nSN-7,%s\n' "$(openssl pkey -pubin -in dev/device.pub -outform DER | base64 -w0)" > devices.csv
expect_exit 0 "$VOUCH" sign --request sn7.vrq --devices devices.csv --signer-key mfr.key --signer-cert mfr.pem --out y.vjj
printf 'SN-8,%s\n' "$(openssl pkey -pubin -in dev/device.pub -outform DER | base64 -w0)" > others.csv
expect_exit 1 "$VOUCH" sign --request sn7.vrq --devices others.csv --signer-key mfr.key --signer-cert mfr.pem --out z.vjj
expect_in err.txt "(wrong-serial)"
# Requests from an owner the manufacturer does not serve are refused.
expect_exit 1 "$VOUCH" sign --request sn7.vrq --device-key dev/device.pub --signer-key mfr.key \
  --signer-cert mfr.pem --owner other-owner.pem --out z.vjj
expect_in err.txt "(untrusted-signer)"
# A request whose payload was altered fails its owner signature.
sed 's/"payload":"eyJ/"payload":"eyK/' sn7.vrq > bad.vrq
expect_exit 1 "$VOUCH" sign --request bad.vrq --device-key dev/device.pub --signer-key mfr.key --signer-cert mfr.pem --out z.vjj
finish
