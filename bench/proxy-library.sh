#!/usr/bin/env bash
# http-proxy 1.18.1 against http-proxy-3 1.x inside this balancer (`--proxy-library`), everything
# else equal: four event-loop backends (LOG_LEVEL=warn) on free ports, the balancer (LOG_LEVEL=warn)
# in front of them with one library, then the other, ROUNDS times alternating, each measured with
# `wrk -t1 -c50 -d5s --latency` on /page.html. Prints requests/s and p99 per run and the medians.
# The README section "The balancer" records the figures and the choice. Settings from the environment:
set -euo pipefail
cd "$(dirname "$0")/.."

DURATION=${DURATION:-5s}        # wrk -d for each measurement
WARMUP=${WARMUP:-1s}            # unmeasured wrk run first, so V8 has compiled the hot path
CONNECTIONS=${CONNECTIONS:-50}  # wrk -c
ROUNDS=${ROUNDS:-3}             # http-proxy, http-proxy-3, http-proxy, ...
echo "settings: DURATION=$DURATION WARMUP=$WARMUP CONNECTIONS=$CONNECTIONS ROUNDS=$ROUNDS" \
  "BALANCER_ARGS='${BALANCER_ARGS:-}' NODE_ARGS='${NODE_ARGS:-}'"

# shellcheck source=lib/balancer-bench.sh
source bench/lib/balancer-bench.sh

start_backends 4
LIBRARIES=(http-proxy http-proxy-3)
declare -A ALL=()
for round in $(seq "$ROUNDS"); do
  for library in "${LIBRARIES[@]}"; do
    port=$(free_port)
    start_balancer "$port" --proxy-library "$library"
    check_page "$library" "http://127.0.0.1:$port"
    measure "$library #$round" "http://127.0.0.1:$port/page.html"
    ALL[$library]="${ALL[$library]:-} ${RPS[$library #$round]}"
    stop_balancer
  done
done

print_rows
median() { printf '%s\n' "$@" | sort -n | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
for library in "${LIBRARIES[@]}"; do
  # shellcheck disable=SC2086
  echo "$library: median $(median ${ALL[$library]}) requests/s over $ROUNDS runs"
done
machine_note
