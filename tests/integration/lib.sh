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

finish() { echo "$(basename "$0"): $checks checks passed"; }
