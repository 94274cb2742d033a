#!/usr/bin/env bash
# Git caches on a stick, built to hang or exhaust the device (issue 10): every fetch ends in
# bounds (20 s, 96 MiB: bounded_fetch in lib.sh), opens nothing off the medium, and refuses
# the cache with a stable code; the device's genuine voucher, beside it, is still found.
. "$(dirname "$0")/lib.sh"

make_ca mfr
"$VOUCH_DEVICE" init --state dev --serial SN-1 --trust mfr.pem >/dev/null
"$VOUCH" issue --device-key dev/device.pub --serial SN-1 --signer-key mfr.key --signer-cert mfr.pem \
  --domain-ca mfr.pem --out-dir good >/dev/null
vpath=$(cd good && find vouchers -type f -name '*.vjj')
VOUCH_CACHE=$PWD/cache.git "$VOUCH" cache init >/dev/null
VOUCH_CACHE=$PWD/cache.git "$VOUCH" cache import good >/dev/null
export GIT_AUTHOR_NAME=a GIT_AUTHOR_EMAIL=a@a GIT_COMMITTER_NAME=a GIT_COMMITTER_EMAIL=a@a

# fresh NAME: a stick holding a plain copy of the cache (it works), returns its git dir.
fresh() {
  mkdir -p "$1"
  git clone -q --bare cache.git "$1/v.git"
  echo "$1/v.git"
}
branch() { git --git-dir="$1" update-ref refs/heads/vouchers "$2"; }
# tree_with GITDIR BLOB: a tree that files BLOB at the voucher's layout path, and a commit of it.
commit_with_blob() {
  local g=$1 blob=$2 t
  t=$(printf '100644 blob %s\t%s\n' "$blob" "$(basename "$vpath")" | git --git-dir="$g" mktree)
  local p=$vpath
  p=$(dirname "$p")
  while [ "$p" != . ]; do
    t=$(printf '040000 tree %s\t%s\n' "$t" "$(basename "$p")" | git --git-dir="$g" mktree)
    p=$(dirname "$p")
  done
  echo tip | git --git-dir="$g" commit-tree "$t"
}
refused_with() { # NAME CODE
  grep -q "\"code\": \"$2\"" "$1.json" || { cat "$1.json" >&2; fail "$1: no refusal with code $2"; }
  ok
}

g=$(fresh plain)
bounded_fetch plain plain
expect_in plain.json '"outcome": "enrolled"'

# A tip commit with a 256 MiB message (a few hundred KB on the stick).
g=$(fresh bigcommit)
tree=$(git --git-dir="$g" rev-parse refs/heads/vouchers^{tree})
head -c $((256 << 20)) /dev/zero | tr '\0' a > msg
branch "$g" "$(git --git-dir="$g" commit-tree "$tree" -F msg)"
rm msg
bounded_fetch bigcommit bigcommit
refused_with bigcommit too-large

# The branch naming a 256 MiB blob, and a 256 MiB blob at the voucher's own path.
g=$(fresh bigblob)
truncate -s 256M zeros
big=$(git --git-dir="$g" hash-object -w zeros)
git --git-dir="$g" update-ref -d refs/heads/vouchers
mkdir -p "$g/refs/heads" && echo "$big" > "$g/refs/heads/vouchers"  # git itself would refuse
bounded_fetch bigblob bigblob
refused_with bigblob too-large  # its loose file is over the cap before its header is read
truncate -s 16M zeros16
small=$(git --git-dir="$g" hash-object -w zeros16)
rm zeros16 "$g/objects/${big:0:2}/${big:2}"
echo "$small" > "$g/refs/heads/vouchers"
bounded_fetch blobtip bigblob
refused_with blobtip malformed  # the branch's tip is not a commit
g=$(fresh bigvoucher)
branch "$g" "$(commit_with_blob "$g" "$(git --git-dir="$g" hash-object -w zeros)")"
bounded_fetch bigvoucher bigvoucher
refused_with bigvoucher too-large

# A root tree of 128 MiB (stored literally: git would not make one).
g=$(fresh bigtree)
truncate -s 128M zeros
t=$(git --git-dir="$g" hash-object -t tree -w --literally zeros)
rm zeros
branch "$g" "$(echo tip | git --git-dir="$g" commit-tree "$t" 2>/dev/null || git --git-dir="$g" rev-parse refs/heads/vouchers)"
bounded_fetch bigtree bigtree
refused_with bigtree too-large

# A loose object followed by 256 MiB of trailer: every object loose, the tip padded.
g=trailer/v.git
mkdir -p trailer && git init -q --bare "$g"
git --git-dir=cache.git pack-objects -q --revs --all --stdout </dev/null | git --git-dir="$g" unpack-objects -q
obj=$(git --git-dir=cache.git rev-parse refs/heads/vouchers)
branch "$g" "$obj"
truncate -s +256M "$g/objects/${obj:0:2}/${obj:2}"
bounded_fetch trailer trailer
refused_with trailer too-large

# Huge sparse config and packed-refs, and a config that includes a file off the medium.
g=$(fresh sparse)
truncate -s 8G "$g/config"
git --git-dir="$g" pack-refs --all 2>/dev/null || true
rm -f "$g/refs/heads/vouchers"
truncate -s 8G "$g/packed-refs"
bounded_fetch sparse sparse
refused_with sparse too-large
g=$(fresh include)
printf '[include]\n\tpath = /etc/shadow\n[core]\n\tbare = true\n' >> "$g/config"
bounded_fetch include include
expect_in include.json '"outcome": "enrolled"'
! grep -q shadow include.trace || fail "include: /etc/shadow was opened"

# FIFOs as the config, the ref and a pack index: nothing blocks.
g=$(fresh fifos)
rm "$g/config" && mkfifo "$g/config"
bounded_fetch fifo-config fifos
expect_in fifo-config.json '"outcome": "enrolled"'
rm -f "$g/refs/heads/vouchers" "$g/packed-refs" && mkdir -p "$g/refs/heads" && mkfifo "$g/refs/heads/vouchers"
bounded_fetch fifo-ref fifos
refused_with fifo-ref unsupported
g=$(fresh fifoidx)
idx=$(ls "$g"/objects/pack/*.idx | head -1)
rm "$idx" && mkfifo "$idx"
bounded_fetch fifo-idx fifoidx
refused_with fifo-idx unsupported

# A symbolic ref, a link inside, and alternates that point off the medium.
g=$(fresh symref)
rm -f "$g/refs/heads/vouchers" && mkdir -p "$g/refs/heads" && echo "ref: refs/heads/other" > "$g/refs/heads/vouchers"
bounded_fetch symref symref
refused_with symref unsupported
g=$(fresh links)
idx=$(ls "$g"/objects/pack/*.idx | head -1)
mv "$idx" "$PWD/elsewhere.idx" && ln -s "$PWD/elsewhere.idx" "$idx"
bounded_fetch links links
refused_with links unsupported
g=$(fresh alternates)
echo "$PWD/cache.git/objects" > "$g/objects/info/alternates"
bounded_fetch alternates alternates
refused_with alternates unsupported

# Forty caches on one stick: at most 16 are opened.
mkdir -p many
for i in $(seq 1 40); do git clone -q --bare cache.git "many/c$i.git"; done
bounded_fetch many-caches many
expect_in many-caches.json "more than 16 git caches"
finish
