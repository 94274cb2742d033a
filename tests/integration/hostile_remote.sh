#!/usr/bin/env bash
# Pulls from hostile mirrors, each built with the real git CLI and served by a path, a file://
# URL or a real `git daemon` on 127.0.0.1 (started and stopped here). Every refused pull ends
# within 20 s and 96 MiB, names the remote, and leaves the cache exactly as it was: branch,
# refs, packs and loose objects (cache.md, "Bounds"). Sanitizer builds (VOUCH_SANITIZED=1)
# check time and exit status only.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/daemon.sh"
: "${MAKE_VOUCHERS:?path to the make_vouchers test generator}"
: "${MEASURE:?path to the measure test tool}"

make_ca mfr
"$MAKE_VOUCHERS" 4 v0 mfr.key mfr.pem
"$VOUCH" cache init --cache base.git >/dev/null
expect_exit 0 "$VOUCH" cache import v0 --cache base.git
base=$(git --git-dir base.git rev-parse refs/heads/vouchers)
mkdir srv
git clone -q --bare base.git srv/base.git
start_daemon "$T/srv" base.git
GIT="git://127.0.0.1:$port"
"$VOUCH" cache init --cache V.git >/dev/null
expect_exit 0 "$VOUCH" cache pull "$GIT/base.git" --cache V.git

# evil NAME: srv/NAME.git, a copy of the base mirror to make hostile with the git CLI.
evil() { git clone -q --bare base.git "srv/$1.git"; E="$T/srv/$1.git"; }
in_evil() { git --git-dir "$E" "$@"; }
# A tree: the branch's plus files ("MODE SHA<TAB>PATH" lines on stdin).
tree_plus() { rm -f idx; GIT_INDEX_FILE=$T/idx in_evil read-tree "${1:-refs/heads/vouchers}"; GIT_INDEX_FILE=$T/idx in_evil update-index --index-info; GIT_INDEX_FILE=$T/idx in_evil write-tree; }
# What a refused pull must not change: refs, packs, loose objects, the cache's own files.
snapshot() {
  git --git-dir "$1" for-each-ref --format='%(refname) %(objectname)'
  ls "$1/objects/pack"
  find "$1/objects" -type f ! -path '*/pack/*' ! -path '*/info/*' | sort
  ls -a "$1/vouch"
}

# refused NAME CODE REMOTE [CACHE]: a measured pull --json of REMOTE that exits 1 with CODE,
# within the bounds, naming REMOTE, with the cache unchanged.
refused() {
  local name=$1 code=$2 remote=$3 cache=${4:-V.git} rc=0
  snapshot "$cache" >before.txt
  timeout 60 "$MEASURE" "$VOUCH" cache pull "$remote" --cache "$cache" --json >"$name.json" 2>"$name.m" || rc=$?
  local secs kib status
  read -r secs kib status < <(tail -1 "$name.m") || fail "$name: no measurement (exit $rc: killed after 60 s?)"
  echo "$name: ${secs}s, $((kib / 1024)) MiB peak, exit $status"
  expect_same "$status" 1
  awk -v s="$secs" 'BEGIN { exit !(s < 20) }' || fail "$name: took ${secs}s"; ok
  if [ "${VOUCH_SANITIZED:-0}" != 1 ]; then [ "$kib" -lt $((96 * 1024)) ] || fail "$name: ${kib} KiB peak"; ok; fi
  expect_in "$name.json" "\"code\": \"$code\""
  expect_in "$name.json" "pull from $remote"
  snapshot "$cache" >after.txt
  cmp -s before.txt after.txt || { diff before.txt after.txt >&2; fail "$name: the refused pull changed the cache"; }; ok
}

# 1. A commit that adds nothing but a 96 MiB message: refused from its header, not read.
evil big-message
head -c $((96 << 20)) /dev/zero | tr '\0' m >message
c=$(in_evil commit-tree "$(in_evil rev-parse 'refs/heads/vouchers^{tree}')" -p refs/heads/vouchers -F message)
rm message
in_evil update-ref refs/heads/vouchers "$c"
refused big-message-git too-large "$GIT/big-message.git"
expect_in big-message-git.json "commit ${c:0:12} is 100663"
expect_in big-message-git.json "over the cap of 65536"
refused big-message-path too-large "$E"

# 2. A 256 MiB blob at a voucher path (packed, as mirrors serve it): refused from its header.
evil big-blob
blob=$(head -c $((256 << 20)) /dev/zero | in_evil hash-object -w --stdin)
dir=$(cd v0 && find vouchers -name '*.vjj' | head -1 | xargs dirname)
t=$(printf '100644 %s\t%s/MAAA-AAAA-AAAA-AAAA-AAAA-AAAA-AAAA-AAAA-AAAA-AAAA-AAAA-AAAA-AAAA.vjj\n' "$blob" "$dir" | tree_plus)
in_evil update-ref refs/heads/vouchers "$(in_evil commit-tree "$t" -p refs/heads/vouchers -m 'a big blob')"
in_evil repack -adq
refused big-blob-git too-large "$GIT/big-blob.git"
expect_in big-blob-git.json "268435456 bytes, over the cap of 65536"
refused big-blob-path too-large "file://$E"

# ...and two 128 MiB blobs that differ in a byte, which git packs as one plus a delta of a few
# bytes: libgit2's indexer would inflate base and result whole before anything is checked.
evil delta-bomb
b1=$(head -c $((128 << 20)) /dev/zero | in_evil hash-object -w --stdin)
b2=$({ head -c $((128 << 20)) /dev/zero; printf x; } | in_evil hash-object -w --stdin)
t=$(printf '100644 %s\t%s/MAAA-AAAA-AAAA-AAAA-AAAA-AAAA-AAAA-AAAA-AAAA-AAAA-AAAA-AAAA-AAAA.vjj\n100644 %s\t%s/MAAA-AAAA-AAAA-AAAA-AAAA-AAAA-AAAA-AAAA-AAAA-AAAA-AAAA-AAAA-AAAB.vjj\n' \
  "$b1" "$dir" "$b2" "$dir" | tree_plus)
in_evil update-ref refs/heads/vouchers "$(in_evil commit-tree "$t" -p refs/heads/vouchers -m 'a delta bomb')"
in_evil repack -adfq
in_evil verify-pack -v "$E"/objects/pack/*.idx >verify-pack.txt
grep -qE "^($b1|$b2) blob .* 1 ($b1|$b2)\$" verify-pack.txt || { cat verify-pack.txt >&2; fail "git made no delta of the two blobs"; }; ok
refused delta-bomb-git too-large "$GIT/delta-bomb.git"
expect_in delta-bomb-git.json "over the cap of 1048576 for one object"
refused delta-bomb-path too-large "$E"

# 3. Local remotes whose files are FIFOs or links: refused before anything opens them (a
# FIFO as config blocked the pull for good), and a push to one as well.
evil fifo-config
rm "$E/config" && mkfifo "$E/config"
refused fifo-config-path unsupported "$E"
expect_in fifo-config-path.json "config is a fifo, not a regular file"
refused fifo-config-url unsupported "file://$E"
expect_exit 1 timeout 20 "$VOUCH" cache push "$E" --cache V.git
expect_in err.txt "config is a fifo"
evil fifo-head
rm "$E/HEAD" && mkfifo "$E/HEAD"
refused fifo-head unsupported "$E"
evil fifo-object                 # a new voucher whose loose blob is a FIFO
v=$(cd v0 && find vouchers -name '*.vjj' | head -1)
"$MAKE_VOUCHERS" 1 v1 mfr.key mfr.pem
v1=$(cd v1 && find vouchers -name '*.vjj')
b=$(in_evil hash-object -w "v1/$v1")
t=$(printf '100644 %s\t%s\n' "$b" "$v1" | tree_plus)
in_evil update-ref refs/heads/vouchers "$(in_evil commit-tree "$t" -p refs/heads/vouchers -m fifo)"
rm "$E/objects/${b:0:2}/${b:2}" && mkfifo "$E/objects/${b:0:2}/${b:2}"
refused fifo-object unsupported "$E"
expect_in fifo-object.json "objects/${b:0:2}/${b:2} is a fifo"
evil fifo-index
idx=$(ls "$E"/objects/pack/*.idx | head -1)
rm "$idx" && mkfifo "$idx"
refused fifo-index unsupported "$E"
evil link-ref                    # the branch is a link leading out of the remote
rm -f "$E/refs/heads/vouchers" && ln -s "$T/base.git/refs/heads/vouchers" "$E/refs/heads/vouchers"
refused link-ref unsupported "$E"
expect_in link-ref.json "is a symbolic link"

# 4. Octopus merges: parents are capped (16), and a merge is checked in time that follows its
# trees, not parents times paths.
"$MAKE_VOUCHERS" 1000 many mfr.key mfr.pem
(cd many && find vouchers -name '*.vjj' | sort) >many.txt
octopus() { # N PER: N branches off the base, each adding PER vouchers, and their union
  (cd many && git --git-dir "$E" hash-object -w --stdin-paths <"$T/many.txt") | paste - many.txt >files.txt
  awk -F'\t' -v n="$1" -v per="$2" -v base="$base" '
    { sha[NR] = $1; path[NR] = $2 }
    END {
      for (i = 1; i <= n; i++) {
        printf "commit refs/heads/p%d\nmark :%d\ncommitter t <t@t> 0 +0000\ndata 0\nfrom %s\n", i, i, base
        for (j = 1; j <= per; j++) { k++; printf "M 100644 %s %s\n", sha[k], path[k] }
        print ""
      }
      printf "commit refs/heads/vouchers\ncommitter t <t@t> 0 +0000\ndata 0\nfrom %s\n", base
      for (i = 1; i <= n; i++) printf "merge :%d\n", i
      for (k = 1; k <= n * per; k++) printf "M 100644 %s %s\n", sha[k], path[k]
      print ""
    }' files.txt | in_evil fast-import --quiet --force
}
evil octopus-1000                # 1,001 parents, each but the base adding a voucher
octopus 1000 1
refused octopus-1000 too-large "$GIT/octopus-1000.git"
expect_in octopus-1000.json "has 1001 parents, over the cap of 16"
evil octopus-17
octopus 16 1
refused octopus-17 too-large "$E"
expect_in octopus-17.json "has 17 parents, over the cap of 16"
evil octopus-own                 # a merge that adds a voucher of its own
octopus 3 1
t=$(sed -n '4p' files.txt | awk -F'\t' '{ print "100644 " $1 "\t" $2 }' | tree_plus)
in_evil update-ref refs/heads/vouchers "$(in_evil commit-tree "$t" $(for i in 1 2 3; do echo -p; echo "refs/heads/p$i"; done) -m own)"
refused octopus-own rewritten "$E"
expect_in octopus-own.json "is a merge that adds $(sed -n '4p' many.txt) of its own"
evil octopus-drop                # a merge that drops a parent's voucher
octopus 3 1
t=$(in_evil rev-parse "refs/heads/p1^{tree}")
in_evil update-ref refs/heads/vouchers "$(in_evil commit-tree "$t" $(for i in 1 2 3; do echo -p; echo "refs/heads/p$i"; done) -m drop)"
refused octopus-drop rewritten "$E"
expect_in octopus-drop.json "deletes"
evil octopus-16                  # the base and 15 parents adding 62 vouchers each: accepted, quickly
octopus 15 62
timeout 60 "$MEASURE" "$VOUCH" cache pull "$GIT/octopus-16.git" --cache V.git --json >octopus-16.json 2>octopus-16.m || true
read -r secs kib status < <(tail -1 octopus-16.m)
echo "octopus-16 (accepted): ${secs}s, $((kib / 1024)) MiB peak, exit $status"
expect_same "$status" 0
expect_in octopus-16.json '"new-vouchers": 930'
awk -v s="$secs" 'BEGIN { exit !(s < 20) }' || fail "octopus-16: took ${secs}s"; ok
octopus_tip=$(in_evil rev-parse refs/heads/vouchers)
expect_exit 0 "$VOUCH" cache verify --cache V.git
git --git-dir V.git fsck --strict >/dev/null 2>fsck.txt || fail "fsck: $(cat fsck.txt)"; ok

# 5. A good pull over git:// reports the bytes it received and leaves no quarantine behind.
evil good
t=$(printf '100644 %s\t%s\n' "$(in_evil hash-object -w "v1/$v1")" "$v1" | tree_plus)
in_evil update-ref refs/heads/vouchers "$(in_evil commit-tree "$t" -p refs/heads/vouchers -m one)"
expect_exit 0 "$VOUCH" cache pull "$GIT/good.git" --cache V.git --json
expect_in out.txt '"new-vouchers": 1'
bytes=$(sed -n 's/.*"received-bytes": \([0-9]*\).*/\1/p' out.txt)
[ "${bytes:-0}" -gt 0 ] || fail "a git:// pull reported ${bytes:-no} bytes received"; ok
expect_same "$(ls V.git/vouch | grep -c '^pull-' || true)" 0

# 6. Verify catches a branch moved back behind a tip it pulled, and replacements, grafts and
# shallow files (git would show other objects than vouch verifies).
good=$(git --git-dir V.git rev-parse refs/heads/vouchers)
git --git-dir V.git update-ref refs/heads/vouchers "$base"
expect_exit 1 "$VOUCH" cache verify --cache V.git --json
expect_in out.txt '"code": "rewritten"'
expect_in out.txt "no longer contains"
expect_in out.txt "the tip pulled from $GIT/"
git --git-dir V.git update-ref refs/heads/vouchers "$good"
expect_exit 0 "$VOUCH" cache verify --cache V.git
git --git-dir V.git replace "$good" "$base"
expect_exit 1 "$VOUCH" cache verify --cache V.git
expect_in err.txt "refs/replace/$good"
expect_in err.txt "(unsupported)"
git --git-dir V.git replace -d "$good" >/dev/null
for f in info/grafts shallow; do
  mkdir -p V.git/info && echo "$base" >"V.git/$f"
  expect_exit 1 "$VOUCH" cache verify --cache V.git
  expect_in err.txt "the cache has $f"
  rm "V.git/$f"
done
expect_exit 0 "$VOUCH" cache verify --cache V.git
# A remote's replacements are never fetched: git on the remote sees a commit that deletes a
# voucher, the pull takes the branch as it is, and the cache gains no refs/replace/*.
evil replace
victim=$(in_evil ls-tree -r --name-only refs/heads/vouchers | head -1)
t=$(printf '0 %040d\t%s\n' 0 "$victim" | tree_plus)  # mode 0: the path removed
in_evil replace "$(in_evil rev-parse refs/heads/vouchers)" "$(in_evil commit-tree "$t" -m deleted)"
expect_exit 0 "$VOUCH" cache pull "$GIT/replace.git" --cache V.git
expect_same "$(git --git-dir V.git for-each-ref refs/replace | wc -l)" 0
expect_exit 0 "$VOUCH" cache verify --cache V.git
finish
