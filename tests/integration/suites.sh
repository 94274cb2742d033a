#!/usr/bin/env bash
# Every suite the whole way (DESIGN.md 3): for p256, x25519 and x448, issue with one and with
# three contributions (two drawn by independent parties with `vouch contribute`), carry them
# on a bundle stick, fetch and enroll; the openssl CLI proves z.key holds the private key of
# the voucher's Z (through an independent Edwards-to-Montgomery map for the Edwards suites);
# `vouch verify-cert` checks the construction; openssl still parses the certificate. Then the
# refusals this layer can see, and vouchers written by the release before n contributions.
HERE=$(cd "$(dirname "$0")" && pwd)
VECTORS="$HERE/../vectors"
. "$HERE/lib.sh"

make_ca mfr-root
make_leaf mfr-signer mfr-root
make_ca owner-ca

# payload_member FILE.vjj NAME: a string member of the voucher's enrollment, read with python's
# json (not through vouch).
payload_member() {
  python3 - "$1" "$2" <<'PY'
import base64, json, sys
doc = json.load(open(sys.argv[1]))
p = doc["payload"]; p += "=" * (-len(p) % 4)
v = json.loads(base64.urlsafe_b64decode(p))["ietf-voucher:voucher"]["vouch-enroll:enrollment"]
print(v[sys.argv[2]] if sys.argv[2] != "contributions" else len(v["contribution"]))
PY
}

# proves_z STATE: the key openssl derives from STATE/current/z.key is the voucher's Z.
proves_z() {
  local z_spki
  z_spki=$(openssl pkey -pubin -in "$1/current/z.pub" -outform DER | base64 -w0)
  expect_same "$z_spki" "$2"
  case "$3" in
    p256)
      expect_same "$(openssl pkey -in "$1/current/z.key" -pubout -outform DER | base64 -w0)" "$z_spki" ;;
    x25519|x448)
      local n=32; [ "$3" = x448 ] && n=56
      local from_z from_key
      from_z=$(openssl pkey -pubin -in "$1/current/z.pub" -outform DER | python3 "$HERE/edwards_to_u.py")
      from_key=$(openssl pkey -in "$1/current/z.key" -pubout -outform DER | tail -c "$n" | od -An -tx1 -v | tr -d ' \n')
      expect_same "$from_key" "$from_z"
      # And openssl pkeyutl uses it: a Diffie-Hellman with z.key agrees with one made to z's public key.
      openssl genpkey -algorithm "$(echo "$3" | tr a-z A-Z)" -out peer.key 2>/dev/null
      openssl pkey -in peer.key -pubout -out peer.pub
      openssl pkey -in "$1/current/z.key" -pubout -out zx.pub
      openssl pkeyutl -derive -inkey "$1/current/z.key" -peerkey peer.pub -out s1.bin
      openssl pkeyutl -derive -inkey peer.key -peerkey zx.pub -out s2.bin
      cmp -s s1.bin s2.bin || fail "openssl pkeyutl -derive with z.key disagrees with its public key"
      ok ;;
  esac
}

for suite in p256 x25519 x448; do
  # The demo tells the whole story in each suite.
  expect_exit 0 "$VOUCH" demo --suite "$suite" --dir "demo-$suite"
  expect_in out.txt "(z*G == Z)"
  expect_in out.txt "it proves Z = X + 2 contributions"
  if grep -q "MISMATCH\|unexpected\|CHANGED" out.txt; then fail "demo --suite $suite went wrong"; fi; ok

  expect_exit 0 "$VOUCH_DEVICE" init --state "dev-$suite" --serial "SN-$suite" --trust mfr-root.pem --clock trusted --suite "$suite" --json
  expect_in out.txt "\"suite\": \""
  expect_exit 0 "$VOUCH_DEVICE" show --state "dev-$suite" --json
  expect_in out.txt "\"suite\": \"$(case $suite in p256) echo P256;; x25519) echo X25519;; x448) echo X448;; esac)-HPKE"
  expect_exit 0 "$VOUCH" key show "dev-$suite/device.pub" --json
  expect_in out.txt "$(case $suite in p256) echo P256;; x25519) echo X25519;; x448) echo X448;; esac)-HPKE"
  [ "$(stat -c %a "dev-$suite/device.key")" = 600 ] || fail "device.key is not 0600"; ok

  # One contribution (the issuer's own), JWS.
  expect_exit 0 "$VOUCH" issue --device-key "dev-$suite/device.pub" --serial "SN-$suite" --signer-key mfr-signer.key \
    --signer-cert mfr-signer.pem --chain mfr-root.pem --domain-ca owner-ca.pem --domain-ca-key owner-ca.key --out "one-$suite.vjj"
  expect_same "$(payload_member "one-$suite.vjj" contributions)" 1
  # Three: an escrow and a second administrator draw theirs; the issuer adds its own. CMS.
  expect_exit 0 "$VOUCH" contribute --device-key "dev-$suite/device.pub" --out "escrow-$suite.vcon"
  expect_exit 0 "$VOUCH" contribute --device-key "dev-$suite/device.pub" --out "admin-$suite.vcon" --json
  expect_in out.txt '"contribution-key"'
  expect_exit 1 "$VOUCH" contribute --device-key "dev-$suite/device.pub" --out "admin-$suite.vcon"
  expect_in err.txt "exists"
  sleep 1  # the three-contribution voucher is the newer one
  expect_exit 0 "$VOUCH" issue --device-key "dev-$suite/device.pub" --serial "SN-$suite" --signer-key mfr-signer.key \
    --signer-cert mfr-signer.pem --chain mfr-root.pem --domain-ca owner-ca.pem --domain-ca-key owner-ca.key \
    --contribution "escrow-$suite.vcon" --contribution "admin-$suite.vcon" --format cms --out "three-$suite.vcj"
  openssl cms -verify -binary -inform DER -in "three-$suite.vcj" -CAfile mfr-root.pem -out "three-$suite.json" 2>/dev/null \
    || fail "openssl cms -verify refused the $suite voucher"
  ok
  expect_in "three-$suite.json" '"contribution":[{'
  expect_exit 0 "$VOUCH" verify "three-$suite.vcj" --trust mfr-root.pem

  # On a stick: a bundle of both, fetched by the device; the newer (three) wins.
  mkdir -p "issued-$suite"
  cp "one-$suite.vjj" "three-$suite.vcj" "issued-$suite/"
  expect_exit 0 "$VOUCH" bundle create --from "issued-$suite" --out "stick-$suite"
  expect_exit 0 "$VOUCH_DEVICE" fetch --state "dev-$suite" "stick-$suite" --json
  expect_in out.txt '"outcome": "enrolled"'
  three_z=$(python3 -c "import json,sys; print(json.load(open(sys.argv[1]))['ietf-voucher:voucher']['vouch-enroll:enrollment']['combined-key'])" "three-$suite.json")
  proves_z "dev-$suite" "$three_z" "$suite"
  [ "$(stat -c %a "dev-$suite/current/z.key")" = 600 ] || fail "z.key is not 0600"; ok

  # The certificate for Z says how Z was made; openssl still parses it.
  expect_exit 0 "$VOUCH" verify-cert "dev-$suite/current/certificate.pem" --device-key "dev-$suite/device.pub" \
    --issuer owner-ca.pem --json
  expect_in out.txt '"result": "verified"'
  expect_same "$(python3 -c "import json,sys; print(len(json.load(open(sys.argv[1]))['contributions']))" out.txt)" 3
  openssl x509 -in "dev-$suite/current/certificate.pem" -noout -text > cert.txt || fail "openssl cannot parse the certificate"
  expect_in cert.txt "2.25.170057167905927591038761113654168271464"
  openssl verify -CAfile owner-ca.pem "dev-$suite/current/certificate.pem" >/dev/null || fail "certificate does not chain"
  ok
  # Another device's key is not this certificate's X.
  expect_exit 0 "$VOUCH" key new --suite "$suite" --out "other-$suite.key" --public-out "other-$suite.pub"
  expect_exit 1 "$VOUCH" verify-cert "dev-$suite/current/certificate.pem" --device-key "other-$suite.pub"
  expect_in err.txt "(wrong-device)"

  # The one-contribution voucher alone enrolls the same device from the factory state too.
  expect_exit 0 "$VOUCH_DEVICE" init --state "dev1-$suite" --serial "SN-$suite" --trust mfr-root.pem --clock trusted --suite "$suite"
  expect_exit 4 "$VOUCH_DEVICE" accept --state "dev1-$suite" "one-$suite.vjj"
  expect_in out.txt "(wrong-device)"
  cp "dev-$suite/device.key" "dev-$suite/device.pub" "dev1-$suite/"
  expect_exit 0 "$VOUCH_DEVICE" accept --state "dev1-$suite" "one-$suite.vjj"
  expect_in out.txt "enrolled"
  one_z=$(payload_member "one-$suite.vjj" combined-key)
  proves_z "dev1-$suite" "$one_z" "$suite"
done

expect_exit 2 "$VOUCH" demo --suite p384 --dir demo-bad
expect_in err.txt "(usage)"

# Refusals this layer sees before any device: a contribution for another device or suite.
expect_exit 1 "$VOUCH" issue --device-key dev-x25519/device.pub --serial SN-x25519 --signer-key mfr-signer.key \
  --signer-cert mfr-signer.pem --domain-ca owner-ca.pem --contribution escrow-x448.vcon --out bad.vjj
expect_in err.txt "(wrong-device)"
expect_exit 1 "$VOUCH" issue --device-key dev-p256/device.pub --serial SN-p256 --signer-key mfr-signer.key \
  --signer-cert mfr-signer.pem --domain-ca owner-ca.pem --contribution no-such.vcon --out bad.vjj
# A contribution whose proof of possession does not verify (a rogue Y = W - X could carry none
# that does): refused before anything is certified.
python3 - escrow-x25519.vcon admin-x25519.vcon > rogue.vcon <<'PY'
import json, sys
a = json.load(open(sys.argv[1])); b = json.load(open(sys.argv[2]))
a["vouch-contribution"]["contribution-proof"] = b["vouch-contribution"]["contribution-proof"]
print(json.dumps(a))
PY
expect_exit 1 "$VOUCH" issue --device-key dev-x25519/device.pub --serial SN-x25519 --signer-key mfr-signer.key \
  --signer-cert mfr-signer.pem --domain-ca owner-ca.pem --domain-ca-key owner-ca.key --contribution rogue.vcon --out bad.vjj
expect_in err.txt "(contribution-mismatch)"
head -c 100000 /dev/zero > big.vcon
expect_exit 1 "$VOUCH" issue --device-key dev-p256/device.pub --serial SN-p256 --signer-key mfr-signer.key \
  --signer-cert mfr-signer.pem --domain-ca owner-ca.pem --contribution big.vcon --out bad.vjj
expect_in err.txt "(too-large)"
[ ! -e bad.vjj ] || fail "a refused issue wrote a voucher"; ok
# A mixed-suite voucher (an X448 contribution key in an X25519 voucher), signed anyway: refused.
python3 - three-x25519.json escrow-x448.vcon > mixed.json <<'PY'
import json, sys
v = json.load(open(sys.argv[1]))
c = json.load(open(sys.argv[2]))["vouch-contribution"]
e = v["ietf-voucher:voucher"]["vouch-enroll:enrollment"]
e["contribution"][1]["contribution-key"] = c["contribution-key"]
print(json.dumps(v, separators=(",", ":")))
PY
openssl cms -sign -binary -nodetach -outform DER -in mixed.json -signer mfr-signer.pem -inkey mfr-signer.key \
  -certfile mfr-root.pem -econtent_type 1.2.840.113549.1.9.16.1.40 -md sha256 -out mixed.vcj 2>/dev/null || fail "openssl cms -sign"
expect_exit 0 "$VOUCH_DEVICE" init --state dev-mixed --serial SN-x25519 --trust mfr-root.pem --suite x25519 --clock trusted
cp dev-x25519/device.key dev-x25519/device.pub dev-mixed/
expect_exit 4 "$VOUCH_DEVICE" accept --state dev-mixed mixed.vcj
expect_in out.txt "(malformed)"

# Vouchers written by the release before contributions were a list still enroll, in order.
L="$VECTORS/legacy-p256"
expect_exit 0 "$VOUCH_DEVICE" init --state legacy --serial SN-LEGACY --trust "$L/mfr-root.pem" --clock untrusted
cp "$L/device.key" "$L/device.pub" legacy/
chmod 600 legacy/device.key
expect_exit 0 "$VOUCH" verify "$L/v1.vcj" --trust "$L/mfr-root.pem" --no-time
expect_exit 0 "$VOUCH_DEVICE" accept --state legacy "$L/v1.vcj"
expect_in out.txt "enrolled"
expect_exit 0 "$VOUCH_DEVICE" accept --state legacy "$L/v2.vjj" --json
expect_in out.txt '"outcome": "enrolled"'
expect_same "$(openssl pkey -in legacy/current/z.key -pubout -outform DER | base64 -w0)" \
  "$(openssl pkey -pubin -in legacy/current/z.pub -outform DER | base64 -w0)"
expect_exit 4 "$VOUCH_DEVICE" accept --state legacy "$L/v1.vcj"
expect_in out.txt "(rollback)"

finish
