#!/usr/bin/env bash
# Bundles on sticks and the device-side fetcher, with the real unzip as a peer.
. "$(dirname "$0")/lib.sh"

make_ca mfr
make_ca owner-ca
issue() { # STATE SERIAL OUTDIR
  "$VOUCH" issue --device-key "$1/device.pub" --serial "$2" --signer-key mfr.key --signer-cert mfr.pem \
    --domain-ca owner-ca.pem --domain-ca-key owner-ca.key --out-dir "$3" >/dev/null
}
for i in 1 2 3; do
  expect_exit 0 "$VOUCH_DEVICE" init --state "dev$i" --serial "SN-$i" --trust mfr.pem
done
issue dev1 SN-1 old        # an older voucher for device 1, kept aside
sleep 1                    # (created-on has one-second resolution)
for i in 1 2 3; do issue "dev$i" "SN-$i" issued; done

# A bundle of all three, twice: the same bytes, the same name.
expect_exit 0 "$VOUCH" bundle create --from issued --out stick
bundle=$(cat out.txt)
expect_exit 0 "$VOUCH" bundle create --from issued --out again
cmp "$bundle" "$(cat out.txt)" || fail "bundle writing is not deterministic"; ok
expect_same "$(basename "$bundle")" "$(basename "$(cat out.txt)")"
# What --from refuses: no such directory; a file that is not a voucher, named like one.
expect_exit 1 "$VOUCH" bundle create --from no-such-dir --out x
expect_in err.txt "(not-found)"
mkdir junk && cp -r issued/. junk/ && echo nonsense > junk/bad.vjj
expect_exit 1 "$VOUCH" bundle create --from junk --out x
expect_in err.txt "junk/bad.vjj"
expect_in err.txt "(malformed)"
unzip -t "$bundle" > unzip.txt || fail "unzip -t refused our bundle: $(cat unzip.txt)"; ok
expect_in unzip.txt "No errors detected"
unzip -l "$bundle" > unzip.txt
expect_in unzip.txt "vouch-bundle.json"
[ "$(grep -c ' vouchers/[A-Z2-7][A-Z2-7]/[A-Z2-7][A-Z2-7]/M[A-Z2-7-]*/M[A-Z2-7-]*\.vjj$' unzip.txt)" = 3 ] || fail "unzip -l does not show 3 layout paths"; ok
[ "$(unzip -Z1 "$bundle" | head -1)" = "vouch-bundle.json" ] || fail "manifest is not the first entry"; ok
expect_exit 0 "$VOUCH" bundle verify "$bundle" --trust mfr.pem
expect_in out.txt "3 signatures verify"
expect_exit 0 "$VOUCH" bundle list "$bundle" --json
expect_in out.txt '"count": 3'

# A read-only stick, hashed before and after: fetching never writes to it.
hash_tree() { (cd "$1" && find . -exec stat -c '%n %s %a %Y' {} + | sort && find . -type f -exec sha256sum {} + | sort); }
chmod -R a-w stick
before=$(hash_tree stick)
expect_exit 0 "$VOUCH_DEVICE" fetch --state dev1 stick
expect_in out.txt "enrolled"
expect_exit 0 "$VOUCH_DEVICE" fetch --state dev1 stick        # replay: a no-op
expect_in out.txt "already-current"
expect_exit 0 "$VOUCH_DEVICE" fetch --state dev2 stick --json
expect_in out.txt '"outcome": "enrolled"'
expect_same "$(hash_tree stick)" "$before"

# A plain vouchers/ tree is a medium too, mixed with other devices' vouchers.
cp -r issued stick2
expect_exit 0 "$VOUCH_DEVICE" fetch --state dev3 stick2
expect_in out.txt "enrolled"

# Rollback: the older voucher for device 1 is refused once the newer one is applied.
expect_exit 4 "$VOUCH_DEVICE" fetch --state dev1 old
expect_in out.txt "(rollback)"
# Both on one medium: the newest wins whatever the order found.
mkdir both && cp -r old/vouchers both/ && cp "$bundle" both/
expect_exit 0 "$VOUCH_DEVICE" fetch --state dev1 both
expect_in out.txt "current"

# Links are never followed, not even to a valid voucher: the link could lead off the medium.
"$VOUCH_DEVICE" init --state dev9 --serial SN-1 --trust mfr.pem >/dev/null
mkdir linkstick
ln -s "$T/old/vouchers" linkstick/vouchers
ln -s "$bundle" linkstick/elsewhere.vbundle
expect_exit 3 "$VOUCH_DEVICE" fetch --state dev1 linkstick
expect_in out.txt "no-voucher"

# No voucher for this device: exit 3. A hostile bundle: refused whole, exit 4, with its code.
expect_exit 3 "$VOUCH_DEVICE" fetch --state dev9 stick2
mkdir badstick && head -c 1000 "$bundle" > "badstick/$(basename "$bundle")"
expect_exit 4 "$VOUCH_DEVICE" fetch --state dev9 badstick
expect_in out.txt "(truncated)"
cp "$bundle" badstick/ && printf 'junk' >> "badstick/$(basename "$bundle")"
expect_exit 4 "$VOUCH_DEVICE" fetch --state dev9 badstick
expect_in out.txt "(trailing-data)"
# A bundle file given directly as the medium.
expect_exit 0 "$VOUCH_DEVICE" fetch --state dev3 "$bundle"
expect_in out.txt "already-current"
finish
