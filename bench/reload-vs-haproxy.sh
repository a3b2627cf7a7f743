#!/usr/bin/env bash
# Reloads under load: HAProxy reloaded seamlessly against the balancer reloaded with SIGHUP, in one
# run on this machine. Four event-loop backends (LOG_LEVEL=warn) on free ports; HAProxy in
# master-worker mode (bench/haproxy/proxy.cfg.template: nbthread 1, http-reuse always, round robin,
# a stats socket with `expose-fd listeners`) and the balancer (a primary and N workers, N its default,
# LOG_LEVEL=warn) in front of the same four. For each client mode (keep-alive, `Connection: close`)
# and each proxy in turn:
#   - steady: `wrk -t1 -c$CONNECTIONS -d$STEADY --latency` on /page.html with no reload, for the
#     latency without reloads;
#   - reloads: the same wrk load while the proxy is reloaded RELOADS times: one reload, wait until it
#     is done, SPACING seconds, the next (and SPACING seconds of load before the first and after the
#     last). HAProxy: `kill -USR2 <master>`; the master re-executes itself with -x <stats socket> and
#     the new worker takes the very listening socket over (done: the master logs `Loading success`).
#     The balancer: `kill -HUP <primary>`; new workers start, then the old ones drain (done:
#     `balancer.reloads` in GET /__lb/status has gone up, as the `reload-done` log line says).
#     pm2: the fleet as `npm start` runs it (its own four backends, the balancer with PM2 discovery
#     and its default workers, LOG_LEVEL=warn) under a throwaway PM2 daemon, every port free, and
#     `pm2 restart balancer`: PM2 stops the primary (SIGINT), its socket holder keeps the listening
#     sockets, and the next primary takes them over (done: the status answers from a new primary;
#     those whose `takenOverFrom` is not the last one's pid bound new sockets, and are counted).
#     PM2 restart is what users type most; the SIGHUP path is the one the project offers for reloads.
# A failed request is a non-2xx answer or a socket error as wrk counts them (connect, read, write,
# timeout after 2 s). Prints every run, then the two proxies side by side. Settings from the environment:
set -euo pipefail
cd "$(dirname "$0")/.."

RELOADS=${RELOADS:-10}          # reloads per run
SPACING=${SPACING:-1}           # seconds between one reload being done and the next
CONNECTIONS=${CONNECTIONS:-20}  # wrk -c
STEADY=${STEADY:-5s}            # wrk -d of the run without reloads (0 skips it)
MODES=${MODES:-keep-alive close}  # wrk with keep-alive, and with -H 'Connection: close'
RELOAD_TIMEOUT=${RELOAD_TIMEOUT:-30}  # seconds one reload may take before the run is given up
PROXIES=${PROXIES:-haproxy balancer pm2}  # which of the three to run, in this order
echo "settings: RELOADS=$RELOADS SPACING=$SPACING CONNECTIONS=$CONNECTIONS STEADY=$STEADY MODES='$MODES'" \
  "PROXIES='$PROXIES'" \
  "WORKERS='${WORKERS:-}' BALANCER_ARGS='${BALANCER_ARGS:-}'"
command -v haproxy >/dev/null || { echo "needs haproxy on PATH (Debian: apt-get install haproxy)" >&2; exit 2; }

# shellcheck source=lib/balancer-bench.sh
source bench/lib/balancer-bench.sh
WORKERS=${WORKERS:-$(default_workers)}
# wrk's own bound: every reload given its whole timeout, and the spacing around it.
WRK_BOUND=$(((RELOADS + 1) * (RELOAD_TIMEOUT + SPACING) + 10))

start_backends 4
HAPROXY_PORT=$(free_port)
start_haproxy "$HAPROXY_PORT"
check_page haproxy "http://127.0.0.1:$HAPROXY_PORT"
LB_PORT=$(free_port)
# Its warnings and errors (LOG_LEVEL=warn) go to a file and are shown at the end.
start_balancer "$LB_PORT" --workers "$WORKERS" >>"$TMP/balancer.log" 2>&1
LB_PID=$BALANCER_PID
LB_STATUS="http://127.0.0.1:$BALANCER_ADMIN_PORT/__lb/status"
check_page balancer "http://127.0.0.1:$LB_PORT"

# The fleet under its own PM2 daemon, for `pm2 restart balancer`.
FLEET_PORT=
if [[ " $PROXIES " == *" pm2 "* ]]; then
  BALANCER_WORKERS=$WORKERS LOG_LEVEL=warn start_pm2_fleet
  FLEET_STATUS="http://127.0.0.1:$FLEET_ADMIN_PORT/__lb/status"
  check_page pm2 "http://127.0.0.1:$FLEET_PORT"
fi

now_ms() { date +%s%3N; }

haproxy_loads() { grep -c 'Loading success' "$TMP/haproxy.log" || true; }
balancer_reloads() {
  local n
  n=$(curl -s -m 5 "$LB_STATUS" | grep -o '"reloads": *[0-9]*' | head -1 | grep -o '[0-9]*$') || true
  echo "${n:-0}"
}

# The fleet balancer's primary pid and the pid it took its sockets over from, from its status.
fleet_primary() {
  curl -s -m 5 "$FLEET_STATUS" | node -e '
    let t = ""; process.stdin.on("data", (c) => (t += c)).on("end", () => {
      try { const s = JSON.parse(t).balancer; console.log(`${s.pid} ${s.takenOverFrom ?? 0}`); } catch { console.log("0 0"); }
    });'
}

# One reload, back when it is done; sets RELOAD_MS (signal to done). Fails, with RELOAD_NOTE, when
# HAProxy reports a failed load or the reload is not done within RELOAD_TIMEOUT.
RELOAD_NOTE=
FRESH_BINDS=0
reload_proxy() { # haproxy|balancer|pm2
  local start target deadline old pid from
  start=$(now_ms)
  deadline=$((start + RELOAD_TIMEOUT * 1000))
  if [ "$1" = haproxy ]; then
    target=$(($(haproxy_loads) + 1))
    kill -USR2 "$HAPROXY_PID"
    until [ "$(haproxy_loads)" -ge "$target" ]; do
      if grep -q 'Loading failure' "$TMP/haproxy.log"; then RELOAD_NOTE="haproxy reported a failed load"; return 1; fi
      [ "$(now_ms)" -lt "$deadline" ] || { RELOAD_NOTE="a reload not done after ${RELOAD_TIMEOUT}s"; return 1; }
      sleep 0.05
    done
  elif [ "$1" = pm2 ]; then
    read -r old _ < <(fleet_primary)
    "$PM2" restart balancer >/dev/null 2>"$TMP/pm2-restart.err" || { RELOAD_NOTE="pm2 restart failed: $(head -c 200 "$TMP/pm2-restart.err")"; return 1; }
    until read -r pid from < <(fleet_primary) && [ "$pid" != 0 ] && [ "$pid" != "$old" ]; do
      [ "$(now_ms)" -lt "$deadline" ] || { RELOAD_NOTE="a restart not done after ${RELOAD_TIMEOUT}s"; return 1; }
      sleep 0.05
    done
    # A new primary that bound new sockets: the old ones (and what queued on them) were not handed over.
    [ "$from" = "$old" ] || FRESH_BINDS=$((FRESH_BINDS + 1))
  else
    target=$(($(balancer_reloads) + 1))
    kill -HUP "$LB_PID"
    until [ "$(balancer_reloads)" -ge "$target" ]; do
      [ "$(now_ms)" -lt "$deadline" ] || { RELOAD_NOTE="a reload not done after ${RELOAD_TIMEOUT}s"; return 1; }
      sleep 0.05
    done
  fi
  RELOAD_MS=$(($(now_ms) - start))
}

ROWS=()
row() { # proxy mode run
  ROWS+=("$(printf '%-9s %-10s %-10s %8s %10s %8s %7s %11s %7s %9s %9s %s' "$1" "$2" "$3" "$W_REQS" "$W_RPS" \
    "$W_NON2XX" "$W_ERRORS" "$W_ERROR_KINDS" "$((W_NON2XX + W_ERRORS))" "$W_P99" "$W_MAX" "${4:-}")")
}

declare -A SUMMARY=()
LB_GONE=
for mode in $MODES; do
  client_mode "$mode"
  for proxy in $PROXIES; do
    case $proxy in
      haproxy) url="http://127.0.0.1:$HAPROXY_PORT/page.html" ;;
      balancer) url="http://127.0.0.1:$LB_PORT/page.html" ;;
      pm2) url="http://127.0.0.1:$FLEET_PORT/page.html" ;;
      *) echo "unknown proxy '$proxy' in PROXIES (haproxy, balancer, pm2)" >&2; exit 2 ;;
    esac
    if [ "$proxy" = balancer ] && [ -n "$LB_GONE" ]; then
      SUMMARY[$proxy $mode]="not run: the balancer's primary exited in an earlier run"
      continue
    fi
    steady_p99=-
    if [ "$STEADY" != 0 ]; then
      wrk_parse "$(wrk "${WRK_OPTS[@]}" -t1 -c"$CONNECTIONS" -d"$STEADY" --latency "$url")"
      row "$proxy" "$mode" steady
      steady_p99=$W_P99
    fi

    wrk "${WRK_OPTS[@]}" -t1 -c"$CONNECTIONS" -d"${WRK_BOUND}s" --latency "$url" >"$TMP/wrk.out" &
    wrk_pid=$!
    PIDS+=("$wrk_pid")
    wrk_index=$((${#PIDS[@]} - 1))
    sleep "$SPACING"
    times=()
    RELOAD_NOTE=
    for _ in $(seq "$RELOADS"); do
      reload_proxy "$proxy" || break
      times+=("$RELOAD_MS")
      sleep "$SPACING"
    done
    kill -INT "$wrk_pid" 2>/dev/null || true # wrk stops and prints its report
    wait "$wrk_pid" || true
    unset 'PIDS[wrk_index]' # gone, so the clean-up does not signal a pid that may be reused
    wrk_parse "$(cat "$TMP/wrk.out")"
    reload_median=-
    reload_max=-
    if [ ${#times[@]} -gt 0 ]; then
      reload_median=$(median "${times[*]}")
      reload_max=$(printf '%s\n' "${times[@]}" | sort -n | tail -1)
    fi
    if [ "$proxy" = balancer ] && ! kill -0 "$LB_PID" 2>/dev/null; then
      LB_GONE=yes
      RELOAD_NOTE="${RELOAD_NOTE:+$RELOAD_NOTE; }the balancer's primary exited (its log below)"
    fi
    row "$proxy" "$mode" "${#times[@]} reloads" "reload took ${reload_median} ms median, ${reload_max} ms max${RELOAD_NOTE:+; $RELOAD_NOTE}"
    SUMMARY[$proxy $mode]="$(printf '%7s %8s %8s %9s %9s %9s %9s' "${#times[@]}" "$W_REQS" "$((W_NON2XX + W_ERRORS))" \
      "$steady_p99" "$W_P99" "$W_MAX" "${reload_median}")"
  done
done

echo
printf '%-9s %-10s %-10s %8s %10s %8s %7s %11s %7s %9s %9s\n' proxy client run requests 'req/s' non-2xx errors \
  'c/r/w/t' failed p99 max
for r in "${ROWS[@]}"; do echo "$r"; done
echo
echo "side by side ($RELOADS reloads a run, ${SPACING}s apart; failed = non-2xx + socket errors during the reload run;"
echo "p99 steady: the run without reloads; p99 and max: over the whole reload run; reload ms: signal to done, median):"
printf '%-9s %-10s %7s %8s %8s %9s %9s %9s %9s\n' proxy client reloads requests failed 'p99 stdy' 'p99' max 'reload ms'
for mode in $MODES; do
  for proxy in $PROXIES; do printf '%-9s %-10s %s\n' "$proxy" "$mode" "${SUMMARY[$proxy $mode]}"; done
done
if [ -n "$LB_GONE" ]; then lb_reloads="(its primary exited)"; else lb_reloads=$(balancer_reloads); fi
echo "reloads done: haproxy $(($(haproxy_loads) - 1)) (master-worker, -x socket transfer), balancer $lb_reloads (SIGHUP," \
  "--workers $WORKERS); $(haproxy -v | head -1 | cut -d' ' -f1-3); node $(node -v)"
echo "page.html is $PAGE_BYTES bytes; wrk -t1 -c$CONNECTIONS; $(nproc) CPUs shared by wrk, the proxies and four" \
  "backends; load average $(cut -d' ' -f1-3 /proc/loadavg)"
steal_note
echo "balancer warnings and errors during the run: $(grep -c . "$TMP/balancer.log" || true) lines (the first 20):"
head -20 "$TMP/balancer.log" | cut -c1-200 | sed -e "s#file://$PWD/##g" -e 's/^/  /'
echo "haproxy alerts during the run: $(grep -c ALERT "$TMP/haproxy.log" || true)"
if [[ " $PROXIES " == *" pm2 "* ]]; then
  echo "pm2: the fleet's balancer restarted $(LOG_LEVEL=warn "$PM2" jlist 2>/dev/null | node -e '
    let t = ""; process.stdin.on("data", (c) => (t += c)).on("end", () => {
      const app = JSON.parse(t).find((a) => a.name === "balancer"); console.log(app ? app.pm2_env.restart_time : "?");
    });') times by PM2 (pm2 restart balancer, --workers $WORKERS);" \
    "$FRESH_BINDS of them without taking the sockets over; its warnings and errors: $(cat "$FLEET_LOG_DIR"/balancer.err.log 2>/dev/null | grep -c . || true) lines (the first 20):"
  head -20 "$FLEET_LOG_DIR/balancer.err.log" 2>/dev/null | cut -c1-200 | sed -e "s#file://$PWD/##g" -e 's/^/  /'
fi
