#!/usr/bin/env bash
# A cache published as a static tree (vouch publish) and read over HTTP from a real web server
# on 127.0.0.1 (python3 -m http.server, started and stopped here): an update in place that
# rewrites only the shards that changed, a carrier's fetch of one device's shard and nothing
# else, a device enrolling from that stick, a cache pulling every shard once, and tampered,
# truncated and oversized downloads refused with nothing written (cache/publish.md).
. "$(dirname "$0")/lib.sh"
: "${MAKE_VOUCHERS:?path to the make_vouchers test generator}"
# Loopback only, never through a proxy the environment names.
unset http_proxy https_proxy HTTP_PROXY HTTPS_PROXY ALL_PROXY all_proxy
export no_proxy='*' NO_PROXY='*'

make_ca mfr
make_ca owner-ca
expect_exit 0 "$VOUCH" cache init --cache c.git --trust mfr.pem
"$MAKE_VOUCHERS" 60 batch1 mfr.key mfr.pem
expect_exit 0 "$VOUCH_DEVICE" init --state dev --serial SN-1 --trust mfr.pem
expect_exit 0 "$VOUCH" issue --device-key dev/device.pub --serial SN-1 --signer-key mfr.key --signer-cert mfr.pem \
  --domain-ca owner-ca.pem --domain-ca-key owner-ca.key --out-dir batch1
udf=$("$VOUCH" key show dev/device.pub --json | sed -n 's/.*"udf": "\(.*\)".*/\1/p')
[ -n "$udf" ] || fail "no device UDF"
expect_exit 0 "$VOUCH" cache import --cache c.git batch1

# --- publish, then again after 10 more vouchers: only the changed prefixes' shards are new.
mkdir www
expect_exit 0 "$VOUCH" publish --cache c.git --out www/good --json
expect_in out.txt '"vouchers": 61'
[ -f www/good/vouch.index ] || fail "no index"; ok
head -1 www/good/vouch.index | grep -Eq '^vouch-index/1 [0-9]+$' || fail "index header: $(head -1 www/good/vouch.index)"; ok
shards1=$(find www/good/vouch.vshards -name '*.vbundle' | wc -l)
[ "$shards1" = "$(($(wc -l < www/good/vouch.index) - 1))" ] || fail "index and shards disagree"; ok
for b in $(find www/good/vouch.vshards -name '*.vbundle'); do unzip -tq "$b" >/dev/null || fail "unzip -t refused $b"; done; ok
snapshot() { (cd www/good && find . -type f ! -name vouch.index -printf '%p %i %T@\n' | sort); }
before=$(snapshot)
index_before=$(stat -c '%i %Y' www/good/vouch.index)

"$MAKE_VOUCHERS" 10 batch2 mfr.key mfr.pem
expect_exit 0 "$VOUCH" cache import --cache c.git batch2
sleep 1  # so that a rewritten file would show a new mtime even on coarse clocks
expect_exit 0 "$VOUCH" publish --cache c.git --out www/good --json
expect_in out.txt '"vouchers": 71'
written=$(/usr/bin/python3 -c 'import json,sys; print("\n".join(w["path"] for w in json.load(open(sys.argv[1]))["written"]))' out.txt)
n_written=$(printf '%s\n' "$written" | grep -c vbundle || true)
[ "$n_written" -ge 1 ] && [ "$n_written" -le 10 ] || fail "second publish wrote $n_written shards, expected 1..10"; ok
# Every shard the first publish wrote is still there, the same inode and mtime (kept, not
# rewritten); the files added are exactly the written shards.
after=$(snapshot)
missing=$(comm -23 <(echo "$before") <(echo "$after"))
[ -z "$missing" ] || fail "the second publish touched files it had no reason to: $missing"; ok
added=$(comm -13 <(echo "$before") <(echo "$after") | awk '{print $1}' | sed 's|^\./||' | sort)
expect_same "$added" "$(printf '%s\n' "$written" | sort)"
[ "$(stat -c '%i %Y' www/good/vouch.index)" != "$index_before" ] || fail "the index was not rewritten"; ok
# A third publish with nothing new writes nothing, not even the index.
index_now=$(stat -c '%i %Y' www/good/vouch.index)
expect_exit 0 "$VOUCH" publish --cache c.git --out www/good --json
expect_in out.txt '"written": []'
expect_same "$(snapshot)" "$after"
expect_same "$(stat -c '%i %Y' www/good/vouch.index)" "$index_now"
# Superseded shards are kept (readers of the old index) until --prune.
[ "$(find www/good/vouch.vshards -name '*.vbundle' | wc -l)" -gt "$(($(wc -l < www/good/vouch.index) - 1))" ] ||
  fail "the superseded shards are gone without --prune"; ok
cp -a www/good www/pruned
expect_exit 0 "$VOUCH" publish --cache c.git --out www/pruned --prune --json
[ "$(find www/pruned/vouch.vshards -name '*.vbundle' | wc -l)" = "$(($(wc -l < www/pruned/vouch.index) - 1))" ] ||
  fail "--prune left shards no index names"; ok

# --- a real web server on loopback, its access log kept.
port=$(/usr/bin/python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
/usr/bin/python3 -u -m http.server --bind 127.0.0.1 "$port" --directory www 2>>access.log >/dev/null &
server=$!
trap 'kill $server 2>/dev/null; rm -rf "$T"' EXIT
for _ in $(seq 100); do (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break; sleep 0.1; done
url="http://127.0.0.1:$port"
mark() { wc -l < access.log; }
requests_since() { tail -n +"$(($1 + 1))" access.log | sed -n 's/.*"GET \([^ ]*\) HTTP.*/\1/p'; }

# --- a carrier fetches one device's shard, and nothing else.
m=$(mark)
expect_exit 0 "$VOUCH" fetch "$url/good/" --device "$udf" --out stick --json
expect_in out.txt '"result": "ok"'
shard=$(find stick -name '*.vbundle')
[ "$(echo "$shard" | wc -l)" = 1 ] || fail "the stick holds $(echo "$shard" | wc -l) shards"; ok
sleep 0.2
got=$(requests_since "$m")
expect_same "$got" "$(printf '/good/vouch.index\n/good/%s' "${shard#stick/}")"
grep -qF " $udf" <(unzip -Z1 "$shard" | sed 's|.*/\(M[A-Z2-7-]*\)/[^/]*$| \1|') || fail "the shard fetched is not the device's"; ok
cmp "$shard" "www/good/${shard#stick/}" || fail "the stick's shard is not the published one"; ok
# The device enrolls from the stick as from any.
expect_exit 0 "$VOUCH_DEVICE" fetch --state dev stick
expect_in out.txt "enrolled"
# Again: the shard is there already, nothing downloaded but the index.
m=$(mark)
expect_exit 0 "$VOUCH" fetch "$url/good/" --device "$udf" --out stick --json
expect_in out.txt '"downloaded": []'
sleep 0.2
expect_same "$(requests_since "$m")" "/good/vouch.index"

# A fleet file: each device's shard once; no device at all is a usage error.
c1c2=$(find batch1 -type d -name "$udf" | cut -d/ -f3)
other_udf=$(find batch1/vouchers -mindepth 3 -maxdepth 3 -type d | grep -v "^batch1/vouchers/$c1c2/" | head -1 | xargs basename)
printf '# two devices\n%s\n%s\n' "$udf" "$other_udf" > fleet.txt
expect_exit 0 "$VOUCH" fetch "$url/good/" --devices fleet.txt --out stick-fleet
expect_same "$(find stick-fleet -name '*.vbundle' | wc -l)" 2
expect_exit 2 "$VOUCH" fetch "$url/good/" --out stick-none

# --- a cache pulls the tree: every voucher; a second pull downloads no shard again.
expect_exit 0 "$VOUCH" cache init --cache p.git --trust mfr.pem
expect_exit 0 "$VOUCH" cache pull --cache p.git "$url/good/" --json
expect_in out.txt '"new-vouchers": 71'
expect_same "$("$VOUCH" cache list --cache p.git 2>/dev/null)" "$("$VOUCH" cache list --cache c.git 2>/dev/null)"
expect_exit 0 "$VOUCH" cache verify --cache p.git
m=$(mark)
expect_exit 0 "$VOUCH" cache pull --cache p.git "$url/good/" --json
expect_in out.txt '"new-shards": 0'
expect_in out.txt '"result": "up-to-date"'
sleep 0.2
expect_same "$(requests_since "$m")" "/good/vouch.index"
# An http URL with no index there is git's (smart HTTP): not read as a static tree; nor is
# one whose vouch.index is some other page. One that claims to be an index must read.
expect_exit 1 "$VOUCH" cache pull --cache p.git "$url/nothing-here.git"
expect_in err.txt "pull from $url/nothing-here.git"
grep -q "vouch.index" err.txt && fail "a git URL was read as a static tree"; ok
mkdir -p www/page.git && echo '<html>sign in</html>' > www/page.git/vouch.index
expect_exit 1 "$VOUCH" cache pull --cache p.git "$url/page.git"
expect_in err.txt "pull from $url/page.git"

# --- hostile trees: each refused with its code, nothing written to the destination.
line=$(grep -n " $(basename "$shard" .vbundle)\$" www/good/vouch.index | cut -d: -f1)
flip() { /usr/bin/python3 -c 'import sys; p = sys.argv[1]; b = bytearray(open(p, "rb").read()); b[len(b) // 2] ^= 1; open(p, "wb").write(b)' "$1"; }
refused() { # NAME CODE: vouch fetch and vouch cache pull of www/NAME refuse the device's shard with CODE,
             # writing nothing of it (a pull takes the other shards, and exits non-zero)
  expect_exit 1 "$VOUCH" fetch "$url/$1/" --device "$udf" --out "stick-$1" --json
  expect_in out.txt "\"code\": \"$2\""
  [ ! -e "stick-$1" ] || [ -z "$(find "stick-$1" -type f)" ] || fail "$1: fetch wrote $(find "stick-$1" -type f)"; ok
  "$VOUCH" cache init --cache "pull-$1.git" >/dev/null
  expect_exit 1 "$VOUCH" cache pull --cache "pull-$1.git" "$url/$1/" --json
  expect_in out.txt "\"code\": \"$2\""
  expect_in out.txt '"failed-shards"'
  "$VOUCH" cache list --cache "pull-$1.git" > "list-$1.txt" 2>/dev/null || true
  [ -s "list-$1.txt" ] || fail "$1: one bad shard withheld the others"; ok
  ! grep -q "$udf" "list-$1.txt" || fail "$1: the pull imported the bad shard's vouchers"; ok
  [ -z "$(find "pull-$1.git/vouch" -name 'static-pull-*')" ] || fail "$1: the pull left files behind"; ok
}
cp -a www/good www/bad-shard
flip "www/bad-shard/${shard#stick/}"
refused bad-shard corrupt-entry
cp -a www/good www/short-shard  # a shard cut short: fewer bytes than the index declares
head -c 2000 "www/good/${shard#stick/}" > "www/short-shard/${shard#stick/}"
refused short-shard truncated
cp -a www/good www/trunc-index
head -c -30 www/good/vouch.index > www/trunc-index/vouch.index
expect_exit 1 "$VOUCH" fetch "$url/trunc-index/" --device "$udf" --out stick-trunc-index --json
expect_in out.txt '"code": "truncated"'
[ ! -e stick-trunc-index ] || fail "a truncated index wrote to the stick"; ok
cp -a www/good www/count-index  # the index says the shard holds one voucher more than it does
awk -v l="$line" 'NR == l { $2 = $2 + 1 } { print }' www/good/vouch.index > www/count-index/vouch.index
refused count-index manifest-mismatch
cp -a www/good www/swap-index  # the index names another prefix's shard (id, count, size) for the device's
read -r other_count other_size other < <(awk -v l="$line" 'NR > 1 && NR != l { print $2, $3, $4; exit }' www/good/vouch.index)
awk -v l="$line" -v c="$other_count" -v s="$other_size" -v o="$other" 'NR == l { $2 = c; $3 = s; $4 = o } { print }' \
  www/good/vouch.index > www/swap-index/vouch.index
other_path=$(find www/good/vouch.vshards -name "$other.vbundle")
cp "$other_path" "$(dirname "www/swap-index/${shard#stick/}")/"
expect_exit 1 "$VOUCH" fetch "$url/swap-index/" --device "$udf" --out stick-swap --json
expect_in out.txt '"code": "manifest-mismatch"'
[ ! -e stick-swap ] || fail "a swapped index wrote to the stick"; ok
# A body over what the index declares is cut off at the declared size; an index over its cap too.
cp -a www/good www/big-shard
awk -v l="$line" 'NR == l { $3 = 1000 } { print }' www/good/vouch.index > www/big-shard/vouch.index
refused big-shard too-large
mkdir www/big-index
{ echo "vouch-index/1 1"; head -c $((17 * 1024 * 1024)) /dev/zero | tr '\0' 'A'; } > www/big-index/vouch.index
expect_exit 1 "$VOUCH" fetch "$url/big-index/" --device "$udf" --out stick-big --json
expect_in out.txt '"code": "too-large"'
[ ! -e stick-big ] || fail "an oversized index wrote to the stick"; ok
# A shard file whose manifest is another bundle than the id it is named by.
cp -a www/good www/misnamed
other_file=$(find www/good/vouch.vshards -name "$other.vbundle")
cp "$other_file" "www/misnamed/${shard#stick/}"
awk -v l="$line" -v c="$other_count" -v s="$other_size" 'NR == l { $2 = c; $3 = s } { print }' \
  www/good/vouch.index > www/misnamed/vouch.index
refused misnamed name-mismatch
# Only http and https.
expect_exit 2 "$VOUCH" fetch "file://$T/www/good/" --device "$udf" --out stick-file

# --- a hostile server: a redirect to file://, a redirect loop, a body that never ends (no
# Content-Length), each refused with its code and nothing written.
cat > hostile.py <<'PY'
import http.server, sys
class H(http.server.BaseHTTPRequestHandler):
    def log_message(self, *a): pass
    def do_GET(self):
        if self.path.startswith("/file/"):
            self.send_response(302); self.send_header("Location", "file:///etc/passwd"); self.end_headers()
        elif self.path.startswith("/loop/"):
            self.send_response(302); self.send_header("Location", self.path); self.end_headers()
        elif self.path.startswith("/endless/"):
            self.send_response(200); self.end_headers()  # HTTP/1.0: the body ends when the connection does
            try:
                while True: self.wfile.write(b"A" * 65536)
            except (BrokenPipeError, ConnectionResetError):
                pass
        else:
            self.send_response(404); self.end_headers()
http.server.HTTPServer(("127.0.0.1", int(sys.argv[1])), H).serve_forever()
PY
hport=$(/usr/bin/python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
/usr/bin/python3 hostile.py "$hport" &
hostile=$!
trap 'kill $server $hostile 2>/dev/null; rm -rf "$T"' EXIT
for _ in $(seq 100); do (exec 3<>"/dev/tcp/127.0.0.1/$hport") 2>/dev/null && break; sleep 0.1; done
for case in file:unsupported loop:too-large endless:too-large; do
  expect_exit 1 "$VOUCH" fetch "http://127.0.0.1:$hport/${case%%:*}/" --device "$udf" --out "stick-${case%%:*}" --json
  expect_in out.txt "\"code\": \"${case#*:}\""
  [ ! -e "stick-${case%%:*}" ] || fail "${case%%:*}: the fetch wrote to the stick"; ok
done

# --- a logged cache: its checkpoint and tiles are published, its shards carry the proofs,
# and a device that insists on the log enrolls from a stick filled from the tree.
: "${TLOG_TOOL:?path to the tlog_tool binary}"
cp -a c.git other.git  # the same vouchers, to be logged by another log
expect_exit 0 "$VOUCH" log init --cache c.git --origin mfr.example/vouchers --key log.key
vkey=$(tail -1 out.txt)
expect_exit 0 "$VOUCH" publish --cache c.git --out www/good --json
shards=$(($(wc -l < www/good/vouch.index) - 1))
expect_in out.txt "\"log-size\": 71"
n_written=$(/usr/bin/python3 -c 'import json,sys; print(len(json.load(open(sys.argv[1]))["written"]))' out.txt)
expect_same "$n_written" "$shards"  # cut again: a shard without proofs is not kept for a logged cache
# A folder last published from another log: its shards (the same vouchers, other proofs) are
# not kept; every shard is cut again with this log's proofs.
expect_exit 0 "$VOUCH" log init --cache other.git --origin other.example/log --key other-log.key
expect_exit 0 "$VOUCH" publish --cache other.git --out www/mixed
expect_exit 0 "$VOUCH" publish --cache c.git --out www/mixed --json
expect_same "$(/usr/bin/python3 -c 'import json,sys; print(len(json.load(open(sys.argv[1]))["written"]))' out.txt)" "$shards"
expect_exit 0 "$TLOG_TOOL" open "$vkey" www/good/log/checkpoint
expect_same "$(sed -n 2p www/good/log/checkpoint)" 71
expect_same "$(stat -c %s www/good/log/tile/0/000.p/71)" $((71 * 32))
[ -s www/good/log/index/000.p/71 ] || fail "no entry index published"; ok
for b in $(awk 'NR > 1 { print "www/good/vouch.vshards/" $1 "/" $4 ".vbundle" }' www/good/vouch.index); do
  [ "$(unzip -Z1 "$b" | grep -c '\.tlog-proof$')" = "$(unzip -Z1 "$b" | grep -c '\.vjj$')" ] || fail "$b: a voucher without its proof"
done; ok
expect_exit 0 "$VOUCH_DEVICE" init --state dev2 --serial SN-2 --trust mfr.pem --log-key "$vkey"
expect_exit 0 "$VOUCH" issue --device-key dev2/device.pub --serial SN-2 --signer-key mfr.key --signer-cert mfr.pem \
  --domain-ca owner-ca.pem --domain-ca-key owner-ca.key --out-dir batch3
expect_exit 0 "$VOUCH" cache import --cache c.git batch3
udf2=$("$VOUCH" key show dev2/device.pub --json | sed -n 's/.*"udf": "\(.*\)".*/\1/p')
before=$(snapshot)
expect_exit 0 "$VOUCH" publish --cache c.git --out www/good --json
expect_same "$(/usr/bin/python3 -c 'import json,sys; print(len(json.load(open(sys.argv[1]))["written"]))' out.txt)" 1
expect_same "$(sed -n 2p www/good/log/checkpoint)" 72
[ -f www/good/log/tile/0/000.p/72 ] || fail "the grown partial tile is not published"; ok
# Only the new shard, the new tiles and the checkpoint are new or changed.
changed=$(comm -13 <(echo "$before") <(snapshot) | awk '{print $1}' | sed 's|^\./||' | grep -v '^log/' || true)
expect_same "$(echo "$changed" | grep -c vbundle)" 1
expect_exit 0 "$VOUCH" fetch "$url/good/" --device "$udf2" --out stick2 --json
expect_exit 0 "$VOUCH_DEVICE" fetch --state dev2 stick2
expect_in out.txt "enrolled"
finish
