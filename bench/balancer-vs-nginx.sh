#!/usr/bin/env bash
# The balancer against nginx as a round-robin reverse proxy, with wrk, on this machine and in one
# run: four event-loop backends (LOG_LEVEL=warn) on free ports, nginx in front of them
# (bench/nginx/proxy.conf.template: one worker, upstream keepalive 32, no access log), the balancer
# in front of the same four (LOG_LEVEL=warn), and `wrk -t1 -c50 -d5s --latency` on /page.html
# against each, ROUNDS times, alternating. Prints requests/s and p99 for each, and the ratio.
# Every target is first checked with curl (200 and the exact byte count); a run with non-2xx answers
# or socket errors is flagged. Settings come from the environment:
set -euo pipefail
cd "$(dirname "$0")/.."

DURATION=${DURATION:-5s}        # wrk -d for each measurement
WARMUP=${WARMUP:-1s}            # unmeasured wrk run first, so V8 has compiled the hot path
CONNECTIONS=${CONNECTIONS:-50}  # wrk -c
ROUNDS=${ROUNDS:-1}             # nginx, balancer, nginx, balancer...
echo "settings: DURATION=$DURATION WARMUP=$WARMUP CONNECTIONS=$CONNECTIONS ROUNDS=$ROUNDS" \
  "BALANCER_ARGS='${BALANCER_ARGS:-}' NODE_ARGS='${NODE_ARGS:-}'"
command -v nginx >/dev/null || { echo "needs nginx on PATH (Debian: apt-get install nginx)" >&2; exit 2; }

# shellcheck source=lib/balancer-bench.sh
source bench/lib/balancer-bench.sh

start_backends 4

NGINX_PORT=$(free_port)
SERVERS=$(for port in "${BACKEND_PORTS[@]}"; do printf '    server 127.0.0.1:%s;\\n' "$port"; done)
sed -e "s#@PREFIX@#$TMP#g" -e "s#@PORT@#$NGINX_PORT#g" -e "s#@SERVERS@#$SERVERS#" \
  bench/nginx/proxy.conf.template >"$TMP/nginx.conf"
nginx -p "$TMP" -c "$TMP/nginx.conf" -e "$TMP/error.log" &
PIDS+=($!)
wait_up "http://127.0.0.1:$NGINX_PORT/page.html"

BALANCER_PORT=$(free_port)
start_balancer "$BALANCER_PORT"

check_page nginx "http://127.0.0.1:$NGINX_PORT"
check_page balancer "http://127.0.0.1:$BALANCER_PORT"

NGINX_ALL=()
BALANCER_ALL=()
for round in $(seq "$ROUNDS"); do
  measure "nginx #$round" "http://127.0.0.1:$NGINX_PORT/page.html"
  NGINX_ALL+=("${RPS[nginx #$round]}")
  measure "balancer #$round" "http://127.0.0.1:$BALANCER_PORT/page.html"
  BALANCER_ALL+=("${RPS[balancer #$round]}")
done

print_rows
median() { printf '%s\n' "$@" | sort -n | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
NGINX_MEDIAN=$(median "${NGINX_ALL[@]}")
BALANCER_MEDIAN=$(median "${BALANCER_ALL[@]}")
echo "median requests/s: nginx $NGINX_MEDIAN, balancer $BALANCER_MEDIAN"
echo "balancer / nginx on /page.html: $(ratio "$BALANCER_MEDIAN" "$NGINX_MEDIAN")x (target >= 0.70x)"
machine_note
