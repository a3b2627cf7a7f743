#!/usr/bin/env bash
# Where one balancer process spends its CPU under load: `npm run profile:balancer`, four backends
# and the balancer (--workers 1, LOG_LEVEL=warn, node --perf-basic-prof so JIT frames have names)
# on free ports, a warm-up, then `wrk -t1 -c50` on /page.html while `perf record -e cpu-clock`
# samples the balancer alone (CPU time only: a process waiting or descheduled is not sampled, as it
# is in a --cpu-prof profile) and, in a second run, `strace -c` counts its system calls.
# Prints the CPU per request, the split between kernel, node's C++ and JIT code, the top symbols by
# their own samples, and the system calls per request. Settings from the environment:
set -euo pipefail
cd "$(dirname "$0")/.."

ENGINE=${ENGINE:-h1}            # --proxy-engine
MODE=${MODE:-keep-alive}        # keep-alive or close (wrk -H 'Connection: close')
DURATION=${DURATION:-5}         # seconds of each measured run
TOP=${TOP:-30}                  # symbols listed
CONNECTIONS=${CONNECTIONS:-50}  # wrk -c
echo "settings: ENGINE=$ENGINE MODE=$MODE DURATION=$DURATION TOP=$TOP BALANCER_ARGS='${BALANCER_ARGS:-}'"
command -v perf >/dev/null || { echo "needs perf on PATH (Debian: apt-get install linux-perf)" >&2; exit 2; }
command -v strace >/dev/null || { echo "needs strace on PATH (Debian: apt-get install strace)" >&2; exit 2; }

# shellcheck source=lib/balancer-bench.sh
source bench/lib/balancer-bench.sh
start_backends 4
PORT=$(free_port)
NODE_ARGS="--perf-basic-prof --no-logfile-per-isolate --logfile=$TMP/v8.log" start_balancer "$PORT" --proxy-engine "$ENGINE" --workers 1
check_page balancer "http://127.0.0.1:$PORT"
client_mode "$MODE"
URL="http://127.0.0.1:$PORT/page.html"
wrk "${WRK_OPTS[@]}" -t1 -c"$CONNECTIONS" -d2s "$URL" >/dev/null

before=$(own_ticks "$BALANCER_PID")
perf record -q -e cpu-clock -F 2000 -g -p "$BALANCER_PID" -o "$TMP/perf.data" -- sleep "$((DURATION + 1))" 2>/dev/null &
PERF=$!
out=$(wrk "${WRK_OPTS[@]}" -t1 -c"$CONNECTIONS" -d"${DURATION}s" "$URL")
after=$(own_ticks "$BALANCER_PID")
wait "$PERF" || true
wrk_parse "$out"
echo
echo "$ENGINE, $MODE: $W_RPS requests/s, $(us_per_request $((after - before)) "$W_REQS") us of CPU per request" \
  "($W_NON2XX non-2xx, $W_ERRORS socket errors)"
echo
echo "CPU samples by where the code lives ([kernel.kallsyms]: system calls and the TCP stack; node: its C++; [JIT]: JavaScript):"
perf report -i "$TMP/perf.data" --no-children --sort dso --stdio -g none 2>/dev/null | grep '%' | awk 'NR <= 5'
echo
echo "top $TOP symbols by their own samples:"
perf report -i "$TMP/perf.data" --no-children --sort sym --stdio -g none 2>/dev/null | grep '%' | awk -v n="$TOP" 'NR <= n' |
  sed -e "s#file://$PWD/##" -e "s#$PWD/##"

timeout -s INT "$((DURATION + 1))" strace -f -c -p "$BALANCER_PID" -o "$TMP/strace.txt" 2>/dev/null &
STRACE=$!
sleep 0.5
out=$(wrk "${WRK_OPTS[@]}" -t1 -c"$CONNECTIONS" -d"${DURATION}s" "$URL")
wait "$STRACE" || true
wrk_parse "$out"
echo
echo "system calls per request (strace -c over $W_REQS requests; strace itself slows the process down):"
awk -v n="$W_REQS" '$NF ~ /^[a-z_0-9]+$/ && $4 ~ /^[0-9]+$/ && $NF != "syscall" && $NF != "total" && $4 / n >= 0.01 {
  printf "  %-14s %6.2f\n", $NF, $4 / n }' "$TMP/strace.txt"
machine_note
