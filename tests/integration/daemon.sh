# start_daemon DIR: a real `git daemon` on 127.0.0.1 serving every repository under DIR, with
# receive-pack enabled, on a free port ($port); stopped when the test exits. Source after lib.sh.
daemon_pid=""
stop_daemon() { [ -n "$daemon_pid" ] && kill "$daemon_pid" 2>/dev/null; wait "$daemon_pid" 2>/dev/null || true; }
start_daemon() {
  trap 'stop_daemon; rm -rf "$T"' EXIT
  local probe=$2 attempt
  for attempt in 1 2 3 4 5 6 7 8; do
    port=$((20000 + (RANDOM % 20000)))
    git daemon --reuseaddr --base-path="$1" --export-all --enable=receive-pack \
      --listen=127.0.0.1 --port="$port" "$1" >daemon.log 2>&1 &
    daemon_pid=$!
    for _ in $(seq 1 50); do
      git ls-remote "git://127.0.0.1:$port/$probe" >/dev/null 2>&1 && return 0
      kill -0 "$daemon_pid" 2>/dev/null || break
      sleep 0.1
    done
    stop_daemon; daemon_pid=""
  done
  fail "git daemon did not start: $(cat daemon.log)"
}
