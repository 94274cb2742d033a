#!/usr/bin/env bash
# Mirroring through a real `git daemon` on 127.0.0.1 (started and stopped here), with
# receive-pack enabled: two caches exchange vouchers through it both ways.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/daemon.sh"
: "${MAKE_VOUCHERS:?path to the make_vouchers test generator}"

make_ca mfr
mkdir srv
expect_exit 0 "$VOUCH" cache init --cache srv/public.git
start_daemon "$T/srv" public.git; ok
URL="git://127.0.0.1:$port/public.git"
tip() { git --git-dir "$1" rev-parse refs/heads/vouchers; }
count() { "$VOUCH" cache list --cache "$1" --json | sed -n 's/.*"count": \([0-9]*\).*/\1/p'; }

"$VOUCH" cache init --cache A.git >/dev/null
"$VOUCH" cache init --cache B.git >/dev/null
"$MAKE_VOUCHERS" 3 v1 mfr.key mfr.pem
expect_exit 0 "$VOUCH" cache import v1 --cache A.git
expect_exit 0 "$VOUCH" cache push "$URL" --cache A.git
expect_exit 0 "$VOUCH" cache pull "$URL" --cache B.git --json
expect_in out.txt '"result": "fast-forward"'
expect_in out.txt '"new-vouchers": 3'
# Bytes received over git:// are counted (libgit2 counts them only for a progress callback).
bytes=$(sed -n 's/.*"received-bytes": \([0-9]*\).*/\1/p' out.txt)
[ "${bytes:-0}" -gt 0 ] || fail "a git:// pull reported ${bytes:-no} bytes received"; ok
expect_same "$(tip B.git)" "$(tip A.git)"

# The other way: B adds, pushes; A pulls.
"$MAKE_VOUCHERS" 2 v2 mfr.key mfr.pem
expect_exit 0 "$VOUCH" cache import v2 --cache B.git
expect_exit 0 "$VOUCH" cache push "$URL" --cache B.git
expect_exit 0 "$VOUCH" cache pull "$URL" --cache A.git
expect_in out.txt "fast-forward: 2 new vouchers"
expect_same "$(count A.git)" 5

# Diverged: both add; B pushes first; A's push is refused; A pulls (a union merge), pushes.
"$MAKE_VOUCHERS" 1 va mfr.key mfr.pem
"$MAKE_VOUCHERS" 1 vb mfr.key mfr.pem
expect_exit 0 "$VOUCH" cache import va --cache A.git
expect_exit 0 "$VOUCH" cache import vb --cache B.git
expect_exit 0 "$VOUCH" cache push "$URL" --cache B.git
expect_exit 1 "$VOUCH" cache push "$URL" --cache A.git
expect_in err.txt "pull first"
expect_exit 0 "$VOUCH" cache pull "$URL" --cache A.git
expect_in out.txt "merged"
expect_exit 0 "$VOUCH" cache push "$URL" --cache A.git
expect_exit 0 "$VOUCH" cache pull "$URL" --cache B.git
expect_same "$(tip B.git)" "$(tip A.git)"
expect_same "$(count A.git)" 7
expect_same "$(count B.git)" 7
for c in A.git B.git srv/public.git; do
  expect_exit 0 "$VOUCH" cache verify --cache "$c"
  git --git-dir "$c" fsck --strict >/dev/null 2>fsck.txt || fail "fsck $c: $(cat fsck.txt)"; ok
done

# The public cache is rewritten (reset to an older commit): A refuses it and stays as it was.
before=$(tip A.git)
git --git-dir srv/public.git update-ref refs/heads/vouchers "$(tip srv/public.git)~2"
expect_exit 1 "$VOUCH" cache pull "$URL" --cache A.git
expect_in err.txt "(rewritten)"
expect_same "$(tip A.git)" "$before"
# ...or rewritten to delete a voucher in a new commit: refused as well.
git --git-dir srv/public.git update-ref refs/heads/vouchers "$before"
git clone -q "$URL" -b vouchers work
(cd work && git rm -q "$(git ls-files | head -1)" && git -c user.name=t -c user.email=t@t commit -qm evil \
  && git push -q origin vouchers 2>/dev/null)
expect_exit 1 "$VOUCH" cache pull "$URL" --cache B.git
expect_in err.txt "deletes"
expect_same "$(tip B.git)" "$before"

# Plain paths and file:// URLs are remotes too.
"$VOUCH" cache init --cache C.git >/dev/null
expect_exit 0 "$VOUCH" cache pull "file://$T/A.git" --cache C.git
expect_same "$(count C.git)" 7
expect_exit 0 "$VOUCH" cache pull A.git --cache C.git
expect_in out.txt "up-to-date"
# ...and so is a remote configured by name in the cache's git config.
git --git-dir C.git remote add public "$URL"
expect_exit 1 "$VOUCH" cache pull public --cache C.git       # the public cache still has the deleting commit
expect_in err.txt "deletes"
git --git-dir srv/public.git update-ref refs/heads/vouchers "$before"
expect_exit 0 "$VOUCH" cache pull public --cache C.git
git --git-dir C.git fsck --strict >/dev/null 2>fsck.txt || fail "fsck C.git: $(cat fsck.txt)"; ok
finish
