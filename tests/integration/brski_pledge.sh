#!/usr/bin/env bash
# Our vouchers read the way a BRSKI pledge reads them (issue #15: the nqminds/brski C pledge
# verified the signature and then refused the voucher): the payload taken out by real peers
# (`openssl cms -verify` for CMS, a base64url decode in Python for JWS), times exactly
# YYYY-MM-DDTHH:MM:SSZ and parsed with the pledge's strptime format, and a --plain voucher with
# nothing outside RFC 8366's ietf-voucher:voucher. Plain vouchers are refused by vouch-device
# (accept and fetch) and by the cache, and `--plain` refuses what would need a device key.
. "$(dirname "$0")/lib.sh"

# The system Python: its json and time modules are the peer here, not a pyenv on PATH.
PY=/usr/bin/python3

# check_payload plain|enroll FILE: what the pledge checks of the voucher JSON in FILE.
check_payload() {
  "$PY" - "$1" "$2" <<'EOF' || fail "$2 is not what a BRSKI pledge reads ($1)"
import json, re, sys, time

mode, path = sys.argv[1], sys.argv[2]

def no_duplicates(pairs):
    names = [k for k, _ in pairs]
    assert len(names) == len(set(names)), "a member twice: %r" % names
    return dict(pairs)

with open(path, "rb") as f:
    doc = json.loads(f.read().decode("utf-8"), object_pairs_hook=no_duplicates)
assert isinstance(doc, dict) and list(doc) == ["ietf-voucher:voucher"], "top-level members: %r" % list(doc)
v = doc["ietf-voucher:voucher"]
# RFC 8366 section 5.3, the leaves of ietf-voucher:voucher.
rfc8366 = {"created-on", "expires-on", "assertion", "serial-number", "idevid-issuer", "pinned-domain-cert",
           "domain-cert-revocation-checks", "nonce", "last-renewal-date"}
others = set(v) - rfc8366
if mode == "plain":
    assert not others, "members outside RFC 8366: %r" % sorted(others)
else:
    assert others == {"vouch-enroll:enrollment"}, "members outside RFC 8366: %r" % sorted(others)
assert "created-on" in v and "assertion" in v and "serial-number" in v and "pinned-domain-cert" in v
for leaf in ("created-on", "expires-on", "last-renewal-date"):
    if leaf in v:
        s = v[leaf]
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", s, re.ASCII), "%s is %r" % (leaf, s)
        time.strptime(s, "%Y-%m-%dT%H:%M:%SZ")  # what the C pledge's strptime accepts
print("%s: %s created-on %s" % (path, mode, v["created-on"]))
EOF
  ok
}

# cms_payload FILE OUT: the payload, with the signature checked by OpenSSL's CMS against mfr.pem.
cms_payload() {
  openssl cms -verify -binary -inform DER -in "$1" -CAfile mfr.pem -out "$2" 2>err.txt \
    || fail "openssl cms -verify refused $1: $(cat err.txt)"
  ok
}
# jws_payload FILE OUT: the payload member of a general-serialization JWS, base64url-decoded.
jws_payload() {
  "$PY" - "$1" "$2" <<'EOF' || fail "$1: no JWS payload"
import base64, json, sys
jws = json.load(open(sys.argv[1]))
p = jws["payload"]
open(sys.argv[2], "wb").write(base64.urlsafe_b64decode(p + "=" * (-len(p) % 4)))
EOF
  ok
}

make_ca mfr
make_ca owner-ca
expect_exit 0 "$VOUCH_DEVICE" init --state dev --serial SN-1 --trust mfr.pem --clock trusted
udf=$(cat out.txt)
signer=(--signer-key mfr.key --signer-cert mfr.pem)

# Plain vouchers, CMS and JWS, with and without an expiry.
expect_exit 0 "$VOUCH" issue --plain --serial SN-1 --domain-ca owner-ca.pem "${signer[@]}" --format cms \
  --expires-in 30d --out plain.vcj
cms_payload plain.vcj plain-cms.json
check_payload plain plain-cms.json
expect_in plain-cms.json '"expires-on":"'
expect_exit 0 "$VOUCH" issue --plain --serial SN-1 --domain-ca owner-ca.pem "${signer[@]}" --format jws --out plain.vjj --json
expect_in out.txt '"device-key": null'
jws_payload plain.vjj plain-jws.json
check_payload plain plain-jws.json
expect_same "$("$PY" -c 'import json,sys; print(json.load(open(sys.argv[1]))["ietf-voucher:voucher"]["serial-number"])' plain-jws.json)" SN-1
# The pinned domain is the owner CA, byte for byte.
expect_same "$("$PY" -c 'import json,sys; print(json.load(open(sys.argv[1]))["ietf-voucher:voucher"]["pinned-domain-cert"])' plain-cms.json)" \
  "$(openssl x509 -in owner-ca.pem -outform DER | base64 -w0)"
# --expires-on with a fraction is truncated to the second at or before it.
expect_exit 0 "$VOUCH" issue --plain --serial SN-1 --domain-ca owner-ca.pem "${signer[@]}" \
  --expires-on 2099-01-02T03:04:05.999999+01:00 --out plain-frac.vjj
jws_payload plain-frac.vjj plain-frac.json
check_payload plain plain-frac.json
expect_in plain-frac.json '"expires-on":"2099-01-02T02:04:05Z"'

# vouch verifies them and inspect reads them.
expect_exit 0 "$VOUCH" verify plain.vcj --trust mfr.pem
expect_in out.txt "verified: plain.vcj"
expect_exit 0 "$VOUCH" verify plain.vjj --trust mfr.pem
expect_exit 0 "$VOUCH" inspect plain.vjj --json
expect_in out.txt '"serial-number": "SN-1"'

# --plain refuses what needs a device key, and writes nothing.
expect_exit 2 "$VOUCH" issue --plain --device-key dev/device.pub --serial SN-1 --domain-ca owner-ca.pem "${signer[@]}" --out x.vjj
expect_in err.txt "drop --device-key"
expect_exit 2 "$VOUCH" issue --plain --serial SN-1 --domain-ca owner-ca.pem --domain-ca-key owner-ca.key "${signer[@]}" --out x.vjj
expect_exit 2 "$VOUCH" issue --plain --domain-ca owner-ca.pem "${signer[@]}" --out x.vjj
expect_in err.txt "give --serial"
printf 'SN-1\nSN-2\n' > serials.txt
expect_exit 2 "$VOUCH" issue --plain --batch serials.txt --domain-ca owner-ca.pem "${signer[@]}" --out-dir stick
expect_in err.txt "does not go with --batch"
[ ! -e x.vjj ] && [ ! -e stick ] || fail "a refused --plain wrote something"; ok

# Filed by serial: --out-dir puts a plain voucher under the UDF of its serial number
# (formats/layout.md), where a pledge that knows only its serial finds it.
expect_exit 0 "$VOUCH" issue --plain --serial SN-1 --domain-ca owner-ca.pem "${signer[@]}" --format cms --out-dir stick --json
plain_path=$("$PY" -c 'import json,sys; print(json.load(open(sys.argv[1]))["path"])' out.txt)
case "$plain_path" in stick/vouchers/*/*/M*/*.vcj) ok ;; *) fail "plain voucher filed at $plain_path" ;; esac
serial_udf=$(basename "$(dirname "$plain_path")")
[ "$serial_udf" != "$udf" ] || fail "a plain voucher was filed under a device key"; ok

# A device refuses a plain voucher: given to it, and found on a stick at its own layout path.
expect_exit 4 "$VOUCH_DEVICE" accept --state dev plain.vjj
expect_in out.txt "(unsupported)"
expect_in out.txt "no vouch-enroll:enrollment"
id=$("$PY" -c 'import json,sys; print(json.load(open(sys.argv[1]))["id"])' <("$VOUCH" inspect plain.vjj --json))
dir=$(printf '%s' "$udf" | tr -d - | cut -c2-5 | sed 's|^\(..\)\(..\)$|\1/\2|')
mkdir -p "plain-stick/vouchers/$dir/$udf"
cp plain.vjj "plain-stick/vouchers/$dir/$udf/$id.vjj"
expect_exit 4 "$VOUCH_DEVICE" fetch --state dev plain-stick --json
expect_in out.txt "unsupported"
expect_in out.txt "no vouch-enroll:enrollment"
[ ! -e dev/current ] || fail "a plain voucher enrolled the device"; ok

# The cache, bundles and sticks carry plain vouchers under their serial's UDF: imported,
# bundled, and read out of the bundle by unzip and checked by openssl as a pledge would.
expect_exit 0 "$VOUCH" cache init --cache cache --trust mfr.pem
expect_exit 0 "$VOUCH" cache import --cache cache plain.vjj stick --json
expect_in out.txt '"added": 2'
expect_exit 0 "$VOUCH" cache get --cache cache "$serial_udf" --out-dir got
[ -f "got/${plain_path#stick/}" ] || fail "cache get did not give back the plain voucher at its path"; ok
expect_exit 0 "$VOUCH" cache verify --cache cache
expect_exit 0 "$VOUCH" bundle create --cache cache --device "$serial_udf" --out bundles --json
bundle=$(find bundles -name '*.vbundle' | head -1)
unzip -p "$bundle" "${plain_path#stick/}" > from-bundle.vcj || fail "unzip could not read the plain voucher from $bundle"
openssl cms -verify -binary -inform DER -in from-bundle.vcj -CAfile mfr.pem -out bundle-payload.json 2>/dev/null \
  || fail "openssl cms -verify refused the plain voucher read from the bundle"
ok
check_payload plain bundle-payload.json
# Found on a stick under a device key, it is imported by what it says: under its serial.
expect_exit 0 "$VOUCH" cache init --cache cache2 --trust mfr.pem
expect_exit 0 "$VOUCH" cache import --cache cache2 plain-stick
expect_exit 0 "$VOUCH" cache get --cache cache2 "$serial_udf" --out-dir got2
[ -n "$(find got2 -name "$id.vjj")" ] || fail "the plain voucher was not filed under its serial"; ok

# Enrolling vouchers carry whole-second times too (CMS, JWS, a renewal), and still enroll.
expect_exit 0 "$VOUCH" issue --device-key dev/device.pub --serial SN-1 --domain-ca owner-ca.pem --domain-ca-key owner-ca.key \
  "${signer[@]}" --format cms --expires-in 30d --out enroll.vcj
cms_payload enroll.vcj enroll-cms.json
check_payload enroll enroll-cms.json
expect_exit 0 "$VOUCH_DEVICE" accept --state dev enroll.vcj
expect_in out.txt "enrolled"
sleep 1  # created-on has one-second resolution and a device takes only a strictly later one
expect_exit 0 "$VOUCH" renew --device-key dev/device.pub --combined-key dev/current/z.pub --serial SN-1 \
  --domain-ca owner-ca.pem --domain-ca-key owner-ca.key "${signer[@]}" --expires-in 30d --out renew.vjj
jws_payload renew.vjj renew.json
check_payload enroll renew.json
expect_exit 0 "$VOUCH_DEVICE" accept --state dev renew.vjj
expect_in out.txt "renewed"

# Plain requests: the owner asks without a device key, the manufacturer signs with --plain only.
expect_exit 0 "$VOUCH" request --plain --serial SN-1 --domain-ca owner-ca.pem --domain-ca-key owner-ca.key --expires-in 7d --out plain.vrq
jws_payload plain.vrq request.json
"$PY" - request.json <<'EOF' || fail "the plain request is not a voucher and nothing else"
import base64, json, sys
r = json.load(open(sys.argv[1]))["vouch-request"]
assert list(r) == ["voucher"], list(r)
open("request-voucher.json", "wb").write(base64.b64decode(r["voucher"]))
EOF
ok
check_payload plain request-voucher.json
expect_exit 2 "$VOUCH" sign --request plain.vrq "${signer[@]}" --device-key dev/device.pub --out signed.vjj
expect_in err.txt "sign it with --plain"
printf 'SN-2,%s\n' "$(openssl pkey -pubin -in dev/device.pub -outform DER | base64 -w0)" > others.csv
expect_exit 1 "$VOUCH" sign --plain --request plain.vrq --devices others.csv "${signer[@]}" --out signed.vjj
expect_in err.txt "(wrong-serial)"
[ ! -e signed.vjj ] || fail "a refused sign wrote something"; ok
expect_exit 1 "$VOUCH" sign --plain --request plain.vrq --owner mfr.pem "${signer[@]}" --out signed.vjj
expect_in err.txt "(untrusted-signer)"
printf 'SN-1,%s\n' "$(openssl pkey -pubin -in dev/device.pub -outform DER | base64 -w0)" > devices.csv
expect_exit 0 "$VOUCH" sign --plain --request plain.vrq --devices devices.csv --owner owner-ca.pem "${signer[@]}" \
  --format cms --out signed.vcj
cms_payload signed.vcj signed.json
check_payload plain signed.json
cmp -s signed.json request-voucher.json || fail "the manufacturer did not sign the owner's exact voucher bytes"; ok
expect_exit 0 "$VOUCH" sign --plain --request plain.vrq "${signer[@]}" --out signed.vjj
expect_exit 0 "$VOUCH" verify signed.vjj --trust mfr.pem
# The owner's bytes are signed as they are, so they must be what a pledge reads: re-signed
# unchanged they are signed, with a fraction or an unknown member they are refused.
resign() { # OUT SED-EXPRESSION
  local inner
  inner=$(base64 -w0 < <(sed "$2" request-voucher.json))
  "$PY" -c 'import json,sys; print(json.dumps({"vouch-request":{"voucher":sys.argv[1]}},separators=(",",":")))' "$inner" > resigned.json
  sign_jws "$1" vouch-request+json owner-ca.key resigned.json owner-ca.pem
}
resign same.vrq 's/x/x/'
expect_exit 0 "$VOUCH" sign --plain --request same.vrq "${signer[@]}" --out same.vjj
resign frac.vrq 's/\("created-on":"[^"]*\)Z"/\1.5Z"/'
expect_exit 1 "$VOUCH" sign --plain --request frac.vrq "${signer[@]}" --out frac.vjj
expect_in err.txt "(malformed)"
expect_in err.txt "not written as vouch writes one"
resign extra.vrq 's/"assertion":/"vouch-enroll:hint":"x","assertion":/'
expect_exit 1 "$VOUCH" sign --plain --request extra.vrq "${signer[@]}" --out extra.vjj
expect_in err.txt "(malformed)"
[ ! -e frac.vjj ] && [ ! -e extra.vjj ] || fail "a refused sign wrote a voucher"; ok
# An enrolling request is not signed as a plain one.
expect_exit 0 "$VOUCH" request --device-key dev/device.pub --serial SN-1 --domain-ca owner-ca.pem --domain-ca-key owner-ca.key --out enroll.vrq
expect_exit 2 "$VOUCH" sign --plain --request enroll.vrq "${signer[@]}" --out e.vjj
expect_in err.txt "sign it without --plain"
expect_exit 2 "$VOUCH" request --plain --device-key dev/device.pub --serial SN-1 --domain-ca owner-ca.pem --domain-ca-key owner-ca.key --out y.vrq
[ ! -e e.vjj ] && [ ! -e y.vrq ] || fail "a refused request or sign wrote something"; ok
finish
