#!/usr/bin/env bash
# The servers against nginx, with wrk, on this machine and in one run:
#   - GET /page.html, keep-alive, concurrency 50: nginx (Debian package, worker_processes 1,
#     access_log off) vs the event-loop backend vs the thread-pool server, all serving public/;
#   - GET /work?ms=5 (CPU-bound), concurrency 10: backend vs threaded.
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
echo "settings: DURATION=$DURATION WARMUP=$WARMUP PAGE_CONNECTIONS=$PAGE_CONNECTIONS" \
  "WORK_CONNECTIONS=$WORK_CONNECTIONS WORK_MS=$WORK_MS ROUNDS=$ROUNDS THREADS=$THREADS ($(nproc) CPUs)"

. "$(dirname "$0")/lib/script-kit.sh"
require_tools wrk nginx curl node
[ -f dist/src/backend.js ] && [ -f dist/src/threaded.js ] || npm run build
make_workdir servers-vs-nginx

PUBLIC="$PWD/public"
NGINX_PORT=$(free_port)
sed -e "s#@PREFIX@#$TMP#g" -e "s#@ROOT@#$PUBLIC#g" -e "s#@PORT@#$NGINX_PORT#g" \
  bench/nginx/static.conf.template >"$TMP/nginx.conf"
nginx -p "$TMP" -c "$TMP/nginx.conf" -e "$TMP/error.log" &
PIDS+=($!)

BACKEND_PORT=$(free_port)
LOG_LEVEL=warn node dist/src/backend.js --port "$BACKEND_PORT" --root "$PUBLIC" --work-cap-ms 1000 &
PIDS+=($!)

THREADED_PORT=$(free_port)
LOG_LEVEL=warn node dist/src/threaded.js --port "$THREADED_PORT" --root "$PUBLIC" --work-cap-ms 1000 \
  --threads "$THREADS" &
PIDS+=($!)

declare -A URL=(
  [nginx]="http://127.0.0.1:$NGINX_PORT"
  [backend]="http://127.0.0.1:$BACKEND_PORT"
  [threaded]="http://127.0.0.1:$THREADED_PORT"
)
for target in nginx backend threaded; do wait_up "${URL[$target]}/page.html"; done

# The measured responses must be the real thing: status 200 and every byte of the file.
PAGE_BYTES=$(stat -c %s public/page.html)
for target in nginx backend threaded; do
  read -r code size < <(curl -s -o /dev/null -w '%{http_code} %{size_download}\n' "${URL[$target]}/page.html")
  if [ "$code" != 200 ] || [ "$size" != "$PAGE_BYTES" ]; then
    echo "$target: /page.html answered $code with $size bytes, expected 200 with $PAGE_BYTES" >&2
    exit 1
  fi
done
for target in backend threaded; do
  code=$(curl -s -o /dev/null -w '%{http_code}' "${URL[$target]}/work?ms=$WORK_MS")
  [ "$code" = 200 ] || { echo "$target: /work?ms=$WORK_MS answered $code" >&2; exit 1; }
done

ROWS=()
declare -A RPS=()
measure() { # round target path connections
  wrk_measure "$4" "${URL[$2]}$3"
  RPS["$2 $3"]="${RPS["$2 $3"]:-} $W_RPS"
  ROWS+=("$(printf '%5s %-9s %-14s %5s %11s %9s %9s %9s %7s %8s' "$1" "$2" "$3" "$4" "$W_RPS" "$W_LAT" "$W_P99" \
    "$W_READ" "$W_NON2XX" "$W_ERRORS")")
  if [ "$W_NON2XX" != 0 ] || [ "$W_ERRORS" != 0 ]; then
    ROWS+=("      ^ INVALID: $W_REQS requests, $W_NON2XX non-2xx, $W_ERRORS socket errors")
  fi
}

# Interleaved rounds, so a neighbour's burst of CPU use does not land on one target only.
for round in $(seq "$ROUNDS"); do
  measure "$round" nginx /page.html "$PAGE_CONNECTIONS"
  measure "$round" backend /page.html "$PAGE_CONNECTIONS"
  measure "$round" threaded /page.html "$PAGE_CONNECTIONS"
  measure "$round" backend "/work?ms=$WORK_MS" "$WORK_CONNECTIONS"
  measure "$round" threaded "/work?ms=$WORK_MS" "$WORK_CONNECTIONS"
done

echo
printf '%5s %-9s %-14s %5s %11s %9s %9s %9s %7s %8s\n' round target path conns 'requests/s' 'avg lat' \
  'p99 lat' read non-2xx errors
for row in "${ROWS[@]}"; do echo "$row"; done
echo
declare -A MEDIAN=()
echo "median requests/s over $ROUNDS rounds:"
for key in "nginx /page.html" "backend /page.html" "threaded /page.html" "backend /work?ms=$WORK_MS" \
  "threaded /work?ms=$WORK_MS"; do
  MEDIAN[$key]=$(median "${RPS[$key]}")
  printf '  %-28s %11s   (rounds:%s)\n' "$key" "${MEDIAN[$key]}" "${RPS[$key]}"
done
echo "backend / nginx on /page.html:        $(ratio "${MEDIAN[backend /page.html]}" "${MEDIAN[nginx /page.html]}")x (target >= 0.70x)"
echo "threaded / backend on /work?ms=$WORK_MS:     $(ratio "${MEDIAN[threaded /work?ms=$WORK_MS]}" "${MEDIAN[backend /work?ms=$WORK_MS]}")x (target >= 1.50x)"
echo "page.html is $PAGE_BYTES bytes; wrk -t1, keep-alive; $(nproc) CPUs shared by wrk and the servers; load average $(cut -d' ' -f1-3 /proc/loadavg)"
