# Sourced (not run) by the wrk scripts in bench/: tool checks, a temp folder, free ports, waiting for
# a URL, and stopping by PID everything the script started, whatever way it exits.

require_tools() { # tool...
  for tool in "$@"; do
    command -v "$tool" >/dev/null || { echo "needs $tool on PATH (Debian: apt-get install wrk nginx curl)" >&2; exit 2; }
  done
}

make_workdir() { # name; sets TMP and PIDS, and the traps that clean both up
  TMP=$(mktemp -d "${TMPDIR:-/tmp}/$1.XXXXXX")
  PIDS=()
  trap cleanup EXIT
  trap 'exit 130' INT TERM
}

cleanup() {
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
  rm -rf "$TMP"
}

free_port() {
  node -e 'const s = require("net").createServer().listen(0, "127.0.0.1", () => { console.log(s.address().port); s.close(); });'
}

wait_up() { # url
  for _ in $(seq 150); do
    curl -sf -o /dev/null "$1" && return 0
    sleep 0.1
  done
  echo "nothing answered at $1" >&2
  exit 1
}

# CPU time (user + system, in clock ticks) used so far by the processes given, and by their children.
cpu_ticks() { # pid...
  local pid child total=0
  for pid in "$@"; do
    for child in $pid $(pgrep -P "$pid" || true); do
      total=$((total + $(awk '{ print $14 + $15 }' "/proc/$child/stat")))
    done
  done
  echo "$total"
}

# One wrk measurement after an unmeasured warm-up; sets W_RPS, W_LAT, W_P99, W_REQS, W_READ,
# W_NON2XX and W_ERRORS from wrk's report (a run with non-2xx answers or socket errors is invalid).
# With pids after the url, also W_CPU_US: their CPU time per measured request, in microseconds.
wrk_measure() { # connections url [pid...]
  local out before after
  wrk -t1 -c"$1" -d"$WARMUP" "$2" >/dev/null
  before=$(cpu_ticks "${@:3}")
  out=$(wrk -t1 -c"$1" -d"$DURATION" --latency "$2")
  after=$(cpu_ticks "${@:3}")
  W_RPS=$(awk '/^Requests\/sec:/ { print $2 }' <<<"$out")
  W_LAT=$(awk '/^    Latency/ { print $2 }' <<<"$out")
  W_P99=$(awk '/^ +99%/ { print $2 }' <<<"$out")
  W_REQS=$(awk '/requests in/ { print $1 }' <<<"$out")
  W_READ=$(awk '/requests in/ { print $5 }' <<<"$out")
  W_NON2XX=$(awk '/Non-2xx/ { print $5 }' <<<"$out")
  W_NON2XX=${W_NON2XX:-0}
  W_ERRORS=$(awk '/Socket errors/ { gsub(",", ""); print $4 + $6 + $8 + $10 }' <<<"$out")
  W_ERRORS=${W_ERRORS:-0}
  W_CPU_US=-
  if [ $# -gt 2 ] && [ "${W_REQS:-0}" -gt 0 ]; then
    W_CPU_US=$(awk -v t=$((after - before)) -v hz="$(getconf CLK_TCK)" -v n="$W_REQS" 'BEGIN { printf "%.0f", t / hz * 1e6 / n }')
  fi
}

median() { # value... (separate words, or one space-separated string)
  # shellcheck disable=SC2048,SC2086
  printf '%s\n' $* | grep . | sort -g | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

ratio() { # a b: a / b to two decimals
  awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'
}
