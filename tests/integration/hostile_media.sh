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
finish
