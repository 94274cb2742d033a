#!/usr/bin/env bash
# fuzz/run_all.sh SECONDS [TARGET...]: build the clang/ASan/UBSan/libFuzzer tree if needed and
# fuzz every target (or the ones named) for SECONDS each, two at a time. Failures are kept in
# fuzz/regressions/<target>/; each target's final libFuzzer statistics are printed.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:?usage: fuzz/run_all.sh SECONDS [TARGET...]}
shift
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(udf voucher_json jws cms manifest bundle medium)
if [ ! -f build-san/build.ninja ]; then
  CC=clang CXX=clang++ meson setup build-san -Db_sanitize=address,undefined -Db_lundef=false -Dbench=false \
    -Dfuzz=true -Dcpp_args=-fno-sanitize-recover=all >/dev/null
fi
ninja -C build-san >/dev/null
export LSAN_OPTIONS=suppressions=$PWD/tests/lsan.supp ASAN_OPTIONS=detect_leaks=1:abort_on_error=1
logs=$(mktemp -d)
status=0
printf '%s\n' "${targets[@]}" | xargs -P 2 -I{} sh -c \
  "VOUCH_FUZZ_LOG=$logs/{}.log fuzz/run_target.sh build-san/fuzz/fuzz_{} fuzz/corpus/{} fuzz/regressions/{} $seconds > $logs/{}.out 2>&1 || echo {} >> $logs/failed" || true
for t in "${targets[@]}"; do
  printf '%-14s %s\n' "$t" "$(grep -E 'DONE|cov:' "$logs/$t.log" 2>/dev/null | tail -1)"
done
if [ -s "$logs/failed" ]; then echo "failed: $(tr '\n' ' ' < "$logs/failed")"; status=1; fi
rm -rf "$logs"
exit $status
