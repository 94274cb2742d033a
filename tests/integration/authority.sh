#!/usr/bin/env bash
# Who may sign (DESIGN.md 3a) and what created-on a signer signs (section 5), through the built
# tools, against vouchers an attacker makes with the openssl CLI: one fleet device's certificate
# for Z signing for its sibling, a TLS-server-only leaf, a request dated 9999; and what
# --device-key says when it is given a certificate.
. "$(dirname "$0")/lib.sh"

EKU=2.25.164331488097752279131811806320366594043  # the vouch voucher-signing EKU

# sign_jws (lib.sh) makes a JWS with openssl alone.
# sign_cms OUT KEY CERT PAYLOAD: a CMS voucher made by openssl alone.
sign_cms() {
  openssl cms -sign -binary -nodetach -in "$4" -signer "$3" -inkey "$2" -md sha256 -outform DER \
    -econtent_type 1.2.840.113549.1.9.16.1.40 -out "$1" 2>/dev/null || fail "openssl cms -sign $1"
}
jws_payload() { sed -n 's/.*"payload":"\([^"]*\)".*/\1/p' "$1" | unb64url; }
# leaf_with NAME ISSUER EXTENSIONS: NAME.key / NAME.pem, signed by ISSUER, with exactly these
# v3 extensions (openssl x509 -extfile syntax, \n between lines).
leaf_with() {
  openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$1.key" -out "$1.csr" -subj "/CN=$1" 2>/dev/null
  printf '%b\n' "$3" > "$1.ext"
  openssl x509 -req -in "$1.csr" -CA "$2.pem" -CAkey "$2.key" -CAcreateserial -out "$1.pem" -days 30 \
    -extfile "$1.ext" 2>/dev/null || fail "leaf_with $1"
}
# The device's state, but for its lock file (which the first accept creates, empty).
state_of() { find "$1" -type f ! -path "$1/lock" -exec sha256sum {} + | sort; }
# refused_by_device STATE FILE CODE: exit 4 with CODE, and the state byte for byte as it was.
refused_by_device() {
  local before
  before=$(state_of "$1")
  expect_exit 4 "$VOUCH_DEVICE" accept --state "$1" "$2"
  expect_in out.txt "($3)"
  expect_same "$(state_of "$1")" "$before"
}
issue() { # DEVICE-DIR SERIAL OUT SIGNER-ARGS...: a voucher for that device, Z certified by the owner
  local dev=$1 serial=$2 out=$3
  shift 3
  "$VOUCH" issue --device-key "$dev/device.pub" --serial "$serial" --domain-ca owner-ca.pem \
    --domain-ca-key owner-ca.key --out "$out" "$@"
}

make_ca mfr
make_ca owner-ca
for n in 1 2 3; do
  expect_exit 0 "$VOUCH_DEVICE" init --state dev$n --serial SN-$n --trust mfr.pem --clock untrusted
done

# --- One device of a fleet must not re-key another -------------------------------------------
for n in 1 2; do
  expect_exit 0 issue dev$n SN-$n v$n.vjj --signer-key mfr.key --signer-cert mfr.pem
  expect_exit 0 "$VOUCH_DEVICE" accept --state dev$n v$n.vjj
  expect_in out.txt "enrolled"
done
# The certificate vouch issued for Z names clientAuth, not voucher signing.
openssl x509 -in dev1/current/certificate.pem -noout -ext extendedKeyUsage > eku.txt
expect_in eku.txt "TLS Web Client Authentication"
grep -q "$EKU" eku.txt && fail "the certificate for Z carries the voucher-signing EKU"; ok

# With device 1's z.key and certificate.pem, vouch itself refuses to sign for device 2.
expect_exit 1 issue dev2 SN-2 evil.vjj --signer-key dev1/current/z.key --signer-cert dev1/current/certificate.pem
expect_in err.txt "(signer-not-authorized)"
[ ! -e evil.vjj ] || fail "a refused issue wrote evil.vjj"; ok
# So the attacker signs with openssl: a genuine payload for device 2 (newer than its current
# voucher), re-signed by device 1, in CMS and in JWS. Every verifier refuses it, and device 2.
sleep 1  # created-on has one-second resolution: fresh2 is newer than dev2's voucher
expect_exit 0 issue dev2 SN-2 fresh2.vjj --signer-key mfr.key --signer-cert mfr.pem
jws_payload fresh2.vjj > payload2.json
expect_in payload2.json '"serial-number":"SN-2"'
sign_cms evil.vcj dev1/current/z.key dev1/current/certificate.pem payload2.json
sign_jws evil.vjj voucher-jws+json dev1/current/z.key payload2.json dev1/current/certificate.pem
for f in evil.vcj evil.vjj; do
  expect_exit 1 "$VOUCH" verify "$f" --trust owner-ca.pem
  expect_in err.txt "(signer-not-authorized)"
  refused_by_device dev2 "$f" signer-not-authorized
done
# A certificate for Z as vouch made it before (no extendedKeyUsage) passes the rules every
# verifier applies, so `vouch verify` against the owner says yes; device 2 still refuses it:
# under its owner only the domain certificate or an explicit voucher signer may sign.
openssl req -new -key dev1/current/z.key -subj "/CN=SN-1" -out legacy.csr
printf 'basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\n' > legacy.ext
openssl x509 -req -in legacy.csr -CA owner-ca.pem -CAkey owner-ca.key -CAcreateserial -days 30 \
  -extfile legacy.ext -out legacy.pem 2>/dev/null
sign_cms legacy.vcj dev1/current/z.key legacy.pem payload2.json
expect_exit 0 "$VOUCH" verify legacy.vcj --trust owner-ca.pem
refused_by_device dev2 legacy.vcj signer-not-authorized
# Device 1's certificate cannot ask a manufacturer for a voucher in the owner's name either.
expect_exit 0 "$VOUCH" request --device-key dev2/device.pub --serial SN-2 --domain-ca owner-ca.pem \
  --domain-ca-key owner-ca.key --out genuine.vrq
jws_payload genuine.vrq > request.json
sign_jws by-device.vrq vouch-request+json dev1/current/z.key request.json dev1/current/certificate.pem owner-ca.pem
expect_exit 1 "$VOUCH" sign --request by-device.vrq --device-key dev2/device.pub --signer-key mfr.key \
  --signer-cert mfr.pem --out x.vjj
expect_in err.txt "(signer-not-authorized)"

# --- Key usages under the manufacturer ---------------------------------------------------------
leaf_with tls mfr 'keyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth'
leaf_with ka mfr 'keyUsage=critical,keyAgreement'
leaf_with sub mfr 'basicConstraints=critical,CA:TRUE\nkeyUsage=critical,keyCertSign,cRLSign'
leaf_with signer mfr "keyUsage=critical,digitalSignature\nextendedKeyUsage=$EKU"
for who in tls ka sub; do
  expect_exit 1 issue dev3 SN-3 never.vjj --signer-key $who.key --signer-cert $who.pem --chain mfr.pem
  expect_in err.txt "(signer-not-authorized)"
done
expect_exit 0 issue dev3 SN-3 for3.vjj --signer-key signer.key --signer-cert signer.pem --chain mfr.pem
jws_payload for3.vjj > payload3.json
for who in tls ka sub; do
  sign_cms $who.vcj $who.key $who.pem payload3.json
  sign_jws $who.vjj voucher-jws+json $who.key payload3.json $who.pem mfr.pem
  for f in $who.vcj $who.vjj; do
    expect_exit 1 "$VOUCH" verify "$f" --trust mfr.pem
    expect_in err.txt "(signer-not-authorized)"
    refused_by_device dev3 "$f" signer-not-authorized
  done
done
# The same payload from a signer with the voucher-signing EKU is applied: the refusals above
# are about the signers, not the vouchers.
sign_jws good3.vjj voucher-jws+json signer.key payload3.json signer.pem mfr.pem
expect_exit 0 "$VOUCH" verify good3.vjj --trust mfr.pem
expect_exit 0 "$VOUCH_DEVICE" accept --state dev3 good3.vjj
expect_in out.txt "enrolled"

# --- created-on ---------------------------------------------------------------------------------
# An owner's request re-signed by the owner with another created-on (what a hostile or broken
# owner tool can send). Unchanged, it is signed: the crafting is sound.
resign_request() { # OUT CREATED-ON
  local inner
  inner=$(sed -n 's/.*"voucher":"\([^"]*\)".*/\1/p' request.json | base64 -d |
    sed "s/\"created-on\":\"[^\"]*\"/\"created-on\":\"$2\"/" | base64 -w0)
  sed "s|\"voucher\":\"[^\"]*\"|\"voucher\":\"$inner\"|" request.json > request2.json
  sign_jws "$1" vouch-request+json owner-ca.key request2.json owner-ca.pem
}
now=$(date -u +%Y-%m-%dT%H:%M:%SZ)
resign_request now.vrq "$now"
expect_exit 0 "$VOUCH" sign --request now.vrq --device-key dev2/device.pub --signer-key mfr.key --signer-cert mfr.pem --out now.vjj
resign_request far.vrq 9999-12-31T00:00:00Z
expect_exit 1 "$VOUCH" sign --request far.vrq --device-key dev2/device.pub --signer-key mfr.key --signer-cert mfr.pem --out far.vjj
expect_in err.txt "(not-yet-valid)"
expect_in err.txt "9999-12-31T00:00:00Z"
[ ! -e far.vjj ] || fail "a refused sign wrote far.vjj"; ok
resign_request ahead.vrq "$(date -u -d '+10 minutes' +%Y-%m-%dT%H:%M:%SZ)"
expect_exit 1 "$VOUCH" sign --request ahead.vrq --device-key dev2/device.pub --signer-key mfr.key --signer-cert mfr.pem --out x.vjj
expect_in err.txt "(not-yet-valid)"
resign_request old.vrq "$(date -u -d '-31 days' +%Y-%m-%dT%H:%M:%SZ)"
expect_exit 1 "$VOUCH" sign --request old.vrq --device-key dev2/device.pub --signer-key mfr.key --signer-cert mfr.pem --out x.vjj
expect_in err.txt "(expired)"
# A device without a clock refuses a voucher dated past its horizon (five years past what it
# knows) even from its manufacturer, and applies one inside it.
expect_exit 0 "$VOUCH_DEVICE" init --state dev4 --serial SN-4 --trust mfr.pem --clock untrusted
expect_exit 0 issue dev4 SN-4 for4.vjj --signer-key mfr.key --signer-cert mfr.pem
jws_payload for4.vjj | sed 's/"created-on":"[^"]*"/"created-on":"9999-12-31T00:00:00Z"/' > far4.json
sign_jws far4.vjj voucher-jws+json mfr.key far4.json mfr.pem
refused_by_device dev4 far4.vjj not-yet-valid
jws_payload for4.vjj | sed "s/\"created-on\":\"[^\"]*\"/\"created-on\":\"$(date -u -d '+4 years' +%Y-%m-%dT%H:%M:%SZ)\"/" > near4.json
sign_jws near4.vjj voucher-jws+json mfr.key near4.json mfr.pem
expect_exit 0 "$VOUCH_DEVICE" accept --state dev4 near4.vjj
expect_in out.txt "enrolled"

# --- A certificate where a key is expected -------------------------------------------------------
for flag in issue request; do
  if [ $flag = issue ]; then
    args=(issue --serial SN-2 --signer-key mfr.key --signer-cert mfr.pem --domain-ca owner-ca.pem --out x.vjj)
  else
    args=(request --serial SN-2 --domain-ca owner-ca.pem --domain-ca-key owner-ca.key --out x.vrq)
  fi
  expect_exit 1 "$VOUCH" "${args[@]}" --device-key dev1/current/certificate.pem
  expect_in err.txt "--device-key: dev1/current/certificate.pem: key text is a PEM CERTIFICATE, not a public key"
  expect_in err.txt "expected a PEM PUBLIC KEY"
  expect_in err.txt "(malformed)"
done
openssl x509 -in owner-ca.pem -outform DER -out owner-ca.der
expect_exit 1 "$VOUCH" sign --request genuine.vrq --device-key owner-ca.der --signer-key mfr.key --signer-cert mfr.pem --out x.vjj
expect_in err.txt "--device-key: owner-ca.der: key text is a DER certificate, not a public key"
expect_exit 1 issue dev2 SN-2 x.vjj --signer-key mfr.pem --signer-cert mfr.pem
expect_in err.txt "--signer-key: mfr.pem: key text is a PEM CERTIFICATE, not a private key"
grep -q "unencrypted PEM private key" err.txt && fail "the old, misleading message is back"; ok

# --- The owner itself still re-keys its devices ----------------------------------------------------
# Its domain certificate signs, and so does a certificate it issued with the voucher-signing EKU.
sleep 1  # created-on has one-second resolution: later than dev1's and dev2's first vouchers
expect_exit 0 issue dev2 SN-2 rekey.vcj --signer-key owner-ca.key --signer-cert owner-ca.pem --format cms
expect_exit 0 "$VOUCH_DEVICE" accept --state dev2 rekey.vcj
expect_in out.txt "enrolled"
leaf_with owner-signer owner-ca "keyUsage=critical,digitalSignature\nextendedKeyUsage=$EKU"
expect_exit 0 issue dev1 SN-1 rekey1.vjj --signer-key owner-signer.key --signer-cert owner-signer.pem --chain owner-ca.pem
expect_exit 0 "$VOUCH_DEVICE" accept --state dev1 rekey1.vjj
expect_in out.txt "enrolled"
finish
