# shellcheck shell=bash
# Sourced (not run) by the wrk scripts in bench/: tool checks, a temp folder, free ports, waiting for
# a URL, checking an answer, measuring with wrk, medians and ratios, target lines, and stopping by
# PID everything the script started, whatever way it exits.

require_tools() { # tool...
  for tool in "$@"; do
    command -v "$tool" >/dev/null || { echo "needs $tool on PATH (Debian: apt-get install wrk nginx curl)" >&2; exit 2; }
  done
}

make_workdir() { # name; sets TMP and PIDS, and the traps that clean both up
  TMP=$(mktemp -d "${TMPDIR:-/tmp}/$1.XXXXXX")
  PIDS=()
  STEAL_START=$(cpu_steal_ticks)
  trap cleanup EXIT
  trap 'exit 130' INT TERM
}

# "steal total" clock ticks of all CPUs so far, from /proc/stat (0 0 where there is none).
cpu_steal_ticks() {
  awk '/^cpu / { total = 0; for (i = 2; i <= NF; i++) total += $i; print $9, total; found = 1 }
    END { if (!found) print 0, 0 }' /proc/stat 2>/dev/null || echo 0 0
}

# On a virtual machine the hypervisor can run other guests on our CPUs ("steal"): every figure
# of the run is slower by that much, and CPU per request rises with it. Printed with each result
# so runs on a busy host can be told apart from a change in the code.
steal_note() {
  local now
  now=$(cpu_steal_ticks)
  awk -v a="$STEAL_START" -v b="$now" 'BEGIN {
    split(a, x, " "); split(b, y, " "); d = y[2] - x[2]
    if (d <= 0) { print "CPU steal during the run: unknown"; exit }
    printf "CPU steal during the run: %.0f%% of the CPUs'"'"' time went to other guests of the host\n", (y[1] - x[1]) * 100 / d
  }'
}

# The fleet (ecosystem.config.cjs) as `npm start` runs it, under a throwaway PM2 daemon in $TMP,
# every port free; settings for the apps in the environment (LOG_LEVEL=warn start_pm2_fleet).
# Sets FLEET_BACKENDS (their ports), FLEET_PORT and FLEET_ADMIN_PORT; the daemon is killed on exit.
# Back once every backend is in the balancer's pool, as after `npm start`, so no measurement starts
# on a pool still filling.
PM2=node_modules/.bin/pm2
start_pm2_fleet() {
  export PM2_HOME="$TMP/pm2" FLEET_LOG_DIR="$TMP/fleet-logs"
  mkdir -p "$FLEET_LOG_DIR"
  trap 'stop_pm2_fleet; cleanup' EXIT
  FLEET_BACKENDS=()
  for _ in 1 2 3 4; do FLEET_BACKENDS+=("$(free_port)"); done
  FLEET_PORT=$(free_port)
  FLEET_ADMIN_PORT=$(free_port)
  BACKEND_PORTS=$(IFS=,; echo "${FLEET_BACKENDS[*]}") BALANCER_PORT=$FLEET_PORT ADMIN_PORT=$FLEET_ADMIN_PORT \
    ASYNC_PORT=$(free_port) THREADED_PORT=$(free_port) "$PM2" start ecosystem.config.cjs >/dev/null
  wait_up "http://127.0.0.1:$FLEET_PORT/page.html"
  for _ in $(seq 100); do
    [ "$(curl -s -m 5 "http://127.0.0.1:$FLEET_ADMIN_PORT/__lb/status" | grep -o '"state": *"up"' | wc -l)" \
      -ge ${#FLEET_BACKENDS[@]} ] && return 0
    sleep 0.1
  done
  echo "the fleet's balancer did not have all ${#FLEET_BACKENDS[@]} backends healthy within 10 s" >&2
  exit 1
}

stop_pm2_fleet() { "$PM2" kill >/dev/null 2>&1 || true; }

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

# The measured responses must be the real thing: status 200 and every byte of the file.
check_answer() { # name url bytes
  local code size
  read -r code size < <(curl -s -o /dev/null -w '%{http_code} %{size_download}\n' "$2")
  if [ "$code" != 200 ] || [ "$size" != "$3" ]; then
    echo "$1: $2 answered $code with $size bytes, expected 200 with $3" >&2
    exit 1
  fi
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

# Extra wrk options for every run from here on, e.g. WRK_OPTS=(-H 'Connection: close').
WRK_OPTS=()

# The client for the wrk runs from here on: keep-alive (wrk's default), or close (wrk sends
# `Connection: close`, so every request has a new TCP connection).
client_mode() { # keep-alive|close
  case $1 in
    keep-alive) WRK_OPTS=() ;;
    close) WRK_OPTS=(-H 'Connection: close') ;;
    *) echo "unknown client mode '$1' (keep-alive or close)" >&2; exit 2 ;;
  esac
}

# CPU time (user + system, in clock ticks) used so far by one process alone, without its children.
own_ticks() { # pid
  awk '{ print $14 + $15 }' "/proc/$1/stat"
}

us_per_request() { # ticks requests
  awk -v t="$1" -v hz="$(getconf CLK_TCK)" -v n="$2" 'BEGIN { printf "%.0f", t / hz * 1e6 / n }'
}

# One wrk measurement after an unmeasured warm-up; sets W_RPS, W_LAT, W_P99, W_REQS, W_READ,
# W_NON2XX and W_ERRORS from wrk's report (a run with non-2xx answers or socket errors is invalid).
# With pids after the url, also W_CPU_US: their CPU time (with their children's) per measured
# request, in microseconds, and W_CPU_PARENT_US: the first pid's own share of it.
wrk_measure() { # connections url [pid...]
  local out before after parent_before=0 parent_after=0
  wrk "${WRK_OPTS[@]}" -t1 -c"$1" -d"$WARMUP" "$2" >/dev/null
  before=$(cpu_ticks "${@:3}")
  [ $# -gt 2 ] && parent_before=$(own_ticks "$3")
  out=$(wrk "${WRK_OPTS[@]}" -t1 -c"$1" -d"$DURATION" --latency "$2")
  after=$(cpu_ticks "${@:3}")
  [ $# -gt 2 ] && parent_after=$(own_ticks "$3")
  wrk_parse "$out"
  W_CPU_US=-
  W_CPU_PARENT_US=-
  if [ $# -gt 2 ] && [ "${W_REQS:-0}" -gt 0 ]; then
    W_CPU_US=$(us_per_request $((after - before)) "$W_REQS")
    W_CPU_PARENT_US=$(us_per_request $((parent_after - parent_before)) "$W_REQS")
  fi
}

# Reads one wrk --latency report: W_RPS, W_LAT, W_MAX, W_P99, W_REQS, W_READ, W_NON2XX, W_ERRORS
# (connect + read + write + timeout) and W_ERROR_KINDS (the four, as c/r/w/t).
wrk_parse() { # wrk output
  W_RPS=$(awk '/^Requests\/sec:/ { print $2 }' <<<"$1")
  W_LAT=$(awk '/^    Latency/ { print $2 }' <<<"$1")
  W_MAX=$(awk '/^    Latency/ { print $4 }' <<<"$1")
  W_P99=$(awk '/^ +99%/ { print $2 }' <<<"$1")
  W_REQS=$(awk '/requests in/ { print $1 }' <<<"$1")
  W_READ=$(awk '/requests in/ { print $5 }' <<<"$1")
  W_NON2XX=$(awk '/Non-2xx/ { print $5 }' <<<"$1")
  W_NON2XX=${W_NON2XX:-0}
  W_ERRORS=$(awk '/Socket errors/ { gsub(",", ""); print $4 + $6 + $8 + $10 }' <<<"$1")
  W_ERRORS=${W_ERRORS:-0}
  W_ERROR_KINDS=$(awk '/Socket errors/ { gsub(",", ""); print $4 "/" $6 "/" $8 "/" $10 }' <<<"$1")
  W_ERROR_KINDS=${W_ERROR_KINDS:-0/0/0/0}
}

# Whether MODES (the client modes a script measures, e.g. 'keep-alive close') lists this one.
has_mode() { # mode
  [[ " ${MODES:-} " == *" $1 "* ]]
}

# After wrk_measure: a run with non-2xx answers or socket errors gets an INVALID line under its row
# in ROWS, and is counted in INVALID_RUNS.
INVALID_RUNS=0
flag_invalid() { # indent
  if [ "$W_NON2XX" != 0 ] || [ "$W_ERRORS" != 0 ]; then
    ROWS+=("$1^ INVALID: $W_REQS requests, $W_NON2XX non-2xx, $W_ERRORS socket errors")
    INVALID_RUNS=$((INVALID_RUNS + 1))
  fi
}

to_ms() { # a wrk duration (850.00us, 9.01ms, 1.20s, 2.00m): the number of milliseconds
  awk -v d="$1" 'BEGIN {
    n = d + 0; u = d; sub(/^[0-9.]+/, "", u)
    f = (u == "us") ? 0.001 : (u == "ms") ? 1 : (u == "s") ? 1000 : (u == "m") ? 60000 : -1
    if (f < 0) { print "-"; exit }
    printf "%.2f", n * f
  }'
}

median() { # value... (separate words, or one space-separated string)
  # shellcheck disable=SC2048,SC2086
  printf '%s\n' $* | grep . | sort -g | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

ratio() { # a b: a / b to two decimals; - when either is not a number or b is 0
  awk -v a="$1" -v b="$2" 'BEGIN {
    num = "^[0-9]+([.][0-9]+)?(e[+-]?[0-9]+)?$"
    if (a !~ num || b !~ num || b + 0 == 0) print "-"; else printf "%.2f", a / b
  }'
}

# One target as one line: its name, the two figures, their ratio, the limit and "met" or "NOT met"
# (a missing figure, -, does not meet it); counted in TARGETS_MET of TARGETS_TOTAL. With a note as
# the 7th argument, the line is shown beside the targets with that note and not counted.
TARGETS_MET=0
TARGETS_TOTAL=0
target_line() { # name a b unit '<='|'>=' limit [note]
  local r verdict='NOT met' met=0
  r=$(ratio "$2" "$3")
  if awk -v r="$r" -v op="$5" -v l="$6" 'BEGIN { exit !(r != "-" && (op == "<=" ? r + 0 <= l + 0 : r + 0 >= l + 0)) }'; then
    verdict=met
    met=1
  fi
  if [ $# -lt 7 ]; then
    TARGETS_TOTAL=$((TARGETS_TOTAL + 1))
    TARGETS_MET=$((TARGETS_MET + met))
  else
    verdict="$verdict ($7)"
  fi
  [ "$r" = - ] || r="${r}x"
  printf '  %-*s %s %s / %s %s = %s (limit %s %sx): %s\n' "${TARGET_WIDTH:-52}" "$1:" "$2" "$4" "$3" "$4" "$r" "$5" \
    "$6" "$verdict"
}

# The closing line of a targets section, and a warning when some runs were INVALID.
targets_summary() {
  echo "$TARGETS_MET of $TARGETS_TOTAL targets met in this run"
  if [ "$INVALID_RUNS" != 0 ]; then
    echo "WARNING: $INVALID_RUNS runs were INVALID (non-2xx answers or socket errors, marked above);" \
      "their figures are in the medians, so these verdicts do not stand"
  fi
}
