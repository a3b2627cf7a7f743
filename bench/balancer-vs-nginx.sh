#!/usr/bin/env bash
# The balancer, in one process and as a cluster, against nginx and HAProxy as round-robin reverse
# proxies, with wrk, on this machine and in one run: four event-loop backends (LOG_LEVEL=warn) on free
# ports; nginx in front of them (bench/nginx/proxy.conf.template: one worker, upstream keepalive 64,
# no access log); HAProxy (bench/haproxy/proxy.cfg.template: nbthread 1, http-reuse always, round
# robin); and, for each engine, the balancer with --workers 1 (one process) and with --workers N (a
# primary and N workers; N is the balancer's default, the number of CPUs and at least 2), LOG_LEVEL=warn.
# `wrk -t1 -c50 -d5s --latency` on /page.html against each in turn, with keep-alive and with
# `Connection: close` (a new connection per request), interleaved, ROUNDS times.
# Prints requests/s, p99 and the proxy's CPU time per request for every run (the proxy's process and
# its children: nginx's master and worker, HAProxy's master and worker, the balancer's primary and
# all its workers), the medians, each balancer's ratio to nginx and HAProxy, and the CPU per request
# of N workers over one worker (the cluster must not cost more than 10% more per request).
# Every target is first checked with curl (200 and the exact byte count); a run with non-2xx answers
# or socket errors is flagged. Settings come from the environment:
set -euo pipefail
cd "$(dirname "$0")/.."

DURATION=${DURATION:-5s}        # wrk -d for each measurement
WARMUP=${WARMUP:-1s}            # unmeasured wrk run first, so V8 has compiled the hot path
CONNECTIONS=${CONNECTIONS:-50}  # wrk -c
ROUNDS=${ROUNDS:-3}             # every target and mode once per round; the median counts
# --proxy-engine values to measure; 'undici http-proxy-3 http-proxy' adds the engine comparison
# (two more balancers each, 1 and N workers, in both modes: about twice as long).
ENGINES=${ENGINES:-undici}
MODES=${MODES:-keep-alive close}  # wrk with keep-alive, and with -H 'Connection: close'
echo "settings: DURATION=$DURATION WARMUP=$WARMUP CONNECTIONS=$CONNECTIONS ROUNDS=$ROUNDS" \
  "ENGINES='$ENGINES' MODES='$MODES' WORKERS='${WORKERS:-}' BALANCER_ARGS='${BALANCER_ARGS:-}' NODE_ARGS='${NODE_ARGS:-}'"
command -v nginx >/dev/null || { echo "needs nginx on PATH (Debian: apt-get install nginx)" >&2; exit 2; }
command -v haproxy >/dev/null || { echo "needs haproxy on PATH (Debian: apt-get install haproxy)" >&2; exit 2; }

# shellcheck source=lib/balancer-bench.sh
source bench/lib/balancer-bench.sh
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
for engine in $ENGINES; do
  for workers in 1 "$WORKERS"; do
    name="balancer/$workers $engine"
    PORT[$name]=$(free_port)
    start_balancer "${PORT[$name]}" --proxy-engine "$engine" --workers "$workers"
    PID[$name]=$BALANCER_PID
    check_page "$name" "http://127.0.0.1:${PORT[$name]}"
    TARGETS+=("$name")
  done
done

declare -A ALL=() ALL_CPU=() ALL_P99=() ALL_PARENT=()
for round in $(seq "$ROUNDS"); do
  for mode in $MODES; do
    if [ "$mode" = close ]; then WRK_OPTS=(-H 'Connection: close'); else WRK_OPTS=(); fi
    for name in "${TARGETS[@]}"; do
      label="$name $mode #$round"
      measure "$label" "http://127.0.0.1:${PORT[$name]}/page.html" "${PID[$name]}"
      ALL[$name $mode]="${ALL[$name $mode]:-} ${RPS[$label]}"
      ALL_CPU[$name $mode]="${ALL_CPU[$name $mode]:-} ${CPU[$label]}"
      ALL_PARENT[$name $mode]="${ALL_PARENT[$name $mode]:-} ${CPU_PARENT[$label]}"
      ALL_P99[$name $mode]="${ALL_P99[$name $mode]:-} $(to_ms "${P99[$label]}")"
    done
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
    awk -v r="$cpu_ratio" 'BEGIN { exit !(r > 1.10) }' && { verdict='does NOT hold'; HOLDS=no; }
    printf '  %-12s %-10s %s us / %s us = %sx [%s]: %s\n' "$engine" "$mode" "$many" "$one" "$cpu_ratio" "${rounds[*]}" "$verdict"
  done
done
if [ "$HOLDS" = yes ]; then
  echo "in this run the cluster's CPU per request stays within 10% of one process in every mode"
else
  echo "in this run the cluster's CPU per request rises by more than 10% in at least one mode"
fi
echo "nginx balances round robin (keepalive 64 to upstreams); HAProxy nbthread 1, http-reuse always; $(nginx -v 2>&1);" \
  "$(haproxy -v | head -1 | cut -d' ' -f1-3); node $(node -v)"
machine_note
