#!/usr/bin/env bash
# Resource bounds on hostile media: every fetch finishes, in bounded time and memory, with
# refusals and without a crash. Bounds asserted: 20 s and 96 MiB peak per fetch (the README
# states the caps); sanitizer builds (VOUCH_SANITIZED=1) check time and exit status only.
. "$(dirname "$0")/lib.sh"
: "${MEASURE:?path to the measure test tool}"

make_ca mfr
"$VOUCH_DEVICE" init --state dev --serial SN-1 --trust mfr.pem >/dev/null
"$VOUCH" issue --device-key dev/device.pub --serial SN-1 --signer-key mfr.key --signer-cert mfr.pem \
  --domain-ca mfr.pem --out-dir good >/dev/null
devdir=$(cd good && find vouchers -mindepth 3 -maxdepth 3 -type d)

# A huge sparse file named like a bundle.
mkdir sparse && truncate -s 64G "sparse/MDLI-EH6S-GLGY-KUQK-NZBJ-MJKM-AMHX-OQXR-33IY-DEOL-Q5WL-XHA6-P77D.vbundle"
bounded_fetch sparse sparse
expect_in sparse.json '"code": "too-large"'

# 100,000 small files, one of them in the device's own directory.
mkdir -p many/"$devdir"
for d in $(seq 1 100); do mkdir "many/d$d"; (cd "many/d$d" && touch $(seq -f "f%g.vjj" 1 1000)); done
cp good/"$devdir"/*.vjj many/"$devdir"/
bounded_fetch many many
expect_in many.json '"outcome": "enrolled"'

# Deep nesting, 300 levels.
p=deep; for i in $(seq 1 300); do p="$p/d"; done; mkdir -p "$p"
bounded_fetch deep deep

# Symbolic link loops, and a FIFO named like a bundle and like a voucher.
mkdir -p loops/"$devdir" && ln -s . loops/self && ln -s b loops/a && ln -s a loops/b && ln -s / loops/root
mkfifo loops/x.vbundle "loops/$devdir/MAAA-AAAA-AAAA-AAAA-AAAA-AAAA-AAAA-AAAA-AAAA-AAAA-AAAA-AAAA-AAAA.vjj"
bounded_fetch loops loops

# Files that change size while being read: a voucher file and a bundle, grown by a writer.
mkdir -p grow/"$devdir"
f=$(ls good/"$devdir"/*.vjj); cp "$f" grow/"$devdir"/
"$VOUCH" bundle create --from good --out grow >/dev/null
( while :; do printf x >> "grow/$devdir/$(basename "$f")"; printf y >> grow/*.vbundle; done ) 2>/dev/null &
writer=$!
bounded_fetch grow grow
kill "$writer" 2>/dev/null; wait "$writer" 2>/dev/null || true
# 4,096 valid candidates in the device's own directory (the same voucher in 4,096 spellings):
# each verifies and decrypts, the costliest a candidate can be; the work is bounded.
: "${MAKE_VOUCHERS:?path to the make_vouchers test tool}"
udf=$(basename "$devdir")
"$MAKE_VOUCHERS" --heavy 4096 "$(ls good/"$devdir"/*.vjj)" "$udf" manysig
bounded_fetch manysig manysig
expect_in manysig.json '"outcome": "enrolled"'

# 100,000 sparse files of 64 KiB named like vouchers in the device's own directory.
mkdir -p sparsenamed/"$devdir"
( cd sparsenamed/"$devdir" && id=$(ls ../../../../../good/"$devdir"/ | head -1 | cut -c1-60) &&
  for a in A B C D E F G H I J K L M N O P Q R S T U V W X Y; do
    for b in A B C D E F G H I J K L M N O P Q R S T U V W X Y Z 2 3 4 5 6 7; do
      names=(); for c in A B C D E F G H I J K L M N O P Q R S T U V W X Y Z 2 3 4 5 6 7; do
        for d in A B C D; do names+=("${id}$a$b$c$d.vjj"); done; done
      truncate -s 64K "${names[@]}"
    done
  done )
echo "sparse named: $(ls sparsenamed/"$devdir" | wc -l) files"
bounded_fetch sparsenamed sparsenamed
expect_in sparsenamed.json '"id-mismatch": '
expect_in sparsenamed.json "stopped reading after 256 MiB of vouchers"

# Dozens of hard links to one bundle of 16,384 vouchers (only the first is opened).
"$MAKE_VOUCHERS" 16383 big >/dev/null
cp good/"$devdir"/*.vjj big/ 2>/dev/null || true
mkdir -p big/"$devdir" && cp good/"$devdir"/*.vjj big/"$devdir"/
"$VOUCH" bundle create --from big --shard-threshold 20000 --out links >/dev/null
b=$(ls links/*.vbundle)
for i in $(seq 1 48); do mkdir -p "links/d$i" && ln "$b" "links/d$i/$(basename "$b")"; done
bounded_fetch hardlinks links
expect_in hardlinks.json '"outcome": "enrolled"'
# Names that would forge report lines or steer a terminal: a newline, a C1 CSI, a bidi
# override, bytes that are not UTF-8. The text report keeps one line per source, escaped; the
# JSON report is still written.
mkdir -p names
printf x > "names/a$(printf '\nrefused     fake\xc2\x9b31m\xe2\x80\xae\xff').vbundle"
expect_exit 4 "$VOUCH_DEVICE" fetch --dry-run --state dev names
[ "$(wc -l < out.txt)" = 2 ] || { cat out.txt >&2; fail "a name forged report lines"; }
expect_in out.txt 'a\nrefused     fake\u{9b}31m\u{202e}\xff.vbundle'
expect_exit 4 "$VOUCH_DEVICE" fetch --dry-run --json --state dev names
expect_in out.txt '"outcome": "all-refused"'
finish
