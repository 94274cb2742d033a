#!/usr/bin/env bash
# The append-only git cache, checked with the real git CLI (fsck, log, history rewrites).
. "$(dirname "$0")/lib.sh"
: "${MAKE_VOUCHERS:?path to the make_vouchers test generator}"

make_ca mfr
make_ca stranger
export VOUCH_CACHE="$T/cache.git"
count() { "$VOUCH" cache list --json | sed -n 's/.*"count": \([0-9]*\).*/\1/p'; }
packs() { find "$VOUCH_CACHE/objects/pack" -name '*.pack' | wc -l; }
fsck() { git --git-dir "$1" fsck --strict >/dev/null 2>fsck.txt || fail "git fsck --strict: $(cat fsck.txt)"; ok; }

expect_exit 0 "$VOUCH" cache init --trust mfr.pem
# Imports pack with a one-object delta window, every delta kept; gc and mirrors as git does.
expect_same "$(git config -f "$VOUCH_CACHE/vouch/import.config" pack.windowMemory)" 1
expect_same "$(git config -f "$VOUCH_CACHE/vouch/import.config" pack.deltaCacheLimit)" 65535
expect_same "$(git --git-dir "$VOUCH_CACHE" config pack.windowMemory || true)" ""
"$MAKE_VOUCHERS" 5 a mfr.key mfr.pem
expect_exit 0 "$VOUCH" cache import a --json
expect_in out.txt '"added": 5'
expect_same "$(count)" 5
expect_same "$(packs)" 1
expect_same "$(find "$VOUCH_CACHE/objects" -type f ! -path '*/pack/*' ! -path '*/info/*' | wc -l)" 0   # no loose objects
expect_same "$(git --git-dir "$VOUCH_CACHE" log --format=%s refs/heads/vouchers)" "vouch: add vouchers from a"
fsck "$VOUCH_CACHE"

# The same again: nothing new, no commit.
expect_exit 0 "$VOUCH" cache import a
expect_in out.txt "added 0, already present 5"
expect_same "$(git --git-dir "$VOUCH_CACHE" rev-list --count refs/heads/vouchers)" 1

# Vouchers the cache's anchors did not sign are refused; nothing is committed.
"$MAKE_VOUCHERS" 2 s stranger.key stranger.pem
expect_exit 1 "$VOUCH" cache import s
expect_in err.txt "(untrusted-signer)"
expect_same "$(count)" 5

# get, list, verify
udf=$(basename "$(dirname "$(find a -name '*.vjj' | head -1)")")
expect_exit 0 "$VOUCH" cache get "$udf" --out-dir got
expect_same "$(find got -name '*.vjj' | wc -l)" 1
cmp "$(find got -name '*.vjj')" "$(find a -path "*/$udf/*" -name '*.vjj')" || fail "get returned other bytes"; ok
expect_exit 1 "$VOUCH" cache get MAAA-AAAA-AAAA-AAAA-AAAA-AAAA-AAAA
expect_exit 0 "$VOUCH" cache verify

# Histories rewritten with the git CLI: verify names the first offending commit.
good=$(git --git-dir "$VOUCH_CACHE" rev-parse refs/heads/vouchers)
git clone -q "$VOUCH_CACHE" -b vouchers work
victim=$(cd work && git ls-files | head -1)
(cd work && git rm -q "$victim" && git -c user.name=t -c user.email=t@t commit -qm "delete one" && git push -q origin vouchers 2>/dev/null)
bad=$(git --git-dir "$VOUCH_CACHE" rev-parse --short=12 refs/heads/vouchers)
expect_exit 1 "$VOUCH" cache verify
expect_in err.txt "commit $bad deletes $victim"
expect_in err.txt "(rewritten)"
git --git-dir "$VOUCH_CACHE" update-ref refs/heads/vouchers "$good"
(cd work && git fetch -q && git reset -q --hard origin/vouchers && echo tampered >> "$victim" \
  && git -c user.name=t -c user.email=t@t commit -qam "change one" && git push -q origin vouchers 2>/dev/null)
expect_exit 1 "$VOUCH" cache verify
expect_in err.txt "changes $victim"
git --git-dir "$VOUCH_CACHE" update-ref refs/heads/vouchers "$good"
(cd work && git reset -q --hard "$good" && mkdir -p vouchers/XX && echo x > vouchers/XX/readme \
  && git add -A && git -c user.name=t -c user.email=t@t commit -qm "stray file" && git push -q -f origin vouchers 2>/dev/null)
expect_exit 1 "$VOUCH" cache verify
expect_in err.txt "(unsafe-path)"
git --git-dir "$VOUCH_CACHE" update-ref refs/heads/vouchers "$good"
# A real voucher filed under another id, and one filed under another device.
(cd work && git reset -q --hard "$good" && d=$(dirname "$victim") \
  && cp "$victim" "$d/MAAA-AAAA-AAAA-AAAA-AAAA-AAAA-AAAA-AAAA-AAAA-AAAA-AAAA-AAAA-AAAA.vjj" \
  && git add -A && git -c user.name=t -c user.email=t@t commit -qm "wrong id" && git push -q -f origin vouchers 2>/dev/null)
expect_exit 1 "$VOUCH" cache verify
expect_in err.txt "(id-mismatch)"
other=$(cd work && git ls-files | grep -v "^$(dirname "$victim")/" | head -1)
(cd work && git reset -q --hard "$good" && mkdir -p "$(dirname "$other")" \
  && cp "$victim" "$(dirname "$other")/$(basename "$victim")" \
  && git add -A && git -c user.name=t -c user.email=t@t commit -qm "wrong device" && git push -q -f origin vouchers 2>/dev/null)
expect_exit 1 "$VOUCH" cache verify
expect_in err.txt "(wrong-device)"
git --git-dir "$VOUCH_CACHE" update-ref refs/heads/vouchers "$good"
expect_exit 0 "$VOUCH" cache verify

# Two processes importing 1,000 different vouchers each, at the same time: all 2,000 land.
"$MAKE_VOUCHERS" 1000 p1 mfr.key mfr.pem
"$MAKE_VOUCHERS" 1000 p2 mfr.key mfr.pem
"$VOUCH" cache import p1 > p1.out 2>&1 & pid1=$!
"$VOUCH" cache import p2 > p2.out 2>&1 & pid2=$!
wait $pid1 || fail "import p1: $(cat p1.out)"; ok
wait $pid2 || fail "import p2: $(cat p2.out)"; ok
expect_same "$(count)" 2005
expect_exit 0 "$VOUCH" cache verify
fsck "$VOUCH_CACHE"

# gc consolidates the packs; everything still there.
expect_exit 0 "$VOUCH" cache gc
expect_same "$(packs)" 1
expect_same "$(count)" 2005
expect_exit 0 "$VOUCH" cache verify
fsck "$VOUCH_CACHE"

# An import whose pack cannot be written (here: a file size limit the indexer hits midway)
# fails as a whole: the branch and the packs are as before, nothing half-written is left.
"$MAKE_VOUCHERS" 600 big mfr.key mfr.pem
tip=$(git --git-dir "$VOUCH_CACHE" rev-parse refs/heads/vouchers)
pack_files=$(ls "$VOUCH_CACHE/objects/pack")
expect_exit 1 bash -c "trap '' XFSZ; ulimit -f 200; exec \"$VOUCH\" cache import big"
expect_in err.txt "pack write"
expect_in err.txt "(io)"
expect_same "$(git --git-dir "$VOUCH_CACHE" rev-parse refs/heads/vouchers)" "$tip"
expect_same "$(ls "$VOUCH_CACHE/objects/pack")" "$pack_files"
expect_same "$(count)" 2005
expect_exit 0 "$VOUCH" cache import big
expect_in out.txt "added 600"
expect_same "$(count)" 2605
fsck "$VOUCH_CACHE"

# Export to sticks: everything, then only what is new since that bundle.
expect_exit 0 "$VOUCH" bundle create --cache --out stick1 --json
first=$(sed -n 's/.*"id": "\([^"]*\)".*/\1/p' out.txt | head -1)
expect_in out.txt '"count": 2605'
"$MAKE_VOUCHERS" 3 b mfr.key mfr.pem
expect_exit 0 "$VOUCH" cache import b
expect_exit 0 "$VOUCH" bundle create --cache --since "$first" --out stick2 --json
expect_in out.txt '"count": 3'
expect_exit 0 "$VOUCH" bundle create --cache --since "$good" --out stick3 --json
expect_in out.txt '"count": 2603'
expect_exit 1 "$VOUCH" bundle create --cache --since nonsense --out stick4
expect_in err.txt "neither a commit nor a bundle"

# A copy of the cache on a stick is a medium; the fetcher reads it without writing.
"$VOUCH_DEVICE" init --state dev --serial SN-9 --trust mfr.pem >/dev/null
"$VOUCH" issue --device-key dev/device.pub --serial SN-9 --signer-key mfr.key --signer-cert mfr.pem \
  --domain-ca mfr.pem --out-dir mine >/dev/null
expect_exit 0 "$VOUCH" cache add mine
mkdir stick && git clone -q --bare "$VOUCH_CACHE" stick/vouchers.git
chmod -R a-w stick
before=$(find stick -type f -exec sha256sum {} + | sort)
expect_exit 0 "$VOUCH_DEVICE" fetch --state dev stick
expect_in out.txt "vouchers.git:vouchers/"
expect_in out.txt "enrolled"
expect_same "$(find stick -type f -exec sha256sum {} + | sort)" "$before"
# A cache whose objects point elsewhere (alternates) is refused, not followed.
chmod -R u+w stick && mkdir -p stick/evil.git && cp -r stick/vouchers.git/. stick/evil.git/
echo "$VOUCH_CACHE/objects" > stick/evil.git/objects/info/alternates
expect_exit 0 "$VOUCH_DEVICE" fetch --state dev stick --json
expect_in out.txt '"code": "unsupported"'
finish
