#!/usr/bin/env bash
# The balancer, in one process and as a cluster, against nginx and HAProxy as round-robin reverse
# proxies, with wrk, on this machine and in one run: four event-loop backends (LOG_LEVEL=warn) on free
# ports; nginx in front of them (bench/nginx/proxy.conf.template: one worker, upstream keepalive 64,
# no access log); HAProxy (bench/haproxy/proxy.cfg.template: nbthread 1, http-reuse always, round
# robin); and, for each engine and front (FRONTS), the balancer with --workers 1 (one process) and with --workers N (a
# primary and N workers; N is the balancer's default, the number of CPUs and at least 2), LOG_LEVEL=warn.
# `wrk -t1 -c50 -d5s --latency` on /page.html against each in turn, with keep-alive and with
# `Connection: close` (a new connection per request), interleaved, ROUNDS times.
# The `large` scenario, in the same rounds: GET /files/1mb.bin (1 MiB) with keep-alive and wrk
# -c$LARGE_CONNECTIONS, straight from one backend and through each balancer.
# Prints requests/s, p99 and the proxy's CPU time per request for every run (the proxy's process and
# its children: nginx's master and worker, HAProxy's master and worker, the balancer's primary and
# all its workers; for the large scenario's direct runs, the backend's), the medians, each
# balancer's ratio to nginx and HAProxy, the large scenario's requests/s and MB/s, then the targets,
# each "met" or "NOT met" in this run, for each balancer (1 and N workers, each engine):
#   - keep-alive: CPU per request at most 1.5x HAProxy's; requests/s at least 1.0x nginx's and at
#     least 0.8x HAProxy's; p99 at most 2x HAProxy's;
#   - Connection: close: CPU per request at most 2.5x HAProxy's;
#   - large: requests/s at least 0.7x those straight from one backend;
# and last, the CPU per request of N workers over one worker (the cluster must not cost more than
# 10% more per request). With BASELINE=<another checkout, built>, that checkout's balancer (N
# workers, each engine) is measured in the same rounds, and this checkout's CPU per request is put
# over it (a change of the request path must stay within 5%).
# Every target is first checked with curl (200 and the exact byte count); a run with non-2xx answers
# or socket errors is flagged. Settings come from the environment:
set -euo pipefail
cd "$(dirname "$0")/.."

DURATION=${DURATION:-5s}        # wrk -d for each measurement
WARMUP=${WARMUP:-1s}            # unmeasured wrk run first, so V8 has compiled the hot path
CONNECTIONS=${CONNECTIONS:-50}  # wrk -c
ROUNDS=${ROUNDS:-3}             # every target and mode once per round; the median counts
# --proxy-engine values to measure (h1, the default engine); 'h1 undici http-proxy-3 http-proxy' adds the engine comparison
# (two more balancers each, 1 and N workers, in both modes: about twice as long).
ENGINES=${ENGINES:-h1}
# --front values: h1 (the balancer's own HTTP/1.1 server, the default) and node (node:http's), each
# with every engine; a balancer behind node's front is named `<engine>@node`.
FRONTS=${FRONTS:-h1 node}
MODES=${MODES:-keep-alive close}  # wrk with keep-alive, and with -H 'Connection: close'
LARGE=${LARGE:-1}                          # 0 skips the large scenario (/files/1mb.bin)
LARGE_CONNECTIONS=${LARGE_CONNECTIONS:-10} # wrk -c for the large scenario
echo "settings: DURATION=$DURATION WARMUP=$WARMUP CONNECTIONS=$CONNECTIONS ROUNDS=$ROUNDS" \
  "ENGINES='$ENGINES' FRONTS='$FRONTS' MODES='$MODES' LARGE=$LARGE LARGE_CONNECTIONS=$LARGE_CONNECTIONS WORKERS='${WORKERS:-}'" \
  "BALANCER_ARGS='${BALANCER_ARGS:-}' NODE_ARGS='${NODE_ARGS:-}' BASELINE='${BASELINE:-}'"
command -v nginx >/dev/null || { echo "needs nginx on PATH (Debian: apt-get install nginx)" >&2; exit 2; }
command -v haproxy >/dev/null || { echo "needs haproxy on PATH (Debian: apt-get install haproxy)" >&2; exit 2; }

# shellcheck source=lib/balancer-bench.sh
source "$(dirname "$0")/lib/balancer-bench.sh"
WORKERS=${WORKERS:-$(default_workers)}  # N, the cluster's worker count (the balancer's default)
echo "cluster: --workers $WORKERS (one primary and $WORKERS workers) against --workers 1 (one process)"

start_backends 4

NGINX_PORT=$(free_port)
SERVERS=$(for port in "${BACKEND_PORTS[@]}"; do printf '    server 127.0.0.1:%s;\\n' "$port"; done)
sed -e "s#@PREFIX@#$TMP#g" -e "s#@PORT@#$NGINX_PORT#g" -e "s#@SERVERS@#$SERVERS#" \
  bench/nginx/proxy.conf.template >"$TMP/nginx.conf"
nginx -p "$TMP" -c "$TMP/nginx.conf" -e "$TMP/error.log" &
NGINX_PID=$!
PIDS+=("$NGINX_PID")
wait_up "http://127.0.0.1:$NGINX_PORT/page.html"
check_page nginx "http://127.0.0.1:$NGINX_PORT"

HAPROXY_PORT=$(free_port)
start_haproxy "$HAPROXY_PORT"
check_page haproxy "http://127.0.0.1:$HAPROXY_PORT"

# Targets in measuring order: name, port and the pid whose process tree is charged for the CPU.
TARGETS=(nginx haproxy)
declare -A PORT=([nginx]=$NGINX_PORT [haproxy]=$HAPROXY_PORT) PID=([nginx]=$NGINX_PID [haproxy]=$HAPROXY_PID)
# A balancer's name: workers, engine, and `@node` behind node:http's front.
balancer_name() { # workers engine front
  if [ "$3" = h1 ]; then echo "balancer/$1 $2"; else echo "balancer/$1 $2@$3"; fi
}
for engine in $ENGINES; do
  for front in $FRONTS; do
  for workers in 1 "$WORKERS"; do
    name=$(balancer_name "$workers" "$engine" "$front")
    PORT[$name]=$(free_port)
    start_balancer "${PORT[$name]}" --proxy-engine "$engine" --workers "$workers" --front "$front"
    PID[$name]=$BALANCER_PID
    check_page "$name" "http://127.0.0.1:${PORT[$name]}"
    TARGETS+=("$name")
  done
  done
done

if [ -n "${BASELINE:-}" ]; then
  [ -f "$BASELINE/dist/src/balancer.js" ] || { echo "BASELINE=$BASELINE has no dist/src/balancer.js: build it first" >&2; exit 2; }
  echo "baseline: $BASELINE at $(git -C "$BASELINE" log -1 --format='%h %s' 2>/dev/null | cut -c1-60)"
  for engine in $ENGINES; do
    name="baseline/$WORKERS $engine"
    PORT[$name]=$(free_port)
    BALANCER_JS="$BASELINE/dist/src/balancer.js" start_balancer "${PORT[$name]}" --proxy-engine "$engine" --workers "$WORKERS"
    PID[$name]=$BALANCER_PID
    check_page "$name" "http://127.0.0.1:${PORT[$name]}"
    TARGETS+=("$name")
  done
fi

# The large scenario: the 1 MiB file straight from the first backend, and through each balancer.
LARGE_PATH=/files/1mb.bin
LARGE_BYTES=$(stat -c %s "public$LARGE_PATH")
LARGE_TARGETS=()
if [ "$LARGE" != 0 ]; then
  PORT[backend]=${BACKEND_PORTS[0]}
  PID[backend]=${BACKEND_PIDS[0]}
  LARGE_TARGETS=(backend)
  for name in "${TARGETS[@]}"; do [[ $name == balancer/* ]] && LARGE_TARGETS+=("$name"); done
  for name in "${LARGE_TARGETS[@]}"; do
    check_answer "$name" "http://127.0.0.1:${PORT[$name]}$LARGE_PATH" "$LARGE_BYTES"
  done
fi

declare -A ALL=() ALL_CPU=() ALL_P99=() ALL_PARENT=()
keep() { # name mode label: adds the run's figures to the name and mode's lists, for the medians
  ALL[$1 $2]="${ALL[$1 $2]:-} ${RPS[$3]}"
  ALL_CPU[$1 $2]="${ALL_CPU[$1 $2]:-} ${CPU[$3]}"
  ALL_PARENT[$1 $2]="${ALL_PARENT[$1 $2]:-} ${CPU_PARENT[$3]}"
  ALL_P99[$1 $2]="${ALL_P99[$1 $2]:-} $(to_ms "${P99[$3]}")"
}
# Every other round runs the targets in reverse order, so no target always follows the same one
# (a balancer measured right after another pays for what that one left behind: caches, sockets).
REVERSED=()
for ((i = ${#TARGETS[@]} - 1; i >= 0; i--)); do REVERSED+=("${TARGETS[$i]}"); done
for round in $(seq "$ROUNDS"); do
  if ((round % 2 == 0)); then ORDER=("${REVERSED[@]}"); else ORDER=("${TARGETS[@]}"); fi
  for mode in $MODES; do
    client_mode "$mode"
    for name in "${ORDER[@]}"; do
      label="$name $mode #$round"
      measure "$label" "http://127.0.0.1:${PORT[$name]}/page.html" "${PID[$name]}"
      keep "$name" "$mode" "$label"
    done
  done
  client_mode keep-alive
  for name in "${LARGE_TARGETS[@]}"; do
    label="$name large #$round"
    CONNECTIONS=$LARGE_CONNECTIONS measure "$label" "http://127.0.0.1:${PORT[$name]}$LARGE_PATH" "${PID[$name]}"
    keep "$name" large "$label"
  done
done

print_rows
echo "medians over $ROUNDS rounds (CPU: the proxy's process tree, user + system, per request):"
printf '%-22s %-10s %11s %9s %11s %10s %9s %9s\n' proxy mode 'requests/s' 'p99 ms' 'CPU us/req' 'parent us' 'x nginx' \
  'x haproxy'
for mode in $MODES; do
  nginx_median=$(median "${ALL[nginx $mode]}")
  haproxy_median=$(median "${ALL[haproxy $mode]}")
  for name in "${TARGETS[@]}"; do
    rps=$(median "${ALL[$name $mode]}")
    printf '%-22s %-10s %11s %9s %11s %10s %9s %9s\n' "$name" "$mode" "$rps" "$(median "${ALL_P99[$name $mode]}")" \
      "$(median "${ALL_CPU[$name $mode]}")" "$(median "${ALL_PARENT[$name $mode]}")" "$(ratio "$rps" "$nginx_median")" \
      "$(ratio "$rps" "$haproxy_median")"
  done
done
if [ "$LARGE" != 0 ]; then
  echo
  echo "large: GET $LARGE_PATH ($LARGE_BYTES bytes), keep-alive, wrk -t1 -c$LARGE_CONNECTIONS, medians over $ROUNDS rounds"
  echo "(MB/s: requests/s x the file's bytes; CPU: the backend's own process when direct, the balancer's tree through it):"
  printf '%-22s %11s %9s %9s %11s %9s\n' target 'requests/s' 'MB/s' 'p99 ms' 'CPU us/req' 'x direct'
  direct_median=$(median "${ALL[backend large]}")
  for name in "${LARGE_TARGETS[@]}"; do
    rps=$(median "${ALL[$name large]}")
    label=$name
    [ "$name" = backend ] && label='backend (direct)'
    printf '%-22s %11s %9s %9s %11s %9s\n' "$label" "$rps" \
      "$(awk -v r="$rps" -v b="$LARGE_BYTES" 'BEGIN { printf "%.1f", r * b / 1e6 }')" \
      "$(median "${ALL_P99[$name large]}")" "$(median "${ALL_CPU[$name large]}")" "$(ratio "$rps" "$direct_median")"
  done
fi

echo
echo "targets (medians of this run; CPU: the proxy's process tree per request):"
longest=0
for name in "${TARGETS[@]}"; do [ "${#name}" -gt "$longest" ] && longest=${#name}; done
TARGET_WIDTH=$((longest + 50))
for engine in $ENGINES; do
  for front in $FRONTS; do
  for workers in 1 "$WORKERS"; do
    name=$(balancer_name "$workers" "$engine" "$front")
    if has_mode keep-alive; then
      target_line "$name, keep-alive, CPU per request / HAProxy's" \
        "$(median "${ALL_CPU[$name keep-alive]}")" "$(median "${ALL_CPU[haproxy keep-alive]}")" us '<=' 1.5
      target_line "$name, keep-alive, requests/s / nginx's" \
        "$(median "${ALL[$name keep-alive]}")" "$(median "${ALL[nginx keep-alive]}")" req/s '>=' 1.0
      target_line "$name, keep-alive, requests/s / HAProxy's" \
        "$(median "${ALL[$name keep-alive]}")" "$(median "${ALL[haproxy keep-alive]}")" req/s '>=' 0.8
      target_line "$name, keep-alive, p99 / HAProxy's" \
        "$(median "${ALL_P99[$name keep-alive]}")" "$(median "${ALL_P99[haproxy keep-alive]}")" ms '<=' 2
    fi
    if has_mode close; then
      target_line "$name, Connection: close, CPU per request / HAProxy's" \
        "$(median "${ALL_CPU[$name close]}")" "$(median "${ALL_CPU[haproxy close]}")" us '<=' 2.5
    fi
    if [ "$LARGE" != 0 ]; then
      target_line "$name, large, requests/s / direct from one backend" \
        "$(median "${ALL[$name large]}")" "$(median "${ALL[backend large]}")" req/s '>=' 0.7
    fi
  done
  done
done
has_mode keep-alive || echo "  (the keep-alive targets need MODES to include keep-alive)"
has_mode close || echo "  (the Connection: close target needs MODES to include close)"
[ "$LARGE" != 0 ] || echo "  (LARGE=0: the large scenario's target was not measured)"
targets_summary

echo
echo "CPU per request, --workers $WORKERS over --workers 1 (medians; each round's ratio in brackets; limit 1.10):"
HOLDS=yes
for engine in $ENGINES; do
  for mode in $MODES; do
    one=$(median "${ALL_CPU[balancer/1 $engine $mode]}")
    many=$(median "${ALL_CPU[balancer/$WORKERS $engine $mode]}")
    cpu_ratio=$(ratio "$many" "$one")
    rounds=()
    for round in $(seq "$ROUNDS"); do
      rounds+=("$(ratio "${CPU[balancer/$WORKERS $engine $mode #$round]}" "${CPU[balancer/1 $engine $mode #$round]}")")
    done
    verdict=holds
    awk -v r="$cpu_ratio" 'BEGIN { exit !(r == "-" || r + 0 > 1.10) }' && { verdict='does NOT hold'; HOLDS=no; }
    printf '  %-12s %-10s %s us / %s us = %sx [%s]: %s\n' "$engine" "$mode" "$many" "$one" "$cpu_ratio" "${rounds[*]}" "$verdict"
  done
done
if [ "$HOLDS" = yes ]; then
  echo "in this run the cluster's CPU per request stays within 10% of one process in every mode"
else
  echo "in this run the cluster's CPU per request rises by more than 10% in at least one mode"
fi
if [ -n "${BASELINE:-}" ]; then
  echo
  echo "CPU per request, this checkout over BASELINE, --workers $WORKERS (medians; each round's ratio in brackets; limit 1.05):"
  for engine in $ENGINES; do
    for mode in $MODES; do
      now=$(median "${ALL_CPU[balancer/$WORKERS $engine $mode]}")
      before=$(median "${ALL_CPU[baseline/$WORKERS $engine $mode]}")
      rounds=()
      for round in $(seq "$ROUNDS"); do
        rounds+=("$(ratio "${CPU[balancer/$WORKERS $engine $mode #$round]}" "${CPU[baseline/$WORKERS $engine $mode #$round]}")")
      done
      printf '  %-12s %-10s %s us / %s us = %sx [%s]\n' "$engine" "$mode" "$now" "$before" "$(ratio "$now" "$before")" "${rounds[*]}"
    done
  done
fi
echo "nginx balances round robin (keepalive 64 to upstreams); HAProxy nbthread 1, http-reuse always; $(nginx -v 2>&1);" \
  "$(haproxy -v | head -1 | cut -d' ' -f1-3); node $(node -v)"
machine_note
