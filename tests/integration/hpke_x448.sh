#!/usr/bin/env bash
# HPKE against an independent implementation, hpke-js (tests/hpke_js, installed by ./dev with
# npm ci): RFC 9180 has no X448 vectors, so this is what pins vouch's X448 suite (and checks the
# X25519 and P-256 ones again). For each suite and several random plaintexts, aads and infos:
# vouch seals and hpke-js opens, hpke-js seals and vouch opens, each with keys the other made
# (raw serialized keys cross too); a tampered ct, aad or info is refused by both. hpke-js's
# X25519 and X448 are pure JavaScript (noble-curves), not Node's OpenSSL.
JS=$(cd "$(dirname "$0")/../hpke_js" && pwd)  # before lib.sh moves to the scratch directory
. "$(dirname "$0")/lib.sh"
: "${HPKE_TOOL:?path to the hpke_tool binary}"

command -v node >/dev/null || fail "node is not installed (./dev installs nodejs and npm)"
for p in core chacha20poly1305 dhkem-x25519 dhkem-x448; do
  [ -d "$JS/node_modules/@hpke/$p" ] || fail "@hpke/$p is not installed (./dev runs npm ci --prefix tests/hpke_js)"
done

V() { "$HPKE_TOOL" "$@"; }
J() { node "$JS/hpke.mjs" "$@"; }

rhex() { # N: N random bytes as hex (empty for 0)
  head -c "$1" /dev/urandom | od -An -v -tx1 | tr -d ' \n'
}
flip() { # HEX INDEX: HEX with the low bit of byte INDEX flipped
  local h=$1 i=$2
  printf '%s%02x%s' "${h:0:$((2 * i))}" $((0x${h:$((2 * i)):2} ^ 1)) "${h:$((2 * i + 2))}"
}

refused() { # SIDE SUITE SKR ENC INFO AAD CT: SIDE does not open it (and vouch says why)
  local side=$1
  shift
  expect_exit 1 $side open "$@"
  [ "$side" = J ] || expect_in err.txt "decrypt-failed"
}

# cross SEALER OPENER SUITE: keys from OPENER, SEALER seals to them, OPENER opens; then the
# refusals. Also OPENER's keys in SEALER's hands the other way round (serialized keys cross).
cross() {
  local sealer=$1 opener=$2 suite=$3 keys sk pk info aad pt sealed enc ct
  keys=$($opener keygen "$suite") || fail "$opener keygen $suite"
  sk=$(sed -n 1p <<<"$keys")
  pk=$(sed -n 2p <<<"$keys")
  info=$(rhex $((RANDOM % 24)))
  aad=$(rhex $((RANDOM % 40)))
  pt=$(rhex $((RANDOM % 200)))
  sealed=$($sealer seal "$suite" "$pk" "$info" "$aad" "$pt") || fail "$sealer seal $suite"
  enc=$(sed -n 1p <<<"$sealed")
  ct=$(sed -n 2p <<<"$sealed")
  expect_same "$(( ${#ct} / 2 ))" "$(( ${#pt} / 2 + 16 ))"
  expect_exit 0 $opener open "$suite" "$sk" "$enc" "$info" "$aad" "$ct"
  expect_same "$(cat out.txt)" "$pt"
  # The opener's private key, serialized by it, read by the sealer's implementation.
  expect_exit 0 $sealer open "$suite" "$sk" "$enc" "$info" "$aad" "$ct"
  expect_same "$(cat out.txt)" "$pt"
  # Tampering: a ct byte, the aad, the info, the enc; each side refuses.
  local bad_ct bad_enc
  bad_ct=$(flip "$ct" $((RANDOM % (${#ct} / 2))))
  bad_enc=$(flip "$enc" $((RANDOM % (${#enc} / 2 - 1))))
  for side in $opener $sealer; do
    refused $side "$suite" "$sk" "$enc" "$info" "$aad" "$bad_ct"
    refused $side "$suite" "$sk" "$enc" "$info" "${aad}00" "$ct"
    refused $side "$suite" "$sk" "$enc" "${info}00" "$aad" "$ct"
    refused $side "$suite" "$sk" "$bad_enc" "$info" "$aad" "$ct"
  done
}

rounds=0
for suite in X448-HPKE-SHA512-AES256GCM X25519-HPKE-SHA256-CHACHA20POLY1305 P256-HPKE-SHA256-AES128GCM; do
  n=4
  [ "$suite" = P256-HPKE-SHA256-AES128GCM ] && n=2  # RFC 9180 vectors pin P-256 already
  for _ in $(seq "$n"); do
    cross V J "$suite"
    cross J V "$suite"
    rounds=$((rounds + 2))
  done
done

# An empty plaintext, aad and info, both ways (the AEADs' edge).
for suite in X448-HPKE-SHA512-AES256GCM X25519-HPKE-SHA256-CHACHA20POLY1305; do
  keys=$(J keygen "$suite")
  sealed=$(V seal "$suite" "$(sed -n 2p <<<"$keys")" "" "" "")
  expect_exit 0 J open "$suite" "$(sed -n 1p <<<"$keys")" "$(sed -n 1p <<<"$sealed")" "" "" "$(sed -n 2p <<<"$sealed")"
  expect_same "$(cat out.txt)" ""
  keys=$(V keygen "$suite")
  sealed=$(J seal "$suite" "$(sed -n 2p <<<"$keys")" "" "" "")
  expect_exit 0 V open "$suite" "$(sed -n 1p <<<"$keys")" "$(sed -n 1p <<<"$sealed")" "" "" "$(sed -n 2p <<<"$sealed")"
  expect_same "$(cat out.txt)" ""
done

echo "hpke_x448: $rounds crossings"
finish
