#!/usr/bin/env bash
# Devices that insist on a transparency log (DESIGN.md section 9): the log's artifacts are
# made with tlog_tool (formats/tlog), the vouchers with vouch issue, and the built
# vouch-device fetches them from sticks (plain trees, bundles, git caches) through its
# confined reader. Every refusal leaves the state directory exactly as it was.
. "$(dirname "$0")/lib.sh"
: "${TLOG_TOOL:?path to the tlog_tool test tool}"

make_ca mfr
make_ca owner-ca
keys() { # NAME FILE-STEM [witness]: FILE-STEM.skey and FILE-STEM.vkey
  "$TLOG_TOOL" "${3:-}keygen" "$1" > "$2.keys"
  sed -n 1p "$2.keys" > "$2.skey"
  sed -n 2p "$2.keys" > "$2.vkey"
}
keys log.example/vouchers log
keys log.example/vouchers impostor       # the same name, another key
keys witness.example/w1 w1 witness-
keys witness.example/w2 w2 witness-
keys witness.example/w3 w3 witness-

issue() { # STATE SERIAL OUTDIR: prints the voucher file
  "$VOUCH" issue --device-key "$1/device.pub" --serial "$2" --signer-key mfr.key --signer-cert mfr.pem \
    --domain-ca owner-ca.pem --domain-ca-key owner-ca.key --out-dir "$3" >/dev/null
  local udf
  udf=$("$VOUCH_DEVICE" show --state "$1" --json | sed -n 's/.*"udf": "\(.*\)".*/\1/p')
  find "$3" -path "*/$udf/*" -name '*.vjj' | head -1
}
insist=(--log-key log.vkey --witness w1.vkey --witness "$(cat w2.vkey)" --witnesses 2 --max-age 1h)
for d in dev1 dev2 dev3; do
  expect_exit 0 "$VOUCH_DEVICE" init --state "$d" --serial "SN-$d" --trust mfr.pem --clock trusted "${insist[@]}"
done
expect_exit 0 "$VOUCH_DEVICE" init --state plain --serial SN-plain --trust mfr.pem --clock trusted
cp -a dev1 dev1-unenrolled   # dev1 as it left the factory, to enroll it again below
expect_exit 0 "$VOUCH_DEVICE" show --state dev1 --json
expect_in out.txt '"log": "log.example/vouchers"'
expect_in out.txt '"quorum": 2'
expect_in out.txt '"max-age-seconds": 3600'
expect_exit 0 "$VOUCH_DEVICE" status --state dev1
expect_in out.txt "log.example/vouchers, 2 of 2 witnesses, max age 3600 s"
expect_exit 0 "$VOUCH_DEVICE" status --state plain --json
expect_in out.txt '"log-policy": null'

# What init refuses: a witness given twice, a quorum over the witnesses, a max age without a
# trusted clock, a witness's key as the log's.
expect_exit 2 "$VOUCH_DEVICE" init --state x1 --serial S --trust mfr.pem --clock trusted --log-key log.vkey --witness w1.vkey --witness w1.vkey
expect_in err.txt "given twice"
expect_exit 2 "$VOUCH_DEVICE" init --state x2 --serial S --trust mfr.pem --log-key log.vkey --witness w1.vkey --witnesses 2
expect_exit 2 "$VOUCH_DEVICE" init --state x3 --serial S --trust mfr.pem --log-key log.vkey --witness w1.vkey --max-age 1h
expect_in err.txt "trusted clock"
expect_exit 2 "$VOUCH_DEVICE" init --state x4 --serial S --trust mfr.pem --log-key w1.vkey
[ ! -e x1 ] && [ ! -e x2 ] && [ ! -e x3 ] && [ ! -e x4 ] || fail "a refused init left a state behind"; ok

# The log: other vouchers around ours, so proofs have hashes to check.
"$MAKE_VOUCHERS" 3 others
mapfile -t others < <(find others -name '*.vjj' | sort)
v1=$(issue dev1 SN-dev1 issued)
v2=$(issue dev2 SN-dev2 issued)
v3=$(issue dev3 SN-dev3 issued)
vp=$(issue plain SN-plain issued)
entries=("${others[@]}" "$v1" "$v2" "$v3")
proof() { # LOG-SKEY TIME WITNESSES INDEX > proof
  "$TLOG_TOOL" proof "$1" "$2" "$3" "$4" "${entries[@]}"
}
i1=3 i2=4 i3=5
for i in 0 1 2 3 4 5; do proof log.skey now w1.skey,w2.skey "$i" > "${entries[$i]}.tlog-proof"; done

state_hash() { (cd "$1" && find . -path ./lock -prune -o -print | sort && find . -type f ! -name lock -exec sha256sum {} + | sort); }
stick_with() { # DIR VOUCHER PROOF-FILE|-: a plain vouchers/ tree holding the voucher (and a proof)
  rm -rf "$1" && mkdir -p "$1/$(dirname "${2#issued/}")"
  cp "$2" "$1/${2#issued/}"
  [ "$3" = - ] || cp "$3" "$1/${2#issued/}.tlog-proof"
}
refused() { # CODE STICK: fetch is refused with CODE and dev1 is unchanged
  local before
  before=$(state_hash dev1)
  expect_exit 4 "$VOUCH_DEVICE" fetch --state dev1 "$2"
  expect_in out.txt "($1)"
  expect_same "$(state_hash dev1)" "$before"
}

stick_with s-none "$v1" -
refused not-logged s-none
proof log.skey now w1.skey,w2.skey "$i2" > other-leaf.proof
stick_with s-other "$v1" other-leaf.proof
refused bad-signature s-other
proof impostor.skey now w1.skey,w2.skey "$i1" > impostor.proof
stick_with s-impostor "$v1" impostor.proof
refused untrusted-signer s-impostor
proof log.skey now w1.skey,w1.skey "$i1" > repeated.proof
stick_with s-repeated "$v1" repeated.proof
refused too-few-witnesses s-repeated
proof log.skey now w1.skey,w3.skey "$i1" > stranger.proof
stick_with s-stranger "$v1" stranger.proof
refused too-few-witnesses s-stranger
head -c 200 "$v1.tlog-proof" > truncated.proof
stick_with s-truncated "$v1" truncated.proof
refused malformed s-truncated
# Lines 3 and 4 are the first two hashes (after the header and the index): swapped.
awk 'NR == 3 { h = $0; next } NR == 4 { print; print h; next } { print }' "$v1.tlog-proof" > reordered.proof
cmp -s reordered.proof "$v1.tlog-proof" && fail "the reordered proof is the proof"
stick_with s-reordered "$v1" reordered.proof
refused bad-signature s-reordered
proof log.skey now-7200 w1.skey,w2.skey "$i1" > stale.proof
stick_with s-stale "$v1" stale.proof
refused log-stale s-stale
head -c 70000 /dev/zero > big.proof
stick_with s-big "$v1" big.proof
refused not-logged s-big
expect_in out.txt "(too-large)"

# The good proof: enrolled; the fetch's report says so.
stick_with s-good "$v1" "$v1.tlog-proof"
expect_exit 0 "$VOUCH_DEVICE" fetch --state dev1 s-good --json
expect_in out.txt '"outcome": "enrolled"'
expect_in out.txt '"logged": true'
expect_exit 0 "$VOUCH_DEVICE" fetch --state dev1 s-none      # the voucher it runs: no proof asked again
expect_in out.txt "already-current"

# A bundle with proofs: the device reads its own voucher's proof out of it.
expect_exit 0 "$TLOG_TOOL" bundle bundled "$v2" "$v3" "${others[0]}"
bundle=$(cat out.txt)
unzip -t "$bundle" > unzip.txt || fail "unzip -t refused a bundle with proofs: $(cat unzip.txt)"; ok
[ "$(unzip -Z1 "$bundle" | grep -c '\.tlog-proof$')" = 3 ] || fail "the bundle does not hold 3 proofs"; ok
expect_exit 0 "$VOUCH" bundle list "$bundle" --json
expect_in out.txt '.vjj.tlog-proof"'
# Without proofs (vouch bundle create packs vouchers only, here): not logged.
mkdir -p plain-bundle-src && cp --parents "$v2" plain-bundle-src/
expect_exit 0 "$VOUCH" bundle create --from plain-bundle-src --out s-plain-bundle
before=$(state_hash dev2)
expect_exit 4 "$VOUCH_DEVICE" fetch --state dev2 s-plain-bundle
expect_in out.txt "(not-logged)"
expect_same "$(state_hash dev2)" "$before"
mkdir s-bundle && cp "$bundle" s-bundle/
expect_exit 0 "$VOUCH_DEVICE" fetch --state dev2 s-bundle
expect_in out.txt "enrolled"
# The cache takes the vouchers of a bundle with proofs, and leaves the proofs.
expect_exit 0 "$VOUCH" cache init --cache c.git
expect_exit 0 "$VOUCH" cache add --cache c.git "$bundle"
expect_in out.txt "added 3, already present 0, refused 0"

# A git cache on a stick, proofs in its vouchers tree beside the vouchers.
mkdir work
(cd work && git init -q && git checkout -q -b vouchers)
mkdir -p "work/$(dirname "${v3#issued/}")"
cp "$v3" "work/${v3#issued/}"
cp "$v3.tlog-proof" "work/${v3#issued/}.tlog-proof"
(cd work && git add -A && git -c user.name=t -c user.email=t@example.com commit -q -m vouchers)
mkdir s-git && git clone -q --bare --branch vouchers work s-git/c.git
expect_exit 0 "$VOUCH_DEVICE" fetch --state dev3 s-git
expect_in out.txt "enrolled"

# A device with no log configured behaves as before: no proof needed, a bad one ignored.
stick_with s-plain "$vp" truncated.proof
expect_exit 0 "$VOUCH_DEVICE" fetch --state plain s-plain --json
expect_in out.txt '"outcome": "enrolled"'
expect_in out.txt '"logged": false'

# accept: FILE.tlog-proof beside it, or --proof. (On dev1 as it left the factory: a reset that
# keeps the key would refuse v1 again, not newer than what it applied before: DESIGN.md 9.)
rm -rf dev1 && cp -a dev1-unenrolled dev1
cp "$v1" lone.vjj
expect_exit 4 "$VOUCH_DEVICE" accept --state dev1 lone.vjj
expect_in out.txt "(not-logged)"
expect_exit 0 "$VOUCH_DEVICE" accept --state dev1 lone.vjj --proof "$v1.tlog-proof" --dry-run
expect_in out.txt "would apply"
cp "$v1.tlog-proof" lone.vjj.tlog-proof
expect_exit 0 "$VOUCH_DEVICE" accept --state dev1 lone.vjj
expect_in out.txt "applied"

# log-policy: tightened, never loosened; a policy set later on a device that had none.
expect_exit 1 "$VOUCH_DEVICE" log-policy --state dev1 --log-key log.vkey --witness w1.vkey --witness w2.vkey --witnesses 1 --max-age 1h
expect_in err.txt "(exists)"
expect_exit 1 "$VOUCH_DEVICE" log-policy --state dev1 --log-key impostor.vkey --witness w1.vkey --witness w2.vkey --max-age 1h
expect_in err.txt "(exists)"
expect_exit 1 "$VOUCH_DEVICE" log-policy --state dev1 --log-key log.vkey --witness w1.vkey --witness w2.vkey
expect_in err.txt "(exists)"
expect_exit 0 "$VOUCH_DEVICE" log-policy --state dev1 --log-key log.vkey --witness w1.vkey --witness w2.vkey --witness w3.vkey --witnesses 3 --max-age 30m
expect_in out.txt "3 of 3 witnesses"
expect_exit 0 "$VOUCH_DEVICE" log-policy --state plain --log-key log.vkey --witness w1.vkey
sleep 1  # created-on has one-second resolution: vp2 is later than vp
vp2=$(issue plain SN-plain issued2)
stick_with s-plain2 "$vp2" -
expect_exit 4 "$VOUCH_DEVICE" fetch --state plain s-plain2
expect_in out.txt "(not-logged)"

# vouch verify --log-key: the operator's check of the same rule.
expect_exit 0 "$VOUCH" verify "$v1" --trust mfr.pem --log-key log.vkey --witness w1.vkey --witness w2.vkey --witnesses 2
expect_in out.txt "logged:"
expect_exit 1 "$VOUCH" verify "$vp" --trust mfr.pem --log-key log.vkey
expect_in err.txt "(not-logged)"
expect_exit 1 "$VOUCH" verify "$v1" --trust mfr.pem --log-key log.vkey --witness w1.vkey --witness w3.vkey --witnesses 2
expect_in err.txt "(too-few-witnesses)"
expect_exit 1 "$VOUCH" verify "$v1" --trust mfr.pem --log-key log.vkey --witness w1.vkey --proof stale.proof --max-age 1h
expect_in err.txt "(log-stale)"
expect_exit 0 "$VOUCH" verify "$v1" --trust mfr.pem
finish
