#!/usr/bin/env bash
# HTTPS, HTTP/2 and WebSockets: the balancer against nginx configured the same way, in one run on
# this machine. Four event-loop backends (LOG_LEVEL=warn) on free ports; nginx in front of them
# (bench/nginx/tls.conf.template: TLS with the same development certificate, `listen ... ssl
# http2`, WebSocket proxying, one worker) and the balancer (--tls-cert/--tls-key, LOG_LEVEL=warn).
# For each proxy, ROUNDS times:
#   - HTTPS/1.1: wrk -t1 -c$CONNECTIONS on /page.html (keep-alive, so TLS handshakes are few);
#   - HTTP/2:    h2load -t1 -c$H2_CLIENTS -m$H2_STREAMS (streams per connection) on /page.html;
#   - WebSocket: bench/ws-echo-load.ts, $TUNNELS open wss:// tunnels, echo round trips per second.
# Every figure comes with the proxy's CPU time per request (or per round trip), then issue 26's
# targets, each "met" or "NOT met" in this run: HTTPS/1.1 CPU per request at most 2x nginx's, HTTP/2
# at most 2.5x, wss:// echo round trips per second at least 0.9x nginx's. Needs wrk, h2load
# (Debian: nghttp2-client), nginx, openssl, curl.
# BALANCER_ARGS: more flags for the balancer (e.g. --workers 1: one process, as nginx's one worker).
# BARE=1 (the default) also measures node itself answering /page.html from memory
# (bench/bare-tls-server.ts), in the same rounds: over TLS as the balancer's listener takes it
# (node-tls), and in the clear (node-plain: HTTP/1.1, and HTTP/2 by prior knowledge), so what TLS
# costs node, and what the balancer adds to that, can be told apart. BARE=0 leaves them out.
set -euo pipefail
cd "$(dirname "$0")/.."

DURATION=${DURATION:-5s}
WARMUP=${WARMUP:-1s}
CONNECTIONS=${CONNECTIONS:-50}
H2_CLIENTS=${H2_CLIENTS:-10}
H2_STREAMS=${H2_STREAMS:-10}
TUNNELS=${TUNNELS:-100}
ROUNDS=${ROUNDS:-2}
BARE=${BARE:-1}
echo "settings: DURATION=$DURATION WARMUP=$WARMUP CONNECTIONS=$CONNECTIONS H2_CLIENTS=$H2_CLIENTS" \
  "H2_STREAMS=$H2_STREAMS TUNNELS=$TUNNELS ROUNDS=$ROUNDS BARE=$BARE BALANCER_ARGS='${BALANCER_ARGS:-}'"
command -v nginx >/dev/null || { echo "needs nginx on PATH (Debian: apt-get install nginx)" >&2; exit 2; }
command -v h2load >/dev/null || { echo "needs h2load on PATH (Debian: apt-get install nghttp2-client)" >&2; exit 2; }

# shellcheck source=lib/balancer-bench.sh
source bench/lib/balancer-bench.sh
[ -f dist/bench/ws-echo-load.js ] && [ -f dist/bench/bare-tls-server.js ] || npm run build

node scripts/cert-dev.js "$TMP/cert" >/dev/null
CERT=$TMP/cert/cert.pem
KEY=$TMP/cert/key.pem
SECONDS_N=${DURATION%s}

start_backends 4

NGINX_PORT=$(free_port)
SERVERS=$(for port in "${BACKEND_PORTS[@]}"; do printf '    server 127.0.0.1:%s;\\n' "$port"; done)
sed -e "s#@PREFIX@#$TMP#g" -e "s#@PORT@#$NGINX_PORT#g" -e "s#@SERVERS@#$SERVERS#" \
  -e "s#@CERT@#$CERT#" -e "s#@KEY@#$KEY#" bench/nginx/tls.conf.template >"$TMP/nginx.conf"
nginx -p "$TMP" -c "$TMP/nginx.conf" -e "$TMP/error.log" &
NGINX_PID=$!
PIDS+=("$NGINX_PID")

LB_PORT=$(free_port)
# shellcheck disable=SC2086
LOG_LEVEL=warn node dist/src/balancer.js --port "$LB_PORT" --admin-port "$(free_port)" --discovery static \
  --upstreams "$(upstream_list)" --tls-cert "$CERT" --tls-key "$KEY" --max-tunnels 1000 ${BALANCER_ARGS:-} &
LB_PID=$!
PIDS+=("$LB_PID")

if [ "$BARE" = 1 ]; then
  BARE_TLS_PORT=$(free_port) BARE_H1_PORT=$(free_port) BARE_H2C_PORT=$(free_port)
  node dist/bench/bare-tls-server.js --mode tls --port "$BARE_TLS_PORT" --cert "$CERT" --key "$KEY" &
  BARE_TLS_PID=$!
  node dist/bench/bare-tls-server.js --mode h1 --port "$BARE_H1_PORT" &
  BARE_H1_PID=$!
  node dist/bench/bare-tls-server.js --mode h2c --port "$BARE_H2C_PORT" &
  BARE_H2C_PID=$!
  PIDS+=("$BARE_TLS_PID" "$BARE_H1_PID" "$BARE_H2C_PID")
  wait_up "http://127.0.0.1:$BARE_H1_PORT/page.html"
fi

for port in "$NGINX_PORT" "$LB_PORT" ${BARE_TLS_PORT:+"$BARE_TLS_PORT"}; do
  for _ in $(seq 150); do curl -skf -o /dev/null "https://127.0.0.1:$port/page.html" && break; sleep 0.1; done
  for proto in --http1.1 --http2; do
    read -r code size version < <(curl -sk "$proto" -o /dev/null -w '%{http_code} %{size_download} %{http_version}\n' \
      "https://127.0.0.1:$port/page.html")
    if [ "$code" != 200 ] || [ "$size" != "$PAGE_BYTES" ]; then
      echo "port $port ($proto): /page.html answered $code with $size bytes over HTTP/$version" >&2
      exit 1
    fi
  done
done

cpu_us_per() { # ticks_before ticks_after count
  awk -v t=$(($2 - $1)) -v hz="$(getconf CLK_TCK)" -v n="$3" 'BEGIN { if (n > 0) printf "%.0f", t / hz * 1e6 / n; else print "-" }'
}

ROWS=()
row() { ROWS+=("$(printf '%-8s %-10s %12s %10s %8s' "$@")"); }

h2_measure() { # port pid [scheme]; sets H_RPS H_CPU H_FAILED
  local out before after done url="${3:-https}://127.0.0.1:$1/page.html"
  h2load -t1 -c"$H2_CLIENTS" -m"$H2_STREAMS" -D "${WARMUP%s}" "$url" >/dev/null
  before=$(cpu_ticks "$2")
  out=$(h2load -t1 -c"$H2_CLIENTS" -m"$H2_STREAMS" -D "$SECONDS_N" "$url")
  after=$(cpu_ticks "$2")
  H_RPS=$(awk '/^finished in/ { gsub(",", ""); print $4 }' <<<"$out")
  done=$(awk '/^requests:/ { print $8 }' <<<"$out")
  H_FAILED=$(awk '/^requests:/ { print $10 + $12 }' <<<"$out")
  grep -q 'h2' <<<"$(awk '/^Application protocol:/ { print $3 }' <<<"$out")" || { echo "h2load did not speak h2" >&2; exit 1; }
  H_CPU=$(cpu_us_per "$before" "$after" "$done")
}

ws_measure() { # port pid; sets S_RPS S_CPU S_FAILED
  local out before after trips
  node dist/bench/ws-echo-load.js --url "wss://127.0.0.1:$1/ws/echo" --tunnels "$TUNNELS" --seconds "$WARMUP" >/dev/null
  before=$(cpu_ticks "$2")
  out=$(node dist/bench/ws-echo-load.js --url "wss://127.0.0.1:$1/ws/echo" --tunnels "$TUNNELS" --seconds "$DURATION")
  after=$(cpu_ticks "$2")
  S_RPS=$(node -e 'console.log(JSON.parse(process.argv[1]).perSecond)' "$out")
  trips=$(node -e 'console.log(JSON.parse(process.argv[1]).roundTrips)' "$out")
  S_FAILED=$(node -e 'console.log(JSON.parse(process.argv[1]).failures)' "$out")
  S_CPU=$(cpu_us_per "$before" "$after" "$trips")
}

declare -A ALL=()
add() { ALL[$1]="${ALL[$1]:-} $2"; }
for round in $(seq "$ROUNDS"); do
  for proxy in nginx balancer; do
    if [ "$proxy" = nginx ]; then port=$NGINX_PORT pid=$NGINX_PID; else port=$LB_PORT pid=$LB_PID; fi
    wrk_measure "$CONNECTIONS" "https://127.0.0.1:$port/page.html" "$pid"
    row "$proxy" "https/1.1" "$W_RPS" "$W_CPU_US" "$((W_NON2XX + W_ERRORS))"
    add "$proxy h1" "$W_RPS"; add "$proxy h1 cpu" "$W_CPU_US"
    h2_measure "$port" "$pid"
    row "$proxy" "h2" "$H_RPS" "$H_CPU" "$H_FAILED"
    add "$proxy h2" "$H_RPS"; add "$proxy h2 cpu" "$H_CPU"
    ws_measure "$port" "$pid"
    row "$proxy" "wss echo" "$S_RPS" "$S_CPU" "$S_FAILED"
    add "$proxy ws" "$S_RPS"; add "$proxy ws cpu" "$S_CPU"
  done
  [ "$BARE" = 1 ] || continue
  for bare in node-tls node-plain; do
    if [ "$bare" = node-tls ]; then
      h1_url="https://127.0.0.1:$BARE_TLS_PORT/page.html" h1_pid=$BARE_TLS_PID
      h2_port=$BARE_TLS_PORT h2_pid=$BARE_TLS_PID h2_scheme=https
    else
      h1_url="http://127.0.0.1:$BARE_H1_PORT/page.html" h1_pid=$BARE_H1_PID
      h2_port=$BARE_H2C_PORT h2_pid=$BARE_H2C_PID h2_scheme=http
    fi
    wrk_measure "$CONNECTIONS" "$h1_url" "$h1_pid"
    row "$bare" "http/1.1" "$W_RPS" "$W_CPU_US" "$((W_NON2XX + W_ERRORS))"
    add "$bare h1" "$W_RPS"; add "$bare h1 cpu" "$W_CPU_US"
    h2_measure "$h2_port" "$h2_pid" "$h2_scheme"
    row "$bare" "h2" "$H_RPS" "$H_CPU" "$H_FAILED"
    add "$bare h2" "$H_RPS"; add "$bare h2 cpu" "$H_CPU"
  done
done

echo
printf '%-8s %-10s %12s %10s %8s\n' proxy protocol 'per second' 'CPU us' failed
for r in "${ROWS[@]}"; do echo "$r"; done
echo
echo "medians over $ROUNDS rounds (requests/s or round trips/s; CPU us per request or round trip of the proxy):"
for kind in h1 h2 ws; do
  n=$(median "${ALL[nginx $kind]}") b=$(median "${ALL[balancer $kind]}")
  printf '%-3s nginx %s (%s us)  balancer %s (%s us)  balancer/nginx %sx\n' "$kind" "$n" \
    "$(median "${ALL[nginx $kind cpu]}")" "$b" "$(median "${ALL[balancer $kind cpu]}")" "$(ratio "$b" "$n")"
done
if [ "$BARE" = 1 ]; then
  echo "node itself answering from memory (bench/bare-tls-server.ts; node-tls over TLS as the balancer takes it, node-plain in the clear):"
  for kind in h1 h2; do
    printf '%-3s node-tls %s (%s us)  node-plain %s (%s us)\n' "$kind" "$(median "${ALL[node-tls $kind]}")" \
      "$(median "${ALL[node-tls $kind cpu]}")" "$(median "${ALL[node-plain $kind]}")" "$(median "${ALL[node-plain $kind cpu]}")"
  done
fi
echo
echo "targets (issue 26; medians of this run):"
target_line "HTTPS/1.1, CPU per request / nginx's" \
  "$(median "${ALL[balancer h1 cpu]}")" "$(median "${ALL[nginx h1 cpu]}")" us '<=' 2
target_line "HTTP/2, CPU per request / nginx's" \
  "$(median "${ALL[balancer h2 cpu]}")" "$(median "${ALL[nginx h2 cpu]}")" us '<=' 2.5
target_line "wss:// echo, round trips/s / nginx's" \
  "$(median "${ALL[balancer ws]}")" "$(median "${ALL[nginx ws]}")" rt/s '>=' 0.9
targets_summary
echo "page.html is $PAGE_BYTES bytes; wrk -c$CONNECTIONS; h2load -c$H2_CLIENTS -m$H2_STREAMS; $TUNNELS wss tunnels," \
  "64-byte messages; $(nproc) CPUs shared by the clients, the proxy and four backends;" \
  "load average $(cut -d' ' -f1-3 /proc/loadavg); $(nginx -v 2>&1); node $(node -v)"
steal_note
