# shellcheck shell=bash
# Used by bench/balancer-vs-nginx.sh, bench/reload-vs-haproxy.sh and bench/tls-vs-nginx.sh (sourced,
# not run): start four backends, HAProxy and the balancers on free ports, check that /page.html comes
# back whole through each, and measure with wrk. Everything started is stopped on exit.

# shellcheck source=bench/lib/script-kit.sh
. "$(dirname "${BASH_SOURCE[0]}")/script-kit.sh"
require_tools wrk curl node
if [ ! -f dist/src/backend.js ] || [ ! -f dist/src/balancer.js ]; then npm run build; fi
make_workdir balancer-bench

PAGE_BYTES=$(stat -c %s public/page.html)

check_page() { # name url: /page.html must come back 200 with every byte
  check_answer "$1" "$2/page.html" "$PAGE_BYTES"
}

BACKEND_PORTS=()
BACKEND_PIDS=()
start_backends() { # count; sets BACKEND_PORTS and BACKEND_PIDS
  local port
  for _ in $(seq "$1"); do
    port=$(free_port)
    LOG_LEVEL=warn node dist/src/backend.js --port "$port" &
    PIDS+=($!)
    BACKEND_PIDS+=($!)
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
BALANCER_ADMIN_PORT=
start_balancer() { # port [extra args...]; sets BALANCER_PID (the primary with --workers 2+) and BALANCER_ADMIN_PORT
  local port=$1
  shift
  BALANCER_ADMIN_PORT=$(free_port)
  # NODE_ARGS: extra flags for node itself (e.g. --cpu-prof); BALANCER_ARGS: for the balancer.
  # shellcheck disable=SC2086
  # BALANCER_JS: another checkout's built balancer (balancer-vs-nginx.sh's BASELINE); BALANCER_LOG_LEVEL:
  # info for access lines (access-log-vs-warn.sh), warn otherwise.
  LOG_LEVEL=${BALANCER_LOG_LEVEL:-warn} node ${NODE_ARGS:-} "${BALANCER_JS:-dist/src/balancer.js}" --port "$port" --admin-port "$BALANCER_ADMIN_PORT" \
    --discovery static --upstreams "$(upstream_list)" ${BALANCER_ARGS:-} "$@" &
  BALANCER_PID=$!
  PIDS+=("$BALANCER_PID")
  wait_up "http://127.0.0.1:$port/page.html"
}

# The balancer's own default worker count (the number of CPUs, at least 2), from its config module.
default_workers() {
  node --input-type=module -e 'import { defaultWorkers } from "./dist/src/balancer/config.js"; console.log(defaultWorkers());'
}

# HAProxy in master-worker mode (-W, foreground) from bench/haproxy/proxy.cfg.template, round robin
# over the backends; its master CLI at $TMP/haproxy-master.sock, its notices in $TMP/haproxy.log.
HAPROXY_PID=
start_haproxy() { # port; sets HAPROXY_PID (the master)
  local servers i=0
  servers=$(for port in "${BACKEND_PORTS[@]}"; do i=$((i + 1)); printf '  server s%s 127.0.0.1:%s\\n' "$i" "$port"; done)
  sed -e "s#@PREFIX@#$TMP#g" -e "s#@PORT@#$1#g" -e "s#@SERVERS@#$servers#" \
    bench/haproxy/proxy.cfg.template >"$TMP/haproxy.cfg"
  haproxy -W -db -S "$TMP/haproxy-master.sock" -f "$TMP/haproxy.cfg" 2>>"$TMP/haproxy.log" &
  HAPROXY_PID=$!
  PIDS+=("$HAPROXY_PID")
  wait_up "http://127.0.0.1:$1/page.html"
}

ROWS=()
declare -A RPS=()
declare -A P99=()
declare -A CPU=()
declare -A CPU_PARENT=()
# wrk -c$CONNECTIONS against a target; sets RPS[label], P99[label], CPU[label] (CPU us per request
# of the pids given and their children: the proxy under test) and CPU_PARENT[label] (the first pid's
# own share: nginx's or HAProxy's master, the balancer's primary) and adds a table row. Another
# concurrency for one call: CONNECTIONS=10 measure ...
measure() { # label url [pid...]
  wrk_measure "$CONNECTIONS" "$2" "${@:3}"
  RPS[$1]=$W_RPS
  P99[$1]=$W_P99
  CPU[$1]=$W_CPU_US
  CPU_PARENT[$1]=$W_CPU_PARENT_US
  ROWS+=("$(printf '%-34s %11s %9s %9s %9s %7s %7s %9s %9s' "$1" "$W_RPS" "$W_LAT" "$W_P99" "$W_READ" "$W_NON2XX" \
    "$W_ERRORS" "$W_CPU_US" "$W_CPU_PARENT_US")")
  flag_invalid '  '
}

print_rows() {
  echo
  printf '%-34s %11s %9s %9s %9s %7s %7s %9s %9s\n' target 'requests/s' 'avg lat' 'p99 lat' read non-2xx errors 'CPU us/req' \
    'parent us'
  echo "(CPU us/req: the proxy's process and its children; parent us: the parent process's own share)"
  for row in "${ROWS[@]}"; do echo "$row"; done
  echo
}

machine_note() {
  echo "page.html is $PAGE_BYTES bytes; wrk -t1 -c$CONNECTIONS; $(nproc) CPUs shared by wrk," \
    "the proxy and four backends; load average $(cut -d' ' -f1-3 /proc/loadavg)"
  steal_note
}
