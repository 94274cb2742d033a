#!/usr/bin/env bash
# run_target.sh BINARY SEEDS REGRESSIONS SECONDS: fuzz one target for SECONDS from a scratch
# corpus seeded with SEEDS and REGRESSIONS; a crash, leak or timeout is copied into
# REGRESSIONS (so it becomes a test) and fails the run.
set -euo pipefail
bin=$1 seeds=$2 regressions=$3 seconds=$4
name=$(basename "$bin")
work=$(mktemp -d "${TMPDIR:-/tmp}/$name.XXXXXX")
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/corpus" "$work/artifacts"
cp -r "$seeds"/. "$work/corpus/" 2>/dev/null || true
[ -d "$regressions" ] && cp -r "$regressions"/. "$work/corpus/" 2>/dev/null || true
rc=0
"$bin" "$work/corpus" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -max_len=65536 \
  -artifact_prefix="$work/artifacts/" -print_final_stats=1 >"$work/log" 2>&1 || rc=$?
grep -E "^stat::number_of_executed_units|^stat::peak_rss_mb|cov: " "$work/log" | tail -3 || true
[ -n "${VOUCH_FUZZ_LOG:-}" ] && cp "$work/log" "$VOUCH_FUZZ_LOG"
if [ "$rc" -ne 0 ]; then
  tail -40 "$work/log"
  mkdir -p "$regressions"
  cp "$work"/artifacts/* "$regressions/" 2>/dev/null || true
  echo "$name: failure kept in $regressions" >&2
  exit 1
fi
