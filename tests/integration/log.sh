#!/usr/bin/env bash
# The cache's transparency log (cache/log.md) with the real git CLI and Go's sumdb/tlog as
# peers: log init appends what the cache holds, every import appends and signs a checkpoint,
# the log branch is c2sp tiles that Go's TileHashReader accepts, proofs match Go's, witnesses
# cosign and refuse a fork, the owner's monitor alarms on an unexpected voucher and on a
# fork, mirrors carry the log, a pulling cache appends to its own log.
SRC=$(cd "$(dirname "$0")/../tlog_go" && pwd)
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/daemon.sh"
: "${MAKE_VOUCHERS:?path to the make_vouchers test generator}"

command -v go >/dev/null || fail "go is not installed (./dev installs golang-go golang-golang-x-mod-dev)"
HOME="$T" GOCACHE="$T/gocache" GO111MODULE=off GOPATH=/usr/share/gocode \
  go build -o "$T/tlog_go" "$SRC/main.go" || fail "building tests/tlog_go"
GO="$T/tlog_go"

make_ca mfr
export VOUCH_CACHE="$T/cache.git"
fsck() { git --git-dir "$1" fsck --strict >/dev/null 2>fsck.txt || fail "git fsck --strict: $(cat fsck.txt)"; ok; }
logfiles() { git --git-dir "${1:-$VOUCH_CACHE}" ls-tree -r --name-only refs/heads/log | tr '\n' ' '; }
size() { "$VOUCH" log status --json "$@" | sed -n 's/.*"size": \([0-9]*\).*/\1/p'; }

expect_exit 0 "$VOUCH" cache init --trust mfr.pem
"$MAKE_VOUCHERS" 300 a mfr.key mfr.pem
expect_exit 0 "$VOUCH" cache import a
# Not a log yet: prove says so.
expect_exit 1 "$VOUCH" log prove vouchers/x
expect_in err.txt "(not-found)"

# log init: the existing 300 vouchers become leaves 0..299; the key is created 0600.
expect_exit 0 "$VOUCH" log init --origin mfr.example/vouchers --key log.key
LOG_VKEY=$(cat out.txt)
echo "$LOG_VKEY" > log.vkey
expect_same "$(stat -c %a log.key)" 600
expect_same "$(size)" 300
expect_same "$(logfiles)" "checkpoint covers index/000 index/001.p/44 tile/0/000 tile/0/001.p/44 tile/1/000.p/1 "
expect_same "$(git --git-dir "$VOUCH_CACHE" show refs/heads/log:covers)" "$(git --git-dir "$VOUCH_CACHE" rev-parse refs/heads/vouchers)"
# One log, one origin.
expect_exit 1 "$VOUCH" log init --origin other.example/log --key log.key
expect_in err.txt "(exists)"
# Run again: nothing to append, nothing written.
before=$(git --git-dir "$VOUCH_CACHE" rev-parse refs/heads/log)
expect_exit 0 "$VOUCH" log init --origin mfr.example/vouchers --key log.key
expect_same "$(git --git-dir "$VOUCH_CACHE" rev-parse refs/heads/log)" "$before"

# Every import appends, in path order, and replaces the partial tiles it grew.
"$MAKE_VOUCHERS" 10 b mfr.key mfr.pem
expect_exit 0 "$VOUCH" cache import b
expect_same "$(size)" 310
expect_same "$(logfiles)" "checkpoint covers index/000 index/001.p/54 tile/0/000 tile/0/001.p/54 tile/1/000.p/1 "
expect_same "$(git --git-dir "$VOUCH_CACHE" show refs/heads/log:index/001.p/54 | tail -10)" \
  "$(cd b && find vouchers -name '*.vjj' | LC_ALL=C sort)"
# Nothing new: no new checkpoint.
before=$(git --git-dir "$VOUCH_CACHE" rev-parse refs/heads/log)
expect_exit 0 "$VOUCH" cache import b
expect_same "$(git --git-dir "$VOUCH_CACHE" rev-parse refs/heads/log)" "$before"
fsck "$VOUCH_CACHE"
expect_exit 0 "$VOUCH" cache verify

# The log branch as Go reads it: Go opens the checkpoint with the log's vkey, its
# TileHashReader accepts the tiles (it checks them against the checkpoint's root), and its
# inclusion proofs from the tiles are the ones vouch log prove prints.
mkdir tiles && git --git-dir "$VOUCH_CACHE" archive refs/heads/log | tar -x -C tiles
path=$(git --git-dir "$VOUCH_CACHE" show refs/heads/log:index/001.p/54 | sed -n 50p)
id=$(basename "$path" .vjj)
expect_exit 0 "$VOUCH" log prove "$id"
cp out.txt by_id.proof
expect_exit 0 "$VOUCH" log prove "$path" --out by_path.proof
cmp -s by_id.proof by_path.proof || fail "prove by id and by path differ"
expect_same "$(sed -n 2p by_id.proof)" "index 305"
expect_exit 0 "$GO" tiles tiles "$LOG_VKEY" 0 299 305 309
expect_same "$(sed -n '/^-$/,$p' out.txt | awk '/^-$/{n++; next} n==3')" "$(sed -n '3,/^$/p' by_id.proof | sed '/^$/d')"
# Go checks our proof against our root too.
root=$(sed -n 3p tiles/checkpoint)
# shellcheck disable=SC2046
expect_exit 0 "$GO" check-record 305 310 "$root" "b/$path" $(sed -n '3,/^$/p' by_id.proof | sed '/^$/d')
expect_exit 1 "$VOUCH" log prove MAAA-AAAA-AAAA-AAAA-AAAA-AAAA-AAAA-AAAA-AAAA-AAAA-AAAA-AAAA-AAAA
expect_in err.txt "(not-found)"

# Witnesses: each cosigns after checking the log extends what it cosigned before.
expect_exit 0 "$VOUCH" witness init --name w1.example --key w1.key --state w1
W1=$(cat out.txt)
expect_exit 0 "$VOUCH" witness init --name w2.example --key w2.key --state w2
expect_exit 0 "$VOUCH" witness cosign --log-key log.vkey --state w1
expect_exit 0 "$VOUCH" witness cosign --log-key "$LOG_VKEY" --state w2 --json
expect_in out.txt '"result": "cosigned"'
expect_same "$(git --git-dir "$VOUCH_CACHE" show refs/heads/log:checkpoint | grep -c '^— ')" 3
# Cosigning again replaces the witness's own line.
expect_exit 0 "$VOUCH" witness cosign --log-key log.vkey --state w1
expect_same "$(git --git-dir "$VOUCH_CACHE" show refs/heads/log:checkpoint | grep -c '^— ')" 3
# Go still opens the cosigned checkpoint with the log's key (it ignores the witnesses' lines).
git --git-dir "$VOUCH_CACHE" show refs/heads/log:checkpoint > cosigned.note
expect_exit 0 "$GO" open "$LOG_VKEY" cosigned.note
# A witness refuses a checkpoint the key it was given did not sign (a cosigner key is no log key).
"$VOUCH" witness init --name w3.example --key w3.key --state w3 >/dev/null
expect_exit 1 "$VOUCH" witness cosign --log-key "$W1" --state w3
expect_in err.txt "(untrusted-signer)"

# Proofs travel beside vouchers: cache get --out-dir writes them.
udf=$(basename "$(dirname "$path")")
expect_exit 0 "$VOUCH" cache get "$udf" --out-dir got --json
expect_in out.txt '"proof": true'
[ -f "got/$path.tlog-proof" ] || fail "no proof beside got/$path"
ok
expect_same "$(sed -n 2p "got/$path.tlog-proof")" "index 305"

# The owner's monitor: a voucher for a watched device that the owner did not issue alarms
# (and the alarm repeats); once expected, the state moves on.
expect_exit 1 "$VOUCH" log monitor --device "$udf" --state mon/state --log-key log.vkey
expect_in err.txt "(unexpected-voucher)"
expect_in out.txt "UNEXPECTED  305  $udf  $id"
expect_exit 1 "$VOUCH" log monitor --device "$udf" --state mon/state
expect_exit 0 "$VOUCH" log monitor --device "$udf" --state mon/state --expect b --json
expect_in out.txt '"expected": true'
expect_in out.txt '"from": 0'
expect_exit 0 "$VOUCH" log monitor --device "$udf" --state mon/state --expect b --json
expect_in out.txt '"from": 310'
printf '%s\n' "$udf" > fleet.txt
"$MAKE_VOUCHERS" 3 c mfr.key mfr.pem
expect_exit 0 "$VOUCH" cache import c
expect_exit 0 "$VOUCH" log monitor --devices fleet.txt --state mon/state --expect b
expect_in err.txt "leaves 310..313: 0 for the watched devices"

# A fork: a second cache under the same log key and origin, with other vouchers. Its
# checkpoints are validly signed, but no consistency proof joins them to the first log's.
fork="$T/fork.git"
expect_exit 0 "$VOUCH" cache init --cache "$fork" --trust mfr.pem
"$MAKE_VOUCHERS" 320 f mfr.key mfr.pem
expect_exit 0 "$VOUCH" cache import --cache "$fork" f
expect_exit 0 "$VOUCH" log init --cache "$fork" --origin mfr.example/vouchers --key log.key
expect_exit 0 "$VOUCH" log status --cache "$fork" --json
expect_in out.txt '"size": 320'
expect_exit 1 "$VOUCH" witness cosign --log-key log.vkey --state w1 --cache "$fork" --json
expect_in out.txt '"code": "log-fork"'
expect_same "$(ls w1/evidence/*/ | wc -l)" 2
expect_same "$(git --git-dir "$fork" show refs/heads/log:checkpoint | grep -c '^— ')" 1  # nothing cosigned
expect_exit 1 "$VOUCH" log monitor --cache "$fork" --device "$udf" --state mon/state
expect_in err.txt "(log-fork)"
expect_same "$(ls mon/state.forks | wc -l)" 2
# Two cosigns at once, one per side of the fork, on a fresh witness: one at most succeeds
# (the witness's state is read, checked and written under its lock).
for i in $(seq 1 10); do
  "$VOUCH" witness init --name race.example --key race.key --state "race$i" >/dev/null
  rc1=0 rc2=0
  "$VOUCH" witness cosign --log-key log.vkey --state "race$i" >/dev/null 2>&1 & p1=$!
  "$VOUCH" witness cosign --log-key log.vkey --state "race$i" --cache "$fork" >/dev/null 2>&1 & p2=$!
  wait $p1 || rc1=$?
  wait $p2 || rc2=$?
  [ "$rc1" != 0 ] || [ "$rc2" != 0 ] || fail "race $i: the witness cosigned both sides of a fork"
  ok
done

# A rolled-back log (smaller than what the witness cosigned) is refused as such.
small="$T/small.git"
expect_exit 0 "$VOUCH" cache init --cache "$small" --trust mfr.pem
expect_exit 0 "$VOUCH" cache import --cache "$small" a
expect_exit 0 "$VOUCH" log init --cache "$small" --origin mfr.example/vouchers --key log.key
expect_exit 1 "$VOUCH" witness cosign --log-key log.vkey --state w1 --cache "$small"
expect_in err.txt "(rollback)"
expect_exit 1 "$VOUCH" log monitor --cache "$small" --device "$udf" --state mon/state --log-key log.vkey
expect_in err.txt "(rollback)"

# Mirrors carry the log byte for byte.
git init -q --bare mirror.git
expect_exit 0 "$VOUCH" cache push "$T/mirror.git"
expect_same "$(git --git-dir mirror.git rev-parse refs/heads/log)" "$(git --git-dir "$VOUCH_CACHE" rev-parse refs/heads/log)"
fsck mirror.git
git clone -q --mirror mirror.git clone.git
expect_same "$(git --git-dir clone.git rev-parse refs/heads/log)" "$(git --git-dir "$VOUCH_CACHE" rev-parse refs/heads/log)"
# Pushing again with only the log moved (a cosignature) pushes the log.
expect_exit 0 "$VOUCH" witness cosign --log-key log.vkey --state w2
expect_exit 0 "$VOUCH" cache push "$T/mirror.git"
expect_same "$(git --git-dir mirror.git rev-parse refs/heads/log)" "$(git --git-dir "$VOUCH_CACHE" rev-parse refs/heads/log)"

# One log, one writer: a cache that pulls appends what is new to its own log, its own origin.
other="$T/other.git"
expect_exit 0 "$VOUCH" cache init --cache "$other" --trust mfr.pem
expect_exit 0 "$VOUCH" cache import --cache "$other" c
expect_exit 0 "$VOUCH" log init --cache "$other" --origin other.example/vouchers --key other.key
expect_exit 0 "$VOUCH" cache pull --cache "$other" "$T/mirror.git"
expect_same "$(size --cache "$other")" 313
expect_exit 0 "$VOUCH" log status --cache "$other" --json
expect_in out.txt '"origin": "other.example/vouchers"'
expect_exit 0 "$VOUCH" cache verify --cache "$other"

# A pull checks the remote's log against every copy of it the cache holds: a mirror showing
# a forked history of the log is refused whole (split view), with both checkpoints kept.
watcher="$T/watcher.git"
expect_exit 0 "$VOUCH" cache init --cache "$watcher" --trust mfr.pem
# Without a key for that log, the pull leaves it alone (anyone can publish a "log" of any
# origin under a key of their own: it proves nothing, and must not become the reference).
expect_exit 0 "$VOUCH" cache pull --cache "$watcher" "$T/mirror.git" --json
expect_in out.txt '"log-checked": false'
expect_same "$(git --git-dir "$watcher" for-each-ref refs/vouch/logs/)" ""
expect_exit 0 "$VOUCH" cache pull --cache "$watcher" "$T/mirror.git" --json --log-key log.vkey
expect_in out.txt '"log-origin": "mfr.example/vouchers"'
expect_in out.txt '"log-checked": true'
kept=$(git --git-dir "$watcher" for-each-ref --format='%(refname)' refs/vouch/logs/)
expect_same "$(git --git-dir "$watcher" cat-file -t "$kept")" tree
expect_same "$(git --git-dir "$watcher" rev-parse "$kept")" "$(git --git-dir "$VOUCH_CACHE" rev-parse 'refs/heads/log^{tree}')"
git init -q --bare fork-mirror.git
expect_exit 0 "$VOUCH" cache push --cache "$fork" "$T/fork-mirror.git"
tip=$(git --git-dir "$watcher" rev-parse refs/heads/vouchers)
expect_exit 1 "$VOUCH" cache pull --cache "$watcher" "$T/fork-mirror.git" --json --log-key log.vkey
expect_in out.txt '"code": "log-fork"'
expect_same "$(git --git-dir "$watcher" rev-parse refs/heads/vouchers)" "$tip"
expect_same "$(ls "$watcher"/vouch/evidence/*/ | wc -l)" 2
# Over the network (a real git daemon on 127.0.0.1): the log is fetched beside the branch and
# checked the same way; the forked mirror is refused there too.
mkdir srv && cp -a mirror.git srv/public.git && cp -a fork-mirror.git srv/forked.git
start_daemon "$T/srv" public.git
netwatch="$T/netwatch.git"
expect_exit 0 "$VOUCH" cache init --cache "$netwatch" --trust mfr.pem
expect_exit 0 "$VOUCH" cache pull --cache "$netwatch" "git://127.0.0.1:$port/public.git" --json --log-key log.vkey
expect_in out.txt '"log-checked": true'
expect_exit 1 "$VOUCH" cache pull --cache "$netwatch" "git://127.0.0.1:$port/forked.git" --json --log-key "$LOG_VKEY"
expect_in out.txt '"code": "log-fork"'
# A witness and a monitor of the remote log, through their own mirrors of it.
expect_exit 0 "$VOUCH" witness init --name w4.example --key w4.key --state w4
cp out.txt w4.vkey
expect_exit 0 "$VOUCH" witness cosign --log-key log.vkey --state w4 "git://127.0.0.1:$port/public.git" --out w4.note
expect_exit 0 "$VOUCH" log add-cosignature --witness w4.vkey w4.note --json
expect_in out.txt '"added": 1'
expect_exit 1 "$VOUCH" witness cosign --log-key log.vkey --state w4 "git://127.0.0.1:$port/forked.git"
expect_in err.txt "(log-fork)"
expect_exit 2 "$VOUCH" log monitor "git://127.0.0.1:$port/public.git" --device "$udf" --state netmon
expect_in err.txt "(usage)"   # a REMOTE needs --log-key
expect_exit 0 "$VOUCH" log monitor "git://127.0.0.1:$port/public.git" --log-key log.vkey --device "$udf" --expect b --state netmon --json
expect_in out.txt '"origin": "mfr.example/vouchers"'
# add-cosignature takes only lines that verify under the witnesses given.
expect_exit 1 "$VOUCH" log add-cosignature --witness "$W1" w4.note
expect_in err.txt "(too-few-witnesses)"

# A mirror that rewrites the entry index (no key needed: the checkpoint and tiles do not
# cover it) to file a voucher under another device, hiding it from that device's monitor:
# every new leaf is checked against the voucher its index entry names, so pulls and monitors
# refuse it (id-mismatch when the path is another voucher's; malformed when it is none).
rewrite_index() { # MIRROR FROM-PATH TO-PATH: one index line changed, a new log commit
  local G="git --git-dir=$1" idx blob tree commit
  idx=$($G ls-tree -r --name-only refs/heads/log | grep "^index/" | while read -r f; do
    $G show "refs/heads/log:$f" | grep -qxF "$2" && echo "$f"; done)
  $G show "refs/heads/log:$idx" | sed "s|^$2\$|$3|" > idx.txt
  blob=$($G hash-object -w idx.txt)
  GIT_INDEX_FILE="$T/rewrite.index" $G read-tree refs/heads/log
  GIT_INDEX_FILE="$T/rewrite.index" $G update-index --cacheinfo "100644,$blob,$idx"
  tree=$(GIT_INDEX_FILE="$T/rewrite.index" $G write-tree)
  commit=$(echo "vouch: log" | $G commit-tree "$tree" -p refs/heads/log)
  $G update-ref refs/heads/log "$commit"
}
other_path=$(git --git-dir "$VOUCH_CACHE" show refs/heads/log:index/000 | sed -n 7p)
for to in "$other_path" "${other_path%/*}/MAAA-AAAA-AAAA-AAAA-AAAA-AAAA-AAAA-AAAA-AAAA-AAAA-AAAA-AAAA-AAAA.vjj"; do
  rm -rf evil.git && git clone -q --mirror mirror.git evil.git
  rewrite_index evil.git "$path" "$to"
  rm -rf evilwatch.git
  expect_exit 0 "$VOUCH" cache init --cache "$T/evilwatch.git" --trust mfr.pem
  expect_exit 1 "$VOUCH" cache pull --cache "$T/evilwatch.git" "$T/evil.git" --log-key log.vkey
  if [ "$to" = "$other_path" ]; then expect_in err.txt "(id-mismatch)"; else expect_in err.txt "(malformed)"; fi
  expect_exit 1 "$VOUCH" log monitor "$T/evil.git" --log-key log.vkey --device "$udf" --expect b --state "evilmon-$RANDOM"
  expect_same "$(git --git-dir evilwatch.git for-each-ref refs/vouch/logs/)" ""
done

# gc keeps the log branch and the kept remote log; everything still verifies and proves.
expect_exit 0 "$VOUCH" cache gc --cache "$watcher"
fsck "$watcher"
expect_exit 0 "$VOUCH" cache gc
fsck "$VOUCH_CACHE"
expect_exit 0 "$VOUCH" cache verify
expect_exit 0 "$VOUCH" log prove "$id"

# Writers racing on a logged cache: the branch takes both (compare-and-swap), the log appends
# each voucher exactly once, whoever wins (cache verify checks: one leaf per voucher).
race="$T/race.git"
expect_exit 0 "$VOUCH" cache init --cache "$race"
expect_exit 0 "$VOUCH" log init --cache "$race" --origin race.example/log --key race-log.key
"$MAKE_VOUCHERS" 200 r1 && "$MAKE_VOUCHERS" 200 r2 && "$MAKE_VOUCHERS" 200 r3
"$VOUCH" cache import --cache "$race" r1 a >/dev/null 2>&1 & q1=$!
"$VOUCH" cache import --cache "$race" r2 a >/dev/null 2>&1 & q2=$!
"$VOUCH" cache import --cache "$race" r3 r1 >/dev/null 2>&1 & q3=$!
wait $q1 && wait $q2 && wait $q3 || fail "a racing import failed"
expect_same "$(size --cache "$race")" 900
expect_exit 0 "$VOUCH" cache verify --cache "$race"

# cache verify: a log branch moved back is behind, not broken; another log's branch is refused.
at310=$(git --git-dir "$VOUCH_CACHE" log --format='%H %s' refs/heads/log | grep 'size 310)$' | cut -d' ' -f1)
git --git-dir "$VOUCH_CACHE" update-ref refs/heads/log "$at310"
expect_exit 0 "$VOUCH" cache verify   # an older log is still a consistent log, only behind
expect_exit 0 "$VOUCH" log status --json
expect_in out.txt '"behind": 3'
# The forked log put in this cache's place covers vouchers its branch never had.
git --git-dir "$fork" repack -a -q && cp "$fork"/objects/pack/* "$VOUCH_CACHE/objects/pack/"
git --git-dir "$VOUCH_CACHE" update-ref refs/heads/log "$(git --git-dir "$fork" rev-parse refs/heads/log)"
expect_exit 1 "$VOUCH" cache verify
expect_in err.txt "(rewritten)"

finish
