#!/usr/bin/env bash
# Crash safety of the device state: `vouch-device fetch` killed with SIGKILL at random moments
# spread over a whole run; after every kill the state loads and is exactly the old
# generation or the new one (DESIGN.md section 9, docs/device-state.md).
. "$(dirname "$0")/lib.sh"
TRIALS=${VOUCH_KILL_TRIALS:-200}

make_ca mfr
"$VOUCH_DEVICE" init --state pristine --serial SN-1 --trust mfr.pem >/dev/null
issue() { "$VOUCH" issue --device-key pristine/device.pub --serial SN-1 --signer-key mfr.key --signer-cert mfr.pem \
  --domain-ca mfr.pem --domain-ca-key mfr.key --out "$1" >/dev/null; }
issue old.vjj
sleep 1  # created-on has one-second resolution: new.vjj must be strictly later
issue new.vjj
mkdir stick && cp new.vjj stick/ && "$VOUCH" bundle create --from stick --out stick >/dev/null && rm stick/new.vjj
"$VOUCH_DEVICE" accept --state pristine old.vjj >/dev/null
id_of() { "$VOUCH" inspect "$1" --json | sed -n 's/.*"id": "\(.*\)".*/\1/p'; }
old_id=$(id_of old.vjj)
new_id=$(id_of new.vjj)

# How long one whole fetch takes here; kills are spread over 0..1.5 times that.
cp -a pristine probe
start=$(date +%s%N); "$VOUCH_DEVICE" fetch --state probe stick >/dev/null; end=$(date +%s%N)
span_us=$(( (end - start) / 1000 * 3 / 2 + 1 ))
echo "one fetch: $(( (end - start) / 1000 )) us; killing at 0..$span_us us"

olds=0; news=0
for i in $(seq 1 "$TRIALS"); do
  rm -rf work && cp -a pristine work
  "$VOUCH_DEVICE" fetch --state work stick >/dev/null 2>&1 &
  pid=$!
  delay_us=$(( (RANDOM * 32768 + RANDOM) % span_us ))
  sleep "$(printf '0.%06d' "$delay_us")"
  kill -9 "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
  "$VOUCH_DEVICE" show --state work --json > show.json 2>show.err || fail "trial $i: state does not load: $(cat show.err)"
  id=$(sed -n 's/.*"voucher-id": "\(.*\)".*/\1/p' show.json)
  if [ "$id" = "$old_id" ]; then olds=$((olds + 1)); elif [ "$id" = "$new_id" ]; then news=$((news + 1));
  else fail "trial $i: state holds neither generation (voucher '$id')"; fi
  # The generation it names is whole: its key is the one state.json and z.pub describe.
  zpub=$(openssl pkey -in work/current/z.key -pubout 2>/dev/null) || fail "trial $i: current z.key unreadable"
  [ "$zpub" = "$(cat work/current/z.pub)" ] || fail "trial $i: z.key and z.pub disagree"
  ok
done
echo "$TRIALS kills: $olds left the old generation, $news the new one"
[ "$news" -gt 0 ] && [ "$olds" -gt 0 ] || echo "note: the kills did not land on both sides of the swap"
finish
