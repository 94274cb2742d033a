# Shared helpers for the integration tests: a scratch directory, assertions that name what
# failed, and a PKI made with the openssl CLI (an independent implementation).
set -euo pipefail

: "${VOUCH:?path to the vouch binary}"
: "${VOUCH_DEVICE:?path to the vouch-device binary}"

T=$(mktemp -d "${TMPDIR:-/tmp}/vouch-it.XXXXXX")
trap 'rm -rf "$T"' EXIT
cd "$T"
checks=0

fail() { echo "FAIL: $*" >&2; exit 1; }
ok() { checks=$((checks + 1)); }

# expect_exit CODE CMD...: runs CMD, stdout to out.txt, stderr to err.txt; checks the status.
expect_exit() {
  local want=$1; shift
  local got=0
  "$@" >out.txt 2>err.txt || got=$?
  [ "$got" = "$want" ] || { cat out.txt err.txt >&2; fail "'$*' exited $got, expected $want"; }
  ok
}
expect_in() { # FILE PHRASE
  grep -qF -- "$2" "$1" || { cat "$1" >&2; fail "$1 does not contain '$2'"; }
  ok
}
expect_same() { # A B
  [ "$1" = "$2" ] || fail "'$1' != '$2'"
  ok
}

# make_ca NAME: NAME.key / NAME.pem, a self-signed P-256 CA.
make_ca() {
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$1.key" -out "$1.pem" \
    -subj "/CN=$1" -days 30 -addext basicConstraints=critical,CA:TRUE \
    -addext keyUsage=critical,keyCertSign,cRLSign,digitalSignature 2>/dev/null
}
# make_leaf NAME ISSUER: NAME.key / NAME.pem signed by ISSUER.
make_leaf() {
  openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$1.key" -out "$1.csr" -subj "/CN=$1" 2>/dev/null
  openssl x509 -req -in "$1.csr" -CA "$2.pem" -CAkey "$2.key" -CAcreateserial -out "$1.pem" -days 30 2>/dev/null
}

# bounded_fetch NAME MEDIUM [STATE]: fetch --dry-run --json under strace, within the bounds of the
# README: exit 0/3/4 only, under 20 s and 96 MiB peak (the largest of vouch-device and its
# reader; sanitizer builds check time and exit status only), and after the reader dropped
# its privileges it opened nothing but below the medium (relative to a descriptor of it).
bounded_fetch() {
  : "${MEASURE:?path to the measure test tool}"
  local name=$1 medium=$2 state=${3:-dev} rc=0
  # LeakSanitizer cannot run under ptrace: sanitizer runs check leaks in the other tests.
  ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0" timeout 60 "$MEASURE" strace -f -qq --seccomp-bpf -o "$name.trace" -e trace=openat,open,setresuid,execve,landlock_restrict_self,seccomp \
    "$VOUCH_DEVICE" fetch --dry-run --json --state "$state" "$medium" >"$name.json" 2>"$name.m" || rc=$?
  read -r secs kib code < <(tail -1 "$name.m")
  echo "$name: ${secs}s, $((kib / 1024)) MiB peak, exit $code"
  case "$code" in 0|3|4) ;; *) cat "$name.m" >&2; fail "$name: exit $code" ;; esac
  awk -v s="$secs" 'BEGIN { exit !(s < 20) }' || fail "$name: took ${secs}s"
  if [ "${VOUCH_SANITIZED:-0}" != 1 ]; then [ "$kib" -lt $((96 * 1024)) ] || fail "$name: ${kib} KiB peak"; fi
  # The reader's opens once it is confined: only openat(N, ...) below a medium's descriptor,
  # or libgit2's /proc/self/fd/N/... of one.
  local off
  # (Sanitizer builds' reader also reads /proc/self/maps and the like, for LeakSanitizer.)
  local allow='"/proc/self/fd/[0-9]+/'
  [ "${VOUCH_SANITIZED:-0}" = 1 ] && allow='"/proc[/"]'
  off=$(awk -v allow="$allow" '/setresuid\(/ { confined[$1] = 1; next }
             confined[$1] && /open(at)?\(/ && !/openat\([0-9]+,/ && $0 !~ allow { print }' "$name.trace")
  [ -z "$off" ] || { echo "$off" >&2; fail "$name: the reader opened something off the medium"; }
  grep -q "setresuid(" "$name.trace" || [ "$(id -u)" != 0 ] || fail "$name: the reader did not drop its user"
  grep -Eq "landlock_restrict_self\(.*\) += 0" "$name.trace" || fail "$name: the reader is not under Landlock"
  if [ "${VOUCH_SANITIZED:-0}" != 1 ]; then
    grep -Eq "seccomp\(SECCOMP_SET_MODE_FILTER, 0, .*\) += 0" "$name.trace" || fail "$name: the reader is not under seccomp"
  fi
  ok
}

# base64url without padding (RFC 7515 2), both ways: JWS made and read by the shell alone.
b64url() { basenc --base64url -w0 | tr -d '='; }
unb64url() {
  local s
  s=$(cat)
  while [ $((${#s} % 4)) -ne 0 ]; do s="$s="; done
  printf '%s' "$s" | basenc --base64url -d
}

# sign_jws OUT TYP KEY PAYLOAD CERT...: a one-signature JWS made by openssl alone; ES256 wants
# r || s, 32 bytes each (RFC 7518 3.4), where openssl writes a DER ECDSA-Sig-Value.
sign_jws() {
  local out=$1 typ=$2 key=$3 payload=$4 x5c="" c i rs=""
  shift 4
  for c in "$@"; do x5c="$x5c${x5c:+,}\"$(openssl x509 -in "$c" -outform DER | base64 -w0)\""; done
  local h p
  h=$(printf '{"alg":"ES256","typ":"%s","x5c":[%s]}' "$typ" "$x5c" | b64url)
  p=$(b64url < "$payload")
  printf '%s.%s' "$h" "$p" | openssl dgst -sha256 -sign "$key" -out sig.der
  for i in $(openssl asn1parse -inform DER -in sig.der | sed -n 's/.*INTEGER *:\([0-9A-F]*\)$/\1/p'); do
    while [ ${#i} -lt 64 ]; do i="0$i"; done
    rs="$rs$i"
  done
  [ ${#rs} = 128 ] || fail "sign_jws: signature is not two 32-byte integers"
  printf '{"payload":"%s","signatures":[{"protected":"%s","signature":"%s"}]}' \
    "$p" "$h" "$(printf '%s' "$rs" | basenc --base16 -d | b64url)" > "$out"
}

finish() { echo "$(basename "$0"): $checks checks passed"; }
