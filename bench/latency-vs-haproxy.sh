#!/usr/bin/env bash
# Tail latency under a light steady load (issue: "Tail latency under light load"), in one run:
# the fleet under a throwaway PM2 daemon (four backends, the balancer with PM2 discovery, as
# `npm start` runs it; LOG_LEVEL=warn), and HAProxy (bench/haproxy/latency.cfg.template, one thread)
# in front of the same four backends. bench/latency-load.ts sends RATE GETs of /page.html a second
# over CONNECTIONS keep-alive connections, open loop, latency from when each request was due;
# targets alternate, ROUNDS times DURATION each after a warm-up. Prints p50, p99 and max for both,
# the balancer's worst event-loop delay (nodejs_event_loop_delay_max_seconds, read every second),
# and the p99 ratio (target: within 2x of HAProxy). OUT=dir also writes results.json there.
set -euo pipefail
cd "$(dirname "$0")/.."

RATE=${RATE:-500}
DURATION=${DURATION:-10s}       # per round and target
ROUNDS=${ROUNDS:-2}             # balancer, HAProxy, balancer, HAProxy...: 2 x 10 s = 20 s each
WARMUP=${WARMUP:-3s}
CONNECTIONS=${CONNECTIONS:-20}
echo "settings: RATE=$RATE DURATION=$DURATION ROUNDS=$ROUNDS WARMUP=$WARMUP CONNECTIONS=$CONNECTIONS"

. bench/lib/script-kit.sh
require_tools haproxy curl node
npm run build --silent
make_workdir latency-bench
export LOG_LEVEL=warn
start_pm2_fleet
BACKENDS=("${FLEET_BACKENDS[@]}")
BALANCER_PORT=$FLEET_PORT
ADMIN_PORT=$FLEET_ADMIN_PORT

HAPROXY_PORT=$(free_port)
SERVERS=$(for i in "${!BACKENDS[@]}"; do printf '    server b%s 127.0.0.1:%s\\n' "$i" "${BACKENDS[$i]}"; done)
sed -e "s#@PORT@#$HAPROXY_PORT#g" -e "s#@SERVERS@#$SERVERS#" bench/haproxy/latency.cfg.template >"$TMP/haproxy.cfg"
haproxy -f "$TMP/haproxy.cfg" -db >"$TMP/haproxy.log" 2>&1 &
PIDS+=($!)
wait_up "http://127.0.0.1:$HAPROXY_PORT/page.html"

load() { # url [metrics-url]
  node dist/bench/latency-load.js --url "$1" --rate "$RATE" --duration "$DURATION" --warmup "$WARMUP" \
    --connections "$CONNECTIONS" --metrics-url "${2:-}"
}
time_wait() { ss -Htan state time-wait 2>/dev/null | wc -l; }
TIME_WAIT_BEFORE=$(time_wait)
RUNS=()
for round in $(seq "$ROUNDS"); do
  RUNS+=("{\"target\":\"balancer\",\"round\":$round,\"result\":$(load "http://127.0.0.1:$BALANCER_PORT/page.html" \
    "http://127.0.0.1:$ADMIN_PORT/metrics")}")
  RUNS+=("{\"target\":\"haproxy\",\"round\":$round,\"result\":$(load "http://127.0.0.1:$HAPROXY_PORT/page.html")}")
done
JSON="{\"settings\":{\"rate\":$RATE,\"duration\":\"$DURATION\",\"rounds\":$ROUNDS,\"connections\":$CONNECTIONS,\"cpus\":$(nproc),\"load\":\"$(cut -d' ' -f1-3 /proc/loadavg)\"},\"runs\":[$(IFS=,; echo "${RUNS[*]}")]}"
if [ -n "${OUT:-}" ]; then mkdir -p "$OUT" && echo "$JSON" >"$OUT/results.json"; fi
node -e '
const data = JSON.parse(process.argv[1]);
const by = (t) => data.runs.filter((r) => r.target === t).map((r) => r.result);
const median = (xs) => { const s = [...xs].sort((a, b) => a - b); const m = s.length >> 1; return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2; };
const f = (ms) => ms.toFixed(2).padStart(8);
console.log("\ntarget     round   sent     ok  failed   p50 ms   p99 ms   max ms  worst loop delay ms");
for (const r of data.runs) {
  const x = r.result;
  console.log(`${r.target.padEnd(10)} ${String(r.round).padStart(5)} ${String(x.sent).padStart(6)} ${String(x.ok).padStart(6)} ${String(x.failed).padStart(7)} ${f(x.p50Ms)} ${f(x.p99Ms)} ${f(x.maxMs)}  ${x.worstLoopDelayMs === null ? "-" : x.worstLoopDelayMs.toFixed(1)}`);
}
const b = by("balancer"), h = by("haproxy");
const bp99 = median(b.map((x) => x.p99Ms)), hp99 = median(h.map((x) => x.p99Ms));
console.log(`\nmedians: balancer p50 ${median(b.map((x) => x.p50Ms)).toFixed(2)} ms, p99 ${bp99.toFixed(2)} ms, max ${Math.max(...b.map((x) => x.maxMs)).toFixed(2)} ms;` +
  ` HAProxy p50 ${median(h.map((x) => x.p50Ms)).toFixed(2)} ms, p99 ${hp99.toFixed(2)} ms, max ${Math.max(...h.map((x) => x.maxMs)).toFixed(2)} ms`);
console.log(`balancer worst event-loop delay: ${Math.max(...b.map((x) => x.worstLoopDelayMs ?? 0)).toFixed(1)} ms`);
console.log(`balancer p99 / HAProxy p99: ${(bp99 / hp99).toFixed(2)}x (target <= 2x)`);
' "$JSON"
echo "sockets in TIME_WAIT on this machine: $TIME_WAIT_BEFORE before the load, $(time_wait) after"
echo "$(nproc) CPUs shared by the load client, the proxy and four backends; load average $(cut -d' ' -f1-3 /proc/loadavg)"
steal_note
