# Used by bench/balancer-vs-nginx.sh (sourced, not run): start four backends and the
# balancers on free ports, check that /page.html comes back
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
start_balancer() { # port [extra args...]; sets BALANCER_PID
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

ROWS=()
declare -A RPS=()
declare -A P99=()
declare -A CPU=()
# wrk against a target; sets RPS[label], P99[label] and CPU[label] (CPU us per request of the
# pids given: the proxy under test) and adds a table row.
measure() { # label url [pid...]
  wrk_measure "$CONNECTIONS" "$2" "${@:3}"
  RPS[$1]=$W_RPS
  P99[$1]=$W_P99
  CPU[$1]=$W_CPU_US
  ROWS+=("$(printf '%-24s %11s %9s %9s %9s %7s %7s %9s' "$1" "$W_RPS" "$W_LAT" "$W_P99" "$W_READ" "$W_NON2XX" \
    "$W_ERRORS" "$W_CPU_US")")
  if [ "$W_NON2XX" != 0 ] || [ "$W_ERRORS" != 0 ]; then
    ROWS+=("  ^ INVALID: $W_REQS requests, $W_NON2XX non-2xx, $W_ERRORS socket errors")
  fi
}

print_rows() {
  echo
  printf '%-24s %11s %9s %9s %9s %7s %7s %9s\n' target 'requests/s' 'avg lat' 'p99 lat' read non-2xx errors 'CPU us/req'
  for row in "${ROWS[@]}"; do echo "$row"; done
  echo
}

machine_note() {
  echo "page.html is $PAGE_BYTES bytes; wrk -t1 -c$CONNECTIONS, keep-alive; $(nproc) CPUs shared by wrk," \
    "the proxy and four backends; load average $(cut -d' ' -f1-3 /proc/loadavg)"
}
