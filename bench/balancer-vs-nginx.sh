#!/usr/bin/env bash
# The balancer against nginx as a round-robin reverse proxy, with wrk, on this machine and in one
# run: four event-loop backends (LOG_LEVEL=warn) on free ports, nginx in front of them
# (bench/nginx/proxy.conf.template: one worker, upstream keepalive 64, no access log), and one
# balancer per engine (--proxy-engine: undici, http-proxy-3, http-proxy; LOG_LEVEL=warn) in front
# of the same four. `wrk -t1 -c50 -d5s --latency` on /page.html against each in turn, ROUNDS times.
# Prints requests/s, p99 and the proxy's CPU time per request for every run, the medians, and each
# engine's ratio to nginx.
# Every target is first checked with curl (200 and the exact byte count); a run with non-2xx answers
# or socket errors is flagged. Settings come from the environment:
set -euo pipefail
cd "$(dirname "$0")/.."

DURATION=${DURATION:-5s}        # wrk -d for each measurement
WARMUP=${WARMUP:-1s}            # unmeasured wrk run first, so V8 has compiled the hot path
CONNECTIONS=${CONNECTIONS:-50}  # wrk -c
ROUNDS=${ROUNDS:-3}             # nginx, then each engine; repeated, and the median counts
ENGINES=${ENGINES:-undici http-proxy-3 http-proxy}  # --proxy-engine values to measure
echo "settings: DURATION=$DURATION WARMUP=$WARMUP CONNECTIONS=$CONNECTIONS ROUNDS=$ROUNDS" \
  "ENGINES='$ENGINES' BALANCER_ARGS='${BALANCER_ARGS:-}' NODE_ARGS='${NODE_ARGS:-}'"
command -v nginx >/dev/null || { echo "needs nginx on PATH (Debian: apt-get install nginx)" >&2; exit 2; }

# shellcheck source=lib/balancer-bench.sh
source bench/lib/balancer-bench.sh

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

declare -A ENGINE_PORT=() ENGINE_PID=()
for engine in $ENGINES; do
  ENGINE_PORT[$engine]=$(free_port)
  start_balancer "${ENGINE_PORT[$engine]}" --proxy-engine "$engine"
  ENGINE_PID[$engine]=$BALANCER_PID
  check_page "balancer ($engine)" "http://127.0.0.1:${ENGINE_PORT[$engine]}"
done

declare -A ALL=() ALL_CPU=()
for round in $(seq "$ROUNDS"); do
  measure "nginx #$round" "http://127.0.0.1:$NGINX_PORT/page.html" "$NGINX_PID"
  ALL[nginx]="${ALL[nginx]:-} ${RPS[nginx #$round]}"
  ALL_CPU[nginx]="${ALL_CPU[nginx]:-} ${CPU[nginx #$round]}"
  for engine in $ENGINES; do
    measure "$engine #$round" "http://127.0.0.1:${ENGINE_PORT[$engine]}/page.html" "${ENGINE_PID[$engine]}"
    ALL[$engine]="${ALL[$engine]:-} ${RPS[$engine #$round]}"
    ALL_CPU[$engine]="${ALL_CPU[$engine]:-} ${CPU[$engine #$round]}"
  done
done

print_rows
NGINX_MEDIAN=$(median "${ALL[nginx]}")
echo "medians over $ROUNDS rounds:"
echo "nginx: $NGINX_MEDIAN requests/s, $(median "${ALL_CPU[nginx]}") us CPU per request (master and worker)"
for engine in $ENGINES; do
  engine_median=$(median "${ALL[$engine]}")
  printf 'balancer (%s): %s requests/s, %s us CPU per request, %sx nginx (target >= 0.70x)\n' "$engine" \
    "$engine_median" "$(median "${ALL_CPU[$engine]}")" "$(ratio "$engine_median" "$NGINX_MEDIAN")"
done
machine_note
