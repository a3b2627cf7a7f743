# Shared by bench/balancer-vs-nginx.sh and bench/proxy-library.sh (sourced, not run): start four
# backends and whatever proxies a script needs on free ports, check that /page.html comes back
# whole through each, and measure with wrk. Everything started is stopped on exit.

. "$(dirname "${BASH_SOURCE[0]}")/script-kit.sh"
require_tools wrk curl node
[ -f dist/src/backend.js ] && [ -f dist/src/balancer.js ] || npm run build
make_workdir balancer-bench

PAGE_BYTES=$(stat -c %s public/page.html)

# The measured responses must be the real thing: status 200 and every byte of the file.
check_page() { # name url
  local code size
  read -r code size < <(curl -s -o /dev/null -w '%{http_code} %{size_download}\n' "$2/page.html")
  if [ "$code" != 200 ] || [ "$size" != "$PAGE_BYTES" ]; then
    echo "$1: /page.html answered $code with $size bytes, expected 200 with $PAGE_BYTES" >&2
    exit 1
  fi
}

BACKEND_PORTS=()
start_backends() { # count
  local port
  for _ in $(seq "$1"); do
    port=$(free_port)
    LOG_LEVEL=warn node dist/src/backend.js --port "$port" &
    PIDS+=($!)
    BACKEND_PORTS+=("$port")
  done
  for port in "${BACKEND_PORTS[@]}"; do wait_up "http://127.0.0.1:$port/healthz"; done
}

upstream_list() {
  local IFS=,
  local list=()
  for port in "${BACKEND_PORTS[@]}"; do list+=("127.0.0.1:$port"); done
  echo "${list[*]}"
}

BALANCER_PID=
start_balancer() { # port [extra args...]
  local port=$1
  shift
  # NODE_ARGS: extra flags for node itself (e.g. --cpu-prof); BALANCER_ARGS: for the balancer.
  # shellcheck disable=SC2086
  LOG_LEVEL=warn node ${NODE_ARGS:-} dist/src/balancer.js --port "$port" --admin-port "$(free_port)" \
    --discovery static --upstreams "$(upstream_list)" ${BALANCER_ARGS:-} "$@" &
  BALANCER_PID=$!
  PIDS+=("$BALANCER_PID")
  wait_up "http://127.0.0.1:$port/page.html"
}

stop_balancer() {
  kill -INT "$BALANCER_PID" 2>/dev/null || true
  wait "$BALANCER_PID" 2>/dev/null || true
}

ROWS=()
declare -A RPS=()
declare -A P99=()
# wrk against a target; sets RPS[label] and P99[label] and adds a table row.
measure() { # label url
  local out rps lat p99 reqs read non2xx errors
  wrk -t1 -c"$CONNECTIONS" -d"$WARMUP" "$2" >/dev/null
  out=$(wrk -t1 -c"$CONNECTIONS" -d"$DURATION" --latency "$2")
  rps=$(awk '/^Requests\/sec:/ { print $2 }' <<<"$out")
  lat=$(awk '/^    Latency/ { print $2 }' <<<"$out")
  p99=$(awk '/^ +99%/ { print $2 }' <<<"$out")
  reqs=$(awk '/requests in/ { print $1 }' <<<"$out")
  read=$(awk '/requests in/ { print $5 }' <<<"$out")
  non2xx=$(awk '/Non-2xx/ { print $5 }' <<<"$out")
  errors=$(awk '/Socket errors/ { gsub(",", ""); print $4 + $6 + $8 + $10 }' <<<"$out")
  RPS[$1]=$rps
  P99[$1]=$p99
  ROWS+=("$(printf '%-24s %11s %9s %9s %9s %7s %7s' "$1" "$rps" "$lat" "$p99" "$read" "${non2xx:-0}" \
    "${errors:-0}")")
  if [ "${non2xx:-0}" != 0 ] || [ "${errors:-0}" != 0 ]; then
    ROWS+=("  ^ INVALID: $reqs requests, ${non2xx:-0} non-2xx, ${errors:-0} socket errors")
  fi
}

print_rows() {
  echo
  printf '%-24s %11s %9s %9s %9s %7s %7s\n' target 'requests/s' 'avg lat' 'p99 lat' read non-2xx errors
  for row in "${ROWS[@]}"; do echo "$row"; done
  echo
}

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }

machine_note() {
  echo "page.html is $PAGE_BYTES bytes; wrk -t1 -c$CONNECTIONS, keep-alive; $(nproc) CPUs shared by wrk," \
    "the proxy and four backends; load average $(cut -d' ' -f1-3 /proc/loadavg)"
}
