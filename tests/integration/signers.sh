#!/usr/bin/env bash
# Envelope signatures follow the signer's key (DESIGN.md 3): for P-256, P-384, Ed25519 and Ed448
# signer keys and certificates made with the openssl CLI, `vouch issue` writes JWS (and, for the
# ECDSA keys, CMS) that `vouch verify`, `openssl cms -verify` and a device accept; a changed
# signature is refused for every algorithm; EdDSA CMS is refused before anything is written,
# because OpenSSL 3.0 can neither make nor check it (the peer is asked too); a JWS made by
# openssl whose header claims another algorithm than its key's is refused.
. "$(dirname "$0")/lib.sh"

EKU=2.25.164331488097752279131811806320366594043  # the vouch voucher-signing EKU

header_of() { sed -n 's/.*"protected":"\([^"]*\)".*/\1/p' "$1" | unb64url; }
signature_of() { sed -n 's/.*"signature":"\([^"]*\)".*/\1/p' "$1"; }
# The device's state, but for its lock file (which the first accept creates, empty).
state_of() { find "$1" -type f ! -path "$1/lock" -exec sha256sum {} + | sort; }

# genkey ALG FILE: a private key as the openssl CLI makes it. P-384 as SEC1 ("EC PRIVATE
# KEY", `openssl ecparam`), the others as PKCS#8: vouch reads both.
genkey() {
  case $1 in
    p256) openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$2" ;;
    p384) openssl ecparam -genkey -name secp384r1 -noout -out "$2" ;;
    ed25519) openssl genpkey -algorithm ED25519 -out "$2" ;;
    ed448) openssl genpkey -algorithm ED448 -out "$2" ;;
  esac 2>/dev/null || fail "genkey $1"
}
# make_signer ALG: ALG-root.pem, a self-signed CA of that key type, and ALG-signer.pem under it
# with the voucher-signing EKU (DESIGN.md 3a), keys beside them.
make_signer() {
  local a=$1
  genkey "$a" "$a-root.key"
  genkey "$a" "$a-signer.key"
  openssl req -x509 -new -key "$a-root.key" -out "$a-root.pem" -subj "/CN=$a root" -days 30 \
    -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign,digitalSignature \
    2>/dev/null || fail "$a root"
  openssl req -new -key "$a-signer.key" -out "$a-signer.csr" -subj "/CN=$a voucher signer" 2>/dev/null || fail "$a csr"
  printf 'basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=%s\n' "$EKU" > "$a.ext"
  openssl x509 -req -in "$a-signer.csr" -CA "$a-root.pem" -CAkey "$a-root.key" -CAcreateserial \
    -out "$a-signer.pem" -days 30 -extfile "$a.ext" 2>/dev/null || fail "$a signer certificate"
}
issue() { # ALG STATE OUT [FLAGS...]: a voucher for that device signed by ALG's signer
  local a=$1 state=$2 out=$3
  shift 3
  "$VOUCH" issue --device-key "$state/device.pub" --serial "SN-$a" --signer-key "$a-signer.key" \
    --signer-cert "$a-signer.pem" --domain-ca owner-ca.pem --domain-ca-key owner-ca.key --out "$out" "$@"
}

make_ca owner-ca
declare -A jws_alg=([p256]=ES256 [p384]=ES384 [ed25519]=EdDSA [ed448]=EdDSA)
declare -A sig_len=([p256]=64 [p384]=96 [ed25519]=64 [ed448]=114)
declare -A cms_digest=([p256]=sha256 [p384]=sha384)

for a in p256 p384 ed25519 ed448; do
  make_signer "$a"
  expect_exit 0 "$VOUCH_DEVICE" init --state "dev-$a" --serial "SN-$a" --trust "$a-root.pem" --clock trusted

  # --- JWS: the header names the key's algorithm; vouch and the device accept it -------------
  expect_exit 0 issue "$a" "dev-$a" "$a.vjj"
  header_of "$a.vjj" > "$a.header"
  expect_in "$a.header" "{\"alg\":\"${jws_alg[$a]}\",\"typ\":\"voucher-jws+json\""
  expect_same "$(signature_of "$a.vjj" | unb64url | wc -c)" "${sig_len[$a]}"
  expect_exit 0 "$VOUCH" verify "$a.vjj" --trust "$a-root.pem"
  expect_in out.txt "verified: $a.vjj"
  expect_exit 1 "$VOUCH" verify "$a.vjj" --trust owner-ca.pem
  expect_in err.txt "(untrusted-signer)"

  # A changed signature (its first character): refused by vouch and by the device, whose state
  # stays as it was.
  sig=$(signature_of "$a.vjj")
  first=${sig:0:1}
  [ "$first" = A ] && other=B || other=A
  sed "s/\"signature\":\"$first/\"signature\":\"$other/" "$a.vjj" > "$a-tampered.vjj"
  expect_exit 1 "$VOUCH" verify "$a-tampered.vjj" --trust "$a-root.pem"
  expect_in err.txt "(bad-signature)"
  before=$(state_of "dev-$a")
  expect_exit 4 "$VOUCH_DEVICE" accept --state "dev-$a" "$a-tampered.vjj"
  expect_in out.txt "(bad-signature)"
  expect_same "$(state_of "dev-$a")" "$before"

  expect_exit 0 "$VOUCH_DEVICE" accept --state "dev-$a" "$a.vjj"
  expect_in out.txt "enrolled"

  # --- CMS ------------------------------------------------------------------------------------
  if [ -n "${cms_digest[$a]:-}" ]; then
    sleep 1  # a newer created-on than the JWS voucher's, so the device takes it too
    expect_exit 0 issue "$a" "dev-$a" "$a.vcj" --format cms
    # OpenSSL's own CMS, against the root. The signer carries the voucher-signing EKU, not an
    # S/MIME one, so the purpose check is vouch's (3a), not openssl's.
    openssl cms -verify -binary -inform DER -in "$a.vcj" -CAfile "$a-root.pem" -purpose any -out "$a.json" 2>err.txt \
      || fail "openssl cms -verify refused our $a CMS voucher: $(cat err.txt)"
    ok
    expect_in "$a.json" '"serial-number":"SN-'"$a"'"'
    openssl cms -cmsout -print -inform DER -in "$a.vcj" > "$a.cms.txt"
    expect_in "$a.cms.txt" "algorithm: ${cms_digest[$a]} "
    expect_in "$a.cms.txt" "algorithm: ecdsa-with-${cms_digest[$a]^^}"
    expect_exit 0 "$VOUCH" verify "$a.vcj" --trust "$a-root.pem"
    expect_in out.txt "verified: $a.vcj"
    # A changed signature: the DER's last byte is the signature's last (no unsigned attributes).
    cp "$a.vcj" "$a-tampered.vcj"
    last=$(tail -c 1 "$a.vcj" | od -An -tu1 | tr -d ' ')
    printf "$(printf '\\%03o' $(((last + 1) % 256)))" | dd of="$a-tampered.vcj" bs=1 seek=$(($(stat -c %s "$a.vcj") - 1)) conv=notrunc 2>/dev/null
    expect_exit 1 "$VOUCH" verify "$a-tampered.vcj" --trust "$a-root.pem"
    expect_in err.txt "(bad-signature)"
    ! openssl cms -verify -binary -inform DER -in "$a-tampered.vcj" -CAfile "$a-root.pem" -purpose any -out /dev/null 2>/dev/null \
      || fail "openssl cms -verify accepted a changed $a signature"
    ok
    expect_exit 4 "$VOUCH_DEVICE" accept --state "dev-$a" "$a-tampered.vcj"
    expect_in out.txt "(bad-signature)"
    expect_exit 0 "$VOUCH_DEVICE" accept --state "dev-$a" "$a.vcj"
    expect_in out.txt "enrolled"
  else
    # EdDSA CMS: refused before anything is written, naming why.
    expect_exit 1 issue "$a" "dev-$a" "$a.vcj" --format cms
    expect_in err.txt "(unsupported)"
    expect_in err.txt "OpenSSL 3.0"
    [ ! -e "$a.vcj" ] || fail "a refused $a CMS issue left $a.vcj behind"; ok
    # The peer cannot make one either: OpenSSL 3.0's CMS asks EdDSA for a digest it refuses
    # (RFC 8419 wants SHA-512 for Ed25519, SHAKE256/512 for Ed448 in the SignerInfo). When this
    # starts to pass, EdDSA CMS can be had from OpenSSL: revisit DESIGN.md 3.
    md=sha512
    [ "$a" = ed448 ] && md=shake256
    echo '{}' > plain.json
    ! openssl cms -sign -binary -nodetach -md "$md" -in plain.json -signer "$a-signer.pem" -inkey "$a-signer.key" \
      -outform DER -out "$a-openssl.vcj" 2>/dev/null || fail "openssl cms -sign made an $a CMS: revisit DESIGN.md 3"
    ok
  fi
done

# The P-384 device, now on its CMS voucher, took the ES384 JWS before it: one more JWS from
# the Ed25519 signer goes to a second device through a medium, as vouchers travel.
expect_exit 0 "$VOUCH_DEVICE" init --state dev-fetch --serial SN-ed25519 --trust ed25519-root.pem --clock trusted
expect_exit 0 "$VOUCH" issue --device-key dev-fetch/device.pub --serial SN-ed25519 --signer-key ed25519-signer.key \
  --signer-cert ed25519-signer.pem --domain-ca owner-ca.pem --out-dir stick
expect_exit 0 "$VOUCH_DEVICE" fetch --state dev-fetch stick
expect_in out.txt "enrolled"

# --- A JWS made by openssl alone: EdDSA verifies; the same key claiming ES256 does not ----------
# pure Ed25519 over the signing input (openssl pkeyutl -rawin: no prehash, RFC 8037 3.1).
jws_by_openssl() { # OUT ALG KEY CERT PAYLOAD
  local h p
  h=$(printf '{"alg":"%s","x5c":["%s"]}' "$2" "$(openssl x509 -in "$4" -outform DER | base64 -w0)" | b64url)
  p=$(b64url < "$5")
  printf '%s.%s' "$h" "$p" > input.txt
  openssl pkeyutl -sign -rawin -inkey "$3" -in input.txt -out sig.bin 2>/dev/null || fail "openssl pkeyutl -sign"
  printf '{"payload":"%s","protected":"%s","signature":"%s"}' "$p" "$h" "$(b64url < sig.bin)" > "$1"
}
sed -n 's/.*"payload":"\([^"]*\)".*/\1/p' ed25519.vjj | unb64url > ed25519-payload.json
for a in ed25519 ed448; do
  jws_by_openssl "$a-openssl.vjj" EdDSA "$a-signer.key" "$a-signer.pem" ed25519-payload.json
  expect_exit 0 "$VOUCH" verify "$a-openssl.vjj" --trust "$a-root.pem"
  for claimed in ES256 ES384; do
    jws_by_openssl "$a-claims-$claimed.vjj" "$claimed" "$a-signer.key" "$a-signer.pem" ed25519-payload.json
    expect_exit 1 "$VOUCH" verify "$a-claims-$claimed.vjj" --trust "$a-root.pem"
    expect_in err.txt "(bad-signature)"
    expect_in err.txt "does not match the signer's"
  done
done
for claimed in none HS256; do
  jws_by_openssl "claims-$claimed.vjj" "$claimed" ed25519-signer.key ed25519-signer.pem ed25519-payload.json
  expect_exit 1 "$VOUCH" verify "claims-$claimed.vjj" --trust ed25519-root.pem
  expect_in err.txt "(unsupported)"
done

# A signer key of a type vouch does not sign with is refused by name, before anything is written.
openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out rsa.key 2>/dev/null
openssl req -x509 -new -key rsa.key -out rsa.pem -subj "/CN=rsa" -days 30 2>/dev/null
expect_exit 1 "$VOUCH" issue --device-key dev-p256/device.pub --serial SN-p256 --signer-key rsa.key \
  --signer-cert rsa.pem --domain-ca owner-ca.pem --out rsa.vjj
expect_in err.txt "RSA key is not a signing key vouch supports"
[ ! -e rsa.vjj ] || fail "a refused RSA issue left rsa.vjj behind"; ok

finish
