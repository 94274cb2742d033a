#!/usr/bin/env bash
# Crash safety of the cache and its transparency log: `vouch cache import` into a logged
# cache killed with SIGKILL at random moments; after every kill `git fsck` passes, the branch
# names a complete commit, `vouch cache verify` passes (the log too: signed, the root of its
# tiles, only grown, every leaf the voucher it names), the log holds 20 or 170 leaves and is
# never ahead of the branch, and running the import again ends with every voucher present
# and logged exactly once.
. "$(dirname "$0")/lib.sh"
: "${MAKE_VOUCHERS:?path to the make_vouchers test generator}"
# 200 kills in the gcc build; 50 in the sanitizer build, whose share is memory errors on the
# same paths (its imports run some 5x slower: 200 kills took 390 s, most of a CI run's tail).
if [ "${VOUCH_SANITIZED:-0}" = 1 ]; then TRIALS=${VOUCH_KILL_TRIALS:-50}; else TRIALS=${VOUCH_KILL_TRIALS:-200}; fi

make_ca mfr
"$MAKE_VOUCHERS" 20 base mfr.key mfr.pem
"$MAKE_VOUCHERS" 150 more mfr.key mfr.pem
"$VOUCH" cache init --cache pristine.git >/dev/null
"$VOUCH" cache import base --cache pristine.git >/dev/null
"$VOUCH" log init --cache pristine.git --origin kill.example/log --key "$T/log.key" >/dev/null 2>&1
logged() { "$VOUCH" log status --cache work.git --json | sed -n 's/.*"size": \([0-9]*\).*/\1/p'; }
count() { "$VOUCH" cache list --cache work.git --json | sed -n 's/.*"count": \([0-9]*\).*/\1/p'; }

cp -a pristine.git probe.git
start=$(date +%s%N); "$VOUCH" cache import more --cache probe.git >/dev/null; end=$(date +%s%N)
span_us=$(( (end - start) / 1000 * 3 / 2 + 1 ))
echo "one import: $(( (end - start) / 1000 )) us; killing at 0..$span_us us"

landed=0 behind=0
for i in $(seq 1 "$TRIALS"); do
  rm -rf work.git && cp -a pristine.git work.git
  "$VOUCH" cache import more --cache work.git >/dev/null 2>&1 &
  pid=$!
  delay_us=$(( (RANDOM * 32768 + RANDOM) % span_us ))
  sleep "$(printf '0.%06d' "$delay_us")"
  kill -9 "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
  git --git-dir work.git fsck --strict >/dev/null 2>fsck.txt || fail "trial $i: git fsck: $(cat fsck.txt)"
  git --git-dir work.git cat-file -e "refs/heads/vouchers^{commit}" || fail "trial $i: branch is not a commit"
  git --git-dir work.git ls-tree -r refs/heads/vouchers >/dev/null || fail "trial $i: branch tree incomplete"
  "$VOUCH" cache verify --cache work.git >/dev/null 2>verify.txt || fail "trial $i: verify: $(cat verify.txt)"
  n=$(count); [ "$n" = 20 ] || [ "$n" = 170 ] || fail "trial $i: $n vouchers, neither before (20) nor after (170)"
  [ "$n" = 170 ] && landed=$((landed + 1))
  l=$(logged); [ "$l" = 20 ] || [ "$l" = "$n" ] || fail "trial $i: the log holds $l leaves with $n vouchers on the branch"
  [ "$l" -lt "$n" ] && behind=$((behind + 1))
  "$VOUCH" cache import more --cache work.git >/dev/null 2>import.txt || fail "trial $i: re-import: $(cat import.txt)"
  [ "$(count)" = 170 ] || fail "trial $i: after re-import $(count) vouchers, expected 170"
  [ "$(logged)" = 170 ] || fail "trial $i: after re-import the log holds $(logged) leaves, expected 170"
  "$VOUCH" cache verify --cache work.git >/dev/null 2>verify.txt || fail "trial $i: verify after re-import: $(cat verify.txt)"
  ok
done
echo "$TRIALS kills: the import had landed in $landed, not in $((TRIALS - landed)); the log was behind the branch (caught up by the next import) in $behind"
finish
