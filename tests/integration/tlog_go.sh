#!/usr/bin/env bash
# The transparency log's formats against the reference implementation, Go's
# golang.org/x/mod/sumdb/{note,tlog} as Debian 12 packages them (tests/tlog_go/main.go, built
# here offline): Go opens notes vouch signs and vouch opens notes Go signs; both sign Go's
# key's notes byte for byte alike; for every tree of 1..17 leaves the roots, every inclusion
# proof and every consistency proof are the same bytes and each side accepts the other's. No
# network: Go builds from /usr/share/gocode with modules off.
SRC=$(cd "$(dirname "$0")/../tlog_go" && pwd)  # before lib.sh moves to the scratch directory
. "$(dirname "$0")/lib.sh"
: "${TLOG_TOOL:?path to the tlog_tool binary}"

command -v go >/dev/null || fail "go is not installed (./dev installs golang-go golang-golang-x-mod-dev)"
[ -d /usr/share/gocode/src/golang.org/x/mod/sumdb/note ] || fail "golang-golang-x-mod-dev is not installed"
HOME="$T" GOCACHE="$T/gocache" GO111MODULE=off GOPATH=/usr/share/gocode \
  go build -o "$T/tlog_go" "$SRC/main.go" || fail "building tests/tlog_go"
GO="$T/tlog_go"
V="$TLOG_TOOL"

# Notes, both ways.
printf 'log.example/vouchers\n5\nXWDvahSRIOFfXUcjzpNd7WXQFaHmt6tVATrmdl8e6Bw=\n' > text
"$GO" keygen go.example/log > go.keys
head -1 go.keys > go.skey
GO_VKEY=$(sed -n 2p go.keys)
"$V" keygen vouch.example/log > v.keys
head -1 v.keys > v.skey
V_VKEY=$(sed -n 2p v.keys)

"$V" sign v.skey text > by_vouch.note
expect_exit 0 "$GO" open "$V_VKEY" by_vouch.note
cmp -s out.txt text || fail "Go opened vouch's note to another text"
"$GO" sign go.skey text > by_go.note
expect_exit 0 "$V" open "$GO_VKEY" by_go.note
cmp -s out.txt text || fail "vouch opened Go's note to another text"
# The same key gives the same bytes (Ed25519 is deterministic): Go's key signed by vouch.
"$V" sign go.skey text > go_key_by_vouch.note
cmp -s go_key_by_vouch.note by_go.note || fail "vouch and Go sign one text with one key differently"
"$GO" sign v.skey text > v_key_by_go.note
cmp -s v_key_by_go.note by_vouch.note || fail "Go and vouch sign one text with one key differently"
# Each refuses the other's note under the wrong key, and a tampered note.
expect_exit 1 "$GO" open "$GO_VKEY" by_vouch.note
expect_exit 1 "$V" open "$V_VKEY" by_go.note
expect_in err.txt "untrusted-signer:"
sed 's/^5$/6/' by_go.note > tampered.note
expect_exit 1 "$V" open "$GO_VKEY" tampered.note
expect_in err.txt "bad-signature:"
sed 's/^5$/6/' by_vouch.note > tampered.note
expect_exit 1 "$GO" open "$V_VKEY" tampered.note

# Merkle trees of 1..17 leaves.
N=17
for i in $(seq 0 $((N - 1))); do printf 'voucher %d\n' "$i" > "leaf$i"; done
leaves() { for i in $(seq 0 $(($1 - 1))); do printf 'leaf%d ' "$i"; done; }
for n in $(seq 1 $N); do
  L=$(leaves "$n")
  root=$("$V" root $L)
  # shellcheck disable=SC2086
  expect_same "$root" "$("$GO" root $L)"
  for i in $(seq 0 $((n - 1))); do
    ours=$("$V" prove-record "$i" $L | tr '\n' ' ')
    expect_same "$ours" "$("$GO" prove-record "$i" $L | tr '\n' ' ')"
    expect_exit 0 "$GO" check-record "$i" "$n" "$root" "leaf$i" $ours
    expect_exit 0 "$V" check-record "$i" "$n" "$root" "leaf$i" $ours
  done
  for m in $(seq 1 $((n - 1))); do
    old=$("$V" root $(leaves "$m"))
    ours=$("$V" prove-tree "$m" $L | tr '\n' ' ')
    expect_same "$ours" "$("$GO" prove-tree "$m" $L | tr '\n' ' ')"
    expect_exit 0 "$GO" check-tree "$m" "$old" "$n" "$root" $ours
    expect_exit 0 "$V" check-tree "$m" "$old" "$n" "$root" $ours
  done
done

# Refusals agree: a proof for another leaf, a truncated proof, a reordered one.
L=$(leaves 13)
root=$("$V" root $L)
p5=$("$V" prove-record 5 $L)
p5_list=$(echo "$p5" | tr '\n' ' ')
expect_exit 1 "$GO" check-record 6 13 "$root" leaf6 $p5_list
expect_exit 1 "$V" check-record 6 13 "$root" leaf6 $p5_list
short=$(echo "$p5" | head -n -1 | tr '\n' ' ')
expect_exit 1 "$GO" check-record 5 13 "$root" leaf5 $short
expect_exit 1 "$V" check-record 5 13 "$root" leaf5 $short
expect_in err.txt "malformed:"
reordered=$(echo "$p5" | tac | tr '\n' ' ')
expect_exit 1 "$GO" check-record 5 13 "$root" leaf5 $reordered
expect_exit 1 "$V" check-record 5 13 "$root" leaf5 $reordered
expect_in err.txt "bad-signature:"

# The one documented difference: the empty tree (Go: 32 zero bytes; RFC 6962: SHA-256("")).
expect_same "$("$GO" root)" "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="
expect_same "$("$V" root)" "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU="

echo "tlog_go: $checks checks passed"
