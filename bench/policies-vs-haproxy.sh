#!/usr/bin/env bash
# Selection policies under a slow upstream (issue 25: "Policies under a slow upstream"), in one run:
# four upstreams on free ports, three backends (dist/src/backend.js, LOG_LEVEL=warn) and one slow
# server (bench/slow-server.ts: the same /page.html bytes SLOW_MS later, SLOW_CONCURRENCY at a time,
# so it can take SLOW_CONCURRENCY / SLOW_MS requests a second: 2 / 20 ms = 100/s by default); in
# front of the same four:
#   - the balancer with --policy round-robin and with --policy least-request (default workers,
#     LOG_LEVEL=warn, static upstreams);
#   - HAProxy with `balance leastconn` and with `balance random(2)` (bench/haproxy/policies.cfg.template,
#     one thread);
#   - nginx with `least_conn` (bench/nginx/policies.conf.template, one worker).
# Each upstream and each target is checked first (200 and every byte of /page.html). Then
# bench/policy-load.ts sends RATE GETs a second on a fixed schedule (open loop; latency from when
# each request was due), WARMUP seconds unmeasured then DURATION measured, to each target in turn,
# ROUNDS rounds, the order rotated each round; it counts each answer's X-Served-By, which gives the
# share the slow upstream got. Prints every run, then per target the medians over the rounds of
# p50, p99, max and the slow share, and the targets, each with its ratio: least-request's p99 at
# most 0.5x round robin's, and at most 1.2x HAProxy leastconn's (random(2) and nginx least_conn
# beside them, not counted). Writes the report to bench/results/policies-<time>.txt.
#
# Why RATE=480: round robin sends the slow upstream a quarter, 120/s, 1.2x what it can take, so its
# queue grows through every round-robin run (that is the point: round robin does not look); a
# policy that looks sends it less than its 100/s (20.8% of 480) and nothing queues. The three fast
# backends get 120-160/s each, a few percent of what one serves on this 2-core machine, and the
# whole load (client, proxy, four upstreams) leaves most of both cores idle.
# Bounded: ROUNDS x 5 runs, each rate x (WARMUP + DURATION) requests, at most DRAIN seconds for
# the last answers, and killed (timeout) if it outlives all that by 30 s. Settings from the environment:
set -euo pipefail
cd "$(dirname "$0")/.."

RATE=${RATE:-480}                         # requests a second, the same for every target
DURATION=${DURATION:-10}                  # seconds measured, per run
WARMUP=${WARMUP:-2}                       # seconds of unmeasured load first, per run (same rate)
DRAIN=${DRAIN:-15}                        # seconds at most to wait for the last answers of a run
ROUNDS=${ROUNDS:-3}                       # every target once per round; the medians count
CONNECTIONS=${CONNECTIONS:-400}           # the client's keep-alive connections at most
SLOW_MS=${SLOW_MS:-20}                    # the slow upstream's added time per request
SLOW_CONCURRENCY=${SLOW_CONCURRENCY:-2}   # requests it serves at once; more wait their turn
SETTINGS="RATE=$RATE DURATION=$DURATION WARMUP=$WARMUP DRAIN=$DRAIN ROUNDS=$ROUNDS CONNECTIONS=$CONNECTIONS"
SETTINGS+=" SLOW_MS=$SLOW_MS SLOW_CONCURRENCY=$SLOW_CONCURRENCY BALANCER_ARGS='${BALANCER_ARGS:-}'"
echo "settings: $SETTINGS"
for name in RATE DURATION WARMUP DRAIN ROUNDS CONNECTIONS SLOW_MS SLOW_CONCURRENCY; do
  [[ ${!name} =~ ^[0-9]+$ ]] || { echo "$name must be a whole number, got '${!name}'" >&2; exit 2; }
done
command -v nginx >/dev/null || { echo "needs nginx on PATH (Debian: apt-get install nginx)" >&2; exit 2; }
command -v haproxy >/dev/null || { echo "needs haproxy on PATH (Debian: apt-get install haproxy)" >&2; exit 2; }
command -v timeout >/dev/null || { echo "needs timeout on PATH (coreutils)" >&2; exit 2; }
STAMP=$(date -u +%Y-%m-%dT%H-%M-%SZ)
# The kit builds only when dist/ is missing; the slow server and the client must be current.
npm run build --silent

# shellcheck source=lib/balancer-bench.sh
source "$(dirname "$0")/lib/balancer-bench.sh"
WORKERS=$(default_workers)

# The upstreams: three backends, then the slow server (last in every proxy's list).
start_backends 3
SLOW_PORT=$(free_port)
node dist/bench/slow-server.js --port "$SLOW_PORT" --delay-ms "$SLOW_MS" --concurrency "$SLOW_CONCURRENCY" \
  --name slow >/dev/null &
PIDS+=($!)
BACKEND_PORTS+=("$SLOW_PORT")
wait_up "http://127.0.0.1:$SLOW_PORT/healthz"
for port in "${BACKEND_PORTS[@]}"; do
  check_page "upstream 127.0.0.1:$port" "http://127.0.0.1:$port"
  # The same size is not enough here: the slow server serves its own copy, so compare the bytes.
  curl -s "http://127.0.0.1:$port/page.html" | cmp -s - public/page.html ||
    { echo "upstream 127.0.0.1:$port does not serve the bytes of public/page.html" >&2; exit 1; }
done

# The targets, in the first round's order: name and port.
TARGETS=()
declare -A PORT=()
add_target() { # name port
  TARGETS+=("$1")
  PORT[$1]=$2
  check_page "$1" "http://127.0.0.1:$2"
}

for policy in round-robin least-request; do
  port=$(free_port)
  # A state file of its own in $TMP, so the run leaves nothing in state/.
  start_balancer "$port" --policy "$policy" --state-file "$TMP/state-$port.json"
  add_target "balancer $policy" "$port"
done

start_haproxy_balance() { # name algorithm: HAProxy from bench/haproxy/policies.cfg.template
  local port servers i=0
  port=$(free_port)
  servers=$(for p in "${BACKEND_PORTS[@]}"; do i=$((i + 1)); printf '  server s%s 127.0.0.1:%s\\n' "$i" "$p"; done)
  sed -e "s#@PORT@#$port#g" -e "s#@BALANCE@#$2#" -e "s#@SERVERS@#$servers#" \
    bench/haproxy/policies.cfg.template >"$TMP/haproxy-$port.cfg"
  haproxy -db -f "$TMP/haproxy-$port.cfg" >>"$TMP/haproxy-$port.log" 2>&1 &
  PIDS+=($!)
  wait_up "http://127.0.0.1:$port/page.html"
  add_target "$1" "$port"
}
start_haproxy_balance 'haproxy leastconn' leastconn
start_haproxy_balance 'haproxy random(2)' 'random(2)'

NGINX_PORT=$(free_port)
SERVERS=$(for port in "${BACKEND_PORTS[@]}"; do printf '    server 127.0.0.1:%s;\\n' "$port"; done)
sed -e "s#@PREFIX@#$TMP#g" -e "s#@PORT@#$NGINX_PORT#g" -e "s#@SERVERS@#$SERVERS#" \
  bench/nginx/policies.conf.template >"$TMP/nginx.conf"
nginx -p "$TMP" -c "$TMP/nginx.conf" -e "$TMP/error.log" &
PIDS+=($!)
wait_up "http://127.0.0.1:$NGINX_PORT/page.html"
add_target 'nginx least_conn' "$NGINX_PORT"

# One run of the client against a target; its JSON line, or nothing if it failed or was killed.
load() { # port
  timeout -k 5 $((WARMUP + DURATION + DRAIN + 30)) node dist/bench/policy-load.js \
    --url "http://127.0.0.1:$1/page.html" --rate "$RATE" --duration "${DURATION}s" --warmup "${WARMUP}s" \
    --drain "${DRAIN}s" --connections "$CONNECTIONS" --bytes "$PAGE_BYTES" --slow-name slow || true
}

# A run's figures as words: p50 p99 max (ms), slow share (%), sent ok failed unanswered, worst lag
# (ms), the client's CPU time (ms), the p99 of the slow upstream's answers alone (ms).
fields() { # json
  node -e '
    const r = JSON.parse(process.argv[1]);
    const f = (v, d) => (v === null ? "-" : v.toFixed(d));
    console.log([f(r.p50Ms, 2), f(r.p99Ms, 2), f(r.maxMs, 2), r.slowShare === null ? "-" : (r.slowShare * 100).toFixed(1),
      r.sent, r.ok, r.failed, r.unanswered, f(r.worstLagMs, 1), r.cpuMs, f(r.upstreams[r.slowName]?.p99Ms ?? null, 2)].join(" "));' "$1"
}

# "busy total" clock ticks of all CPUs so far (busy: user, nice, system, irq, softirq; total adds
# idle, iowait and steal).
machine_ticks() {
  awk '/^cpu / { busy = $2 + $3 + $4 + $7 + $8; print busy, busy + $5 + $6 + $9 }' /proc/stat
}

# Steal only counts other guests of the host; the engineers sharing this machine run their tests
# beside us, inside it. Ours: every process started here (with its children) and the client;
# theirs: the machine's busy time less ours. Both as a % of all the CPUs' time during the run.
cpu_shares() { # "busy total" before, our ticks before, the client's CPU ms: prints "ours others"
  local now ours
  now=$(machine_ticks)
  ours=$(cpu_ticks "${PIDS[@]}")
  awk -v a="$1" -v b="$now" -v o="$((ours - $2))" -v c="$3" -v hz="$(getconf CLK_TCK)" 'BEGIN {
    split(a, x, " "); split(b, y, " "); d = y[2] - x[2]
    if (d <= 0) { print "- -"; exit }
    mine = o + c * hz / 1000
    v = (y[1] - x[1] - mine) * 100 / d
    printf "%.0f %.0f\n", mine * 100 / d, v < 0 ? 0 : v }'
}

# "steal total" ticks now; the steal % since an earlier reading.
steal_since() { # "steal total" from cpu_steal_ticks
  awk -v a="$1" -v b="$(cpu_steal_ticks)" 'BEGIN { split(a, x, " "); split(b, y, " "); d = y[2] - x[2]
    if (d <= 0) print "-"; else printf "%.0f", (y[1] - x[1]) * 100 / d }'
}

ROW_FORMAT='%-24s %5s %9s %9s %9s %7s %9s %6s %6s %6s %10s %7s %6s %8s\n'
ROWS=()
ROUND_STEAL=()
declare -A RUN_P50=() RUN_P99=() RUN_MAX=() RUN_SHARE=() RUN_SLOW_P99=()
ALL_OTHERS=''
keep() { # list-name target value: adds a number to the target's list ('-' stays out of the medians)
  local -n list=$1
  [ "$3" = - ] || list[$2]="${list[$2]:-} $3"
}
RUN=0
RUNS=$((ROUNDS * ${#TARGETS[@]}))
for round in $(seq "$ROUNDS"); do
  round_start=$(cpu_steal_ticks)
  for i in "${!TARGETS[@]}"; do
    # Each round starts one target further on, so no target always follows the same one.
    name=${TARGETS[$(((i + round - 1) % ${#TARGETS[@]}))]}
    RUN=$((RUN + 1))
    echo "run $RUN of $RUNS: $name, round $round ($((WARMUP + DURATION)) s at $RATE/s)" >&2
    machine_before=$(machine_ticks)
    ours_before=$(cpu_ticks "${PIDS[@]}")
    out=$(load "${PORT[$name]}")
    if [ -z "$out" ]; then
      ROWS+=("$(printf "$ROW_FORMAT" "$name" "$round" - - - - - - - - - - - -)")
      ROWS+=("  ^ INVALID: the client failed or was stopped after $((WARMUP + DURATION + DRAIN + 30)) s")
      INVALID_RUNS=$((INVALID_RUNS + 1))
      continue
    fi
    read -r p50 p99 max share sent ok failed unanswered lag client_ms slow_p99 < <(fields "$out")
    read -r mine others < <(cpu_shares "$machine_before" "$ours_before" "$client_ms")
    [ "$others" = - ] || ALL_OTHERS+=" $others"
    ROWS+=("$(printf "$ROW_FORMAT" "$name" "$round" "$p50" "$p99" "$max" "$share" "$slow_p99" "$sent" "$ok" "$failed" \
      "$unanswered" "$lag" "$mine" "$others")")
    if [ "$failed" != 0 ] || [ "$unanswered" != 0 ]; then
      ROWS+=("  ^ INVALID: $sent requests, $failed failed (not 200 with every byte), $unanswered unanswered")
      INVALID_RUNS=$((INVALID_RUNS + 1))
    fi
    keep RUN_P50 "$name" "$p50"
    keep RUN_P99 "$name" "$p99"
    keep RUN_MAX "$name" "$max"
    keep RUN_SHARE "$name" "$share"
    keep RUN_SLOW_P99 "$name" "$slow_p99"
  done
  ROUND_STEAL+=("$(steal_since "$round_start")%")
done

med() { # values: their median, or - when there are none
  if [ -z "${1// /}" ]; then echo -; else median "$1"; fi
}

report() {
  local name longest=0 capacity
  capacity=$(awk -v c="$SLOW_CONCURRENCY" -v ms="$SLOW_MS" -v r="$RATE" 'BEGIN {
    if (ms == 0) print "unlimited requests/s"; else printf "%.0f requests/s at most = %.1f%% of RATE", c * 1000 / ms, c * 1e5 / ms / r }')
  if [ -n "${npm_lifecycle_event:-}" ]; then echo "Command: npm run $npm_lifecycle_event"; else
    echo "Command: bash bench/policies-vs-haproxy.sh"; fi
  echo "settings: $SETTINGS"
  echo "upstreams: 3 backends (dist/src/backend.js) and the slow one (bench/slow-server.js: +$SLOW_MS ms," \
    "$SLOW_CONCURRENCY at a time, so $capacity);" \
    "round robin sends it 25% ($(awk -v r="$RATE" 'BEGIN { print r / 4 }')/s)"
  echo "load: bench/policy-load.js, $RATE requests/s on a fixed schedule (open loop), $WARMUP s unmeasured then" \
    "$DURATION s measured per run, latency from when each request was due; slow %: its share of the answers (X-Served-By)"
  echo "balancer: --workers default ($WORKERS), LOG_LEVEL=warn; HAProxy nbthread 1; nginx worker_processes 1"
  echo
  printf "$ROW_FORMAT" target round 'p50 ms' 'p99 ms' 'max ms' 'slow %' 'slow p99' sent ok failed unanswered 'lag ms' \
    'ours %' 'others %'
  echo "(slow p99: of the slow upstream's answers alone, in ms; lag ms: how late the client sent a request"
  echo " at worst, part of every latency; ours %: CPU time of the processes this run started and of the"
  echo " client, others %: of every other process, each as a share of both CPUs during the run; others %"
  echo " is the other engineers' load on this machine, which steal misses)"
  for row in "${ROWS[@]}"; do echo "$row"; done
  echo "CPU steal per round: ${ROUND_STEAL[*]}; other processes' CPU, median of the runs: $(med "$ALL_OTHERS")%"
  # The slow upstream and the proxies are processes too: starved of CPU, the slow one serves less
  # than its capacity and every policy's queue at it grows, P2C's (more requests there) the most.
  if awk -v o="$(med "$ALL_OTHERS")" -v limit=20 'BEGIN { exit !(o != "-" && o + 0 > limit) }'; then
    echo "WARNING: other processes took more than 20% of the CPUs during the median run: these figures are" \
      "disturbed (runs with a high others % and lag ms show it); run again on a quieter machine"
  fi
  echo
  echo "medians over $ROUNDS rounds:"
  printf '%-24s %9s %9s %9s %7s %9s %20s\n' target 'p50 ms' 'p99 ms' 'max ms' 'slow %' 'slow p99' 'p99 / least-request'
  local lr
  lr=$(med "${RUN_P99[balancer least-request]:-}")
  for name in "${TARGETS[@]}"; do
    p99=$(med "${RUN_P99[$name]:-}")
    printf '%-24s %9s %9s %9s %7s %9s %20s\n' "$name" "$(med "${RUN_P50[$name]:-}")" "$p99" \
      "$(med "${RUN_MAX[$name]:-}")" "$(med "${RUN_SHARE[$name]:-}")" "$(med "${RUN_SLOW_P99[$name]:-}")" \
      "$(ratio "$p99" "$lr")"
  done
  echo
  echo "targets (p99, medians of this run):"
  for name in "${TARGETS[@]}"; do [ "${#name}" -gt "$longest" ] && longest=${#name}; done
  TARGET_WIDTH=$((longest + 26))
  TARGETS_MET=0
  TARGETS_TOTAL=0
  target_line 'balancer least-request / balancer round-robin' "$lr" "$(med "${RUN_P99[balancer round-robin]:-}")" \
    ms '<=' 0.5
  target_line 'balancer least-request / haproxy leastconn' "$lr" "$(med "${RUN_P99[haproxy leastconn]:-}")" ms '<=' 1.2
  target_line 'balancer least-request / haproxy random(2)' "$lr" "$(med "${RUN_P99[haproxy random(2)]:-}")" ms '<=' 1.2 \
    'beside the targets'
  target_line 'balancer least-request / nginx least_conn' "$lr" "$(med "${RUN_P99[nginx least_conn]:-}")" ms '<=' 1.2 \
    'beside the targets'
  targets_summary
  echo
  echo "$(nginx -v 2>&1); $(haproxy -v | head -1 | cut -d' ' -f1-3); node $(node -v)"
  echo "$(nproc) CPUs shared by the client, the proxies and the four upstreams; load average $(cut -d' ' -f1-3 /proc/loadavg)"
  steal_note
}

mkdir -p bench/results
RESULTS=bench/results/policies-$STAMP.txt
echo
report | tee "$RESULTS"
echo "written to $RESULTS"
