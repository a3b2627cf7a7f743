#!/usr/bin/env bash
# The servers against nginx and a bare node:http server, with wrk, on this machine and in one run:
#   - GET /page.html, concurrency 50, with keep-alive and with `Connection: close` (a new TCP
#     connection per request): nginx (Debian package, worker_processes 1, access_log off) vs the
#     event-loop backend vs a bare node:http server answering the same bytes from memory
#     (bench/bare-node-server.ts: node:http itself, the floor for a Node.js server) vs the
#     thread-pool server, all serving public/page.html;
#   - GET /work?ms=5 (CPU-bound), concurrency 10, keep-alive: backend vs threaded.
# For every run: requests/s, latency and the server's CPU time per request (user + system of its
# process and its children, from /proc: nginx's master and worker, each Node server's process with
# its threads). Then the medians, and the targets, each "met" or "NOT met" in this run:
#   - the backend's CPU per request at most 1.15x the bare node:http server's (keep-alive; the
#     Connection: close ratio is shown beside it);
#   - the backend's requests/s at least 0.6x nginx's serving the same file (keep-alive);
#   - the threaded server's requests/s on /work at least 1.5x the backend's.
# The Node servers run compiled (dist/) with LOG_LEVEL=warn, so the logger is not what is measured.
# Each measurement is repeated ROUNDS times, interleaved, and the median is compared.
# Every target is first checked with curl (status 200 and the exact byte count of the file), and a
# run with non-2xx answers or socket errors is flagged, so a fast error page never passes as a result.
# Everything started here is stopped on exit. Settings come from the environment:
set -euo pipefail
cd "$(dirname "$0")/.."

DURATION=${DURATION:-5s}          # wrk -d for each measurement
WARMUP=${WARMUP:-1s}              # unmeasured wrk run first, so V8 has compiled the hot path
PAGE_CONNECTIONS=${PAGE_CONNECTIONS:-50}
WORK_CONNECTIONS=${WORK_CONNECTIONS:-10}
WORK_MS=${WORK_MS:-5}
ROUNDS=${ROUNDS:-3}               # every measurement repeated, interleaved; the median counts
THREADS=${THREADS:-$(node -p 'require("os").availableParallelism()')}
MODES=${MODES:-keep-alive close}  # /page.html with keep-alive, and with -H 'Connection: close'
echo "settings: DURATION=$DURATION WARMUP=$WARMUP PAGE_CONNECTIONS=$PAGE_CONNECTIONS" \
  "WORK_CONNECTIONS=$WORK_CONNECTIONS WORK_MS=$WORK_MS ROUNDS=$ROUNDS THREADS=$THREADS MODES='$MODES'" \
  "($(nproc) CPUs)"

# shellcheck source=lib/script-kit.sh
. "$(dirname "$0")/lib/script-kit.sh"
require_tools wrk nginx curl node
if [ ! -f dist/src/backend.js ] || [ ! -f dist/src/threaded.js ] || [ ! -f dist/bench/bare-node-server.js ]; then
  npm run build
fi
make_workdir servers-vs-nginx

PUBLIC="$PWD/public"
declare -A PID=()
NGINX_PORT=$(free_port)
sed -e "s#@PREFIX@#$TMP#g" -e "s#@ROOT@#$PUBLIC#g" -e "s#@PORT@#$NGINX_PORT#g" \
  bench/nginx/static.conf.template >"$TMP/nginx.conf"
nginx -p "$TMP" -c "$TMP/nginx.conf" -e "$TMP/error.log" &
PID[nginx]=$!
PIDS+=("${PID[nginx]}")

BACKEND_PORT=$(free_port)
LOG_LEVEL=warn node dist/src/backend.js --port "$BACKEND_PORT" --root "$PUBLIC" --work-cap-ms 1000 &
PID[backend]=$!
PIDS+=("${PID[backend]}")

BARE_PORT=$(free_port)
node dist/bench/bare-node-server.js --port "$BARE_PORT" --root "$PUBLIC" &
PID[bare]=$!
PIDS+=("${PID[bare]}")

THREADED_PORT=$(free_port)
LOG_LEVEL=warn node dist/src/threaded.js --port "$THREADED_PORT" --root "$PUBLIC" --work-cap-ms 1000 \
  --threads "$THREADS" &
PID[threaded]=$!
PIDS+=("${PID[threaded]}")

PAGE_TARGETS=(nginx backend bare threaded)
declare -A URL=(
  [nginx]="http://127.0.0.1:$NGINX_PORT"
  [backend]="http://127.0.0.1:$BACKEND_PORT"
  [bare]="http://127.0.0.1:$BARE_PORT"
  [threaded]="http://127.0.0.1:$THREADED_PORT"
)
for target in "${PAGE_TARGETS[@]}"; do wait_up "${URL[$target]}/page.html"; done

PAGE_BYTES=$(stat -c %s public/page.html)
for target in "${PAGE_TARGETS[@]}"; do check_answer "$target" "${URL[$target]}/page.html" "$PAGE_BYTES"; done
for target in backend threaded; do
  code=$(curl -s -o /dev/null -w '%{http_code}' "${URL[$target]}/work?ms=$WORK_MS")
  [ "$code" = 200 ] || { echo "$target: /work?ms=$WORK_MS answered $code" >&2; exit 1; }
done

ROW_FORMAT='%5s %-9s %-11s %-10s %5s %11s %9s %9s %9s %7s %8s %10s'
ROWS=()
declare -A RPS=() CPU=()
measure() { # round target path mode connections
  client_mode "$4"
  wrk_measure "$5" "${URL[$2]}$3" "${PID[$2]}"
  RPS["$2 $3 $4"]="${RPS["$2 $3 $4"]:-} $W_RPS"
  CPU["$2 $3 $4"]="${CPU["$2 $3 $4"]:-} $W_CPU_US"
  # shellcheck disable=SC2059 # the format is ROW_FORMAT, the same for the header
  ROWS+=("$(printf "$ROW_FORMAT" "$1" "$2" "$3" "$4" "$5" "$W_RPS" "$W_LAT" "$W_P99" "$W_READ" "$W_NON2XX" \
    "$W_ERRORS" "$W_CPU_US")")
  flag_invalid '      '
}

# Interleaved rounds, so a neighbour's burst of CPU use does not land on one target only.
for round in $(seq "$ROUNDS"); do
  for mode in $MODES; do
    for target in "${PAGE_TARGETS[@]}"; do measure "$round" "$target" /page.html "$mode" "$PAGE_CONNECTIONS"; done
  done
  measure "$round" backend "/work?ms=$WORK_MS" keep-alive "$WORK_CONNECTIONS"
  measure "$round" threaded "/work?ms=$WORK_MS" keep-alive "$WORK_CONNECTIONS"
done

echo
# shellcheck disable=SC2059
printf "$ROW_FORMAT\n" round target path mode conns 'requests/s' 'avg lat' 'p99 lat' read non-2xx errors 'CPU us/req'
echo "(CPU us/req: the server's process and its children, user + system, per measured request)"
for row in "${ROWS[@]}"; do echo "$row"; done
echo
KEYS=()
for mode in $MODES; do
  for target in "${PAGE_TARGETS[@]}"; do KEYS+=("$target /page.html $mode"); done
done
KEYS+=("backend /work?ms=$WORK_MS keep-alive" "threaded /work?ms=$WORK_MS keep-alive")
declare -A MEDIAN=() MEDIAN_CPU=()
echo "medians over $ROUNDS rounds:"
printf '  %-36s %11s %10s   %s\n' 'target path mode' 'requests/s' 'CPU us/req' 'requests/s of each round'
for key in "${KEYS[@]}"; do
  MEDIAN[$key]=$(median "${RPS[$key]}")
  MEDIAN_CPU[$key]=$(median "${CPU[$key]}")
  printf '  %-36s %11s %10s  %s\n' "$key" "${MEDIAN[$key]}" "${MEDIAN_CPU[$key]}" "${RPS[$key]}"
done

echo
echo "targets (medians of this run):"
TARGET_WIDTH=62
if has_mode keep-alive; then
  target_line "backend / bare node:http, CPU per request, keep-alive" \
    "${MEDIAN_CPU[backend /page.html keep-alive]}" "${MEDIAN_CPU[bare /page.html keep-alive]}" us '<=' 1.15
fi
if has_mode close; then
  target_line "backend / bare node:http, CPU per request, Connection: close" \
    "${MEDIAN_CPU[backend /page.html close]}" "${MEDIAN_CPU[bare /page.html close]}" us '<=' 1.15 \
    'shown beside the keep-alive target, not counted'
fi
if has_mode keep-alive; then
  target_line "backend / nginx static, requests/s on /page.html, keep-alive" \
    "${MEDIAN[backend /page.html keep-alive]}" "${MEDIAN[nginx /page.html keep-alive]}" req/s '>=' 0.6
fi
target_line "threaded / backend, requests/s on /work?ms=$WORK_MS" \
  "${MEDIAN[threaded /work?ms=$WORK_MS keep-alive]}" "${MEDIAN[backend /work?ms=$WORK_MS keep-alive]}" req/s '>=' 1.5
has_mode keep-alive || echo "  (the keep-alive targets need MODES to include keep-alive)"
targets_summary
echo "page.html is $PAGE_BYTES bytes; wrk -t1; $(nproc) CPUs shared by wrk and the servers (nginx: one worker;" \
  "backend and bare server: one event loop each; threaded: $THREADS threads); load average" \
  "$(cut -d' ' -f1-3 /proc/loadavg)"
steal_note
