#!/usr/bin/env bash
# Issue with the built vouch, check CMS with `openssl cms -verify`, enroll with the built
# vouch-device, and prove with the openssl CLI that the installed z matches the voucher's Z.
. "$(dirname "$0")/lib.sh"

make_ca mfr-root
make_leaf mfr-signer mfr-root
make_ca owner-ca

expect_exit 0 "$VOUCH_DEVICE" init --state dev --serial SN-1 --trust mfr-root.pem --clock trusted
udf=$(cat out.txt)
expect_same "$(stat -c %a dev)" 700
expect_same "$(stat -c %a dev/device.key)" 600

# CMS voucher, checked by OpenSSL's own CMS implementation against the manufacturer root.
expect_exit 0 "$VOUCH" issue --device-key dev/device.pub --serial SN-1 --signer-key mfr-signer.key \
  --signer-cert mfr-signer.pem --domain-ca owner-ca.pem --domain-ca-key owner-ca.key --format cms \
  --expires-in 30d --out v1.vcj
openssl cms -verify -binary -inform DER -in v1.vcj -CAfile mfr-root.pem -out payload.json 2>err.txt \
  || fail "openssl cms -verify refused our CMS voucher: $(cat err.txt)"
ok
expect_in payload.json "\"device-key\":\"$udf\""
openssl cms -cmsout -print -inform DER -in v1.vcj > cms.txt
expect_in cms.txt "(1.2.840.113549.1.9.16.1.40)"
expect_in cms.txt "signedAttrs:"

expect_exit 0 "$VOUCH" verify v1.vcj --trust mfr-root.pem
expect_in out.txt "verified: v1.vcj"

expect_exit 0 "$VOUCH_DEVICE" accept --state dev v1.vcj
expect_in out.txt "enrolled"
# The public key of the installed z, computed by openssl from z.key, is the combined key the
# voucher carries (read from the payload openssl extracted, not through vouch).
z_der=$(openssl pkey -in dev/current/z.key -pubout -outform DER | base64 -w0)
combined=$(sed -n 's/.*"combined-key":"\([^"]*\)".*/\1/p' payload.json)
expect_same "$z_der" "$combined"
expect_same "$(stat -c %a dev/current/z.key)" 600
# The certificate for Z carries z's public key and chains to the owner CA (openssl verify).
openssl verify -CAfile owner-ca.pem dev/current/certificate.pem >/dev/null || fail "certificate for Z does not chain to the owner CA"
ok
expect_same "$(openssl x509 -in dev/current/certificate.pem -pubkey -noout | openssl pkey -pubin -outform DER | base64 -w0)" "$z_der"

# Replaying is a no-op; an older voucher is refused with exit 4 and its code.
expect_exit 0 "$VOUCH_DEVICE" accept --state dev v1.vcj
expect_in out.txt "already-current"
sleep 1  # created-on has one-second resolution; v2 must be strictly later than v1
expect_exit 0 "$VOUCH" issue --device-key dev/device.pub --serial SN-1 --signer-key mfr-signer.key \
  --signer-cert mfr-signer.pem --chain mfr-root.pem --domain-ca owner-ca.pem --out v2.vjj
expect_exit 0 "$VOUCH_DEVICE" accept --state dev v2.vjj --json
expect_in out.txt '"outcome": "enrolled"'
expect_exit 4 "$VOUCH_DEVICE" accept --state dev v1.vcj
expect_in out.txt "(rollback)"

# Tampering with one byte of the signed payload: refused, state unchanged.
before=$(find dev -type f -exec sha256sum {} + | sort)
sed 's/"payload":"eyJ/"payload":"eyK/' v2.vjj > tampered.vjj
expect_exit 4 "$VOUCH_DEVICE" accept --state dev tampered.vjj
expect_in out.txt "bad-signature"
expect_same "$(find dev -type f -exec sha256sum {} + | sort)" "$before"

# A voucher signed by a key the device does not trust.
make_ca stranger
expect_exit 0 "$VOUCH" issue --device-key dev/device.pub --serial SN-1 --signer-key stranger.key \
  --signer-cert stranger.pem --domain-ca owner-ca.pem --out v3.vjj
expect_exit 4 "$VOUCH_DEVICE" accept --state dev v3.vjj
expect_in out.txt "untrusted-signer"

# Oversize input is refused as too large, not read.
head -c 70000 /dev/zero > big.vjj
expect_exit 4 "$VOUCH_DEVICE" accept --state dev big.vjj
expect_in out.txt "too-large"

# Usage errors exit 2; a missing file exits 1 and names it.
expect_exit 2 "$VOUCH_DEVICE" accept --state dev
expect_exit 2 "$VOUCH" issue --bogus-flag
expect_exit 1 "$VOUCH_DEVICE" accept --state dev missing.vjj
expect_in err.txt "missing.vjj"

# A failed issue leaves nothing behind: wrong signer key for the certificate.
expect_exit 2 "$VOUCH" issue --device-key dev/device.pub --serial SN-1 --signer-key stranger.key \
  --signer-cert mfr-signer.pem --domain-ca owner-ca.pem --out never.vjj
expect_in err.txt "is not the key of the certificate"
[ ! -e never.vjj ] || fail "a failed issue left never.vjj behind"; ok
# --out never overwrites without --force.
expect_exit 1 "$VOUCH" issue --device-key dev/device.pub --serial SN-1 --signer-key mfr-signer.key \
  --signer-cert mfr-signer.pem --domain-ca owner-ca.pem --out v2.vjj
expect_in err.txt "already exists"

# show reflects the enrollment.
expect_exit 0 "$VOUCH_DEVICE" show --state dev --json
expect_in out.txt '"enrolled": true'
expect_in out.txt '"generation": 2'
finish
