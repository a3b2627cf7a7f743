#!/usr/bin/env bash
# What the access log costs: the same balancer at each of LOG_LEVELS side by side in one run (warn:
# no access line; info: one per request, as the fleet runs and the assignment's step 4 wants), with
# wrk on /page.html through four event-loop backends (LOG_LEVEL=warn) on free ports. Each balancer's
# stdout and stderr go through a pipe to a reader that writes a file, as under PM2 (its daemon reads
# the apps' pipes and writes logs/). The targets are measured in turn, the order reversed every
# other round, ROUNDS times. With BASELINE=<another checkout, built>, that checkout's balancer is
# measured at the same levels in the same rounds: the change before and after.
# Prints every run (requests/s, p99, CPU per request of the balancer's process tree), the medians,
# and for each checkout the ratio of each level's requests/s to the first level's (warn), per round
# and as the median of those; then the target: info at least 0.9x warn (issue 26). Last, how many
# access lines each info balancer wrote and how many it dropped (a reader that falls behind costs
# dropped lines, counted in a warning, never a blocked balancer: docs/operations.md), since a run
# that dropped lines would be measuring less than one line per request. Settings from the environment:
set -euo pipefail
cd "$(dirname "$0")/.."

DURATION=${DURATION:-5s}        # wrk -d for each measurement
WARMUP=${WARMUP:-1s}            # unmeasured wrk run first, so V8 has compiled the hot path
CONNECTIONS=${CONNECTIONS:-50}  # wrk -c
ROUNDS=${ROUNDS:-3}             # every target once per round; the median counts
ENGINE=${ENGINE:-h1}            # --proxy-engine
LOG_LEVELS=${LOG_LEVELS:-warn info}  # the first is the reference the others are put over
MODES=${MODES:-keep-alive}      # wrk with keep-alive, and/or close (-H 'Connection: close')
export LOG_FORMAT=${LOG_FORMAT:-text}  # the balancers' line format: text (the fleet's) or json
echo "settings: DURATION=$DURATION WARMUP=$WARMUP CONNECTIONS=$CONNECTIONS ROUNDS=$ROUNDS ENGINE=$ENGINE" \
  "LOG_LEVELS='$LOG_LEVELS' MODES='$MODES' LOG_FORMAT=$LOG_FORMAT WORKERS='${WORKERS:-}'" \
  "BALANCER_ARGS='${BALANCER_ARGS:-}' BASELINE='${BASELINE:-}'"

# shellcheck source=lib/balancer-bench.sh
source "$(dirname "$0")/lib/balancer-bench.sh"
WORKERS=${WORKERS:-$(default_workers)}  # the balancer's default: the number of CPUs, at least 2
echo "balancers: --workers $WORKERS --proxy-engine $ENGINE"
if [ -n "${BASELINE:-}" ]; then
  [ -f "$BASELINE/dist/src/balancer.js" ] || { echo "BASELINE=$BASELINE has no dist/src/balancer.js: build it first" >&2; exit 2; }
  echo "baseline: $BASELINE at $(git -C "$BASELINE" log -1 --format='%h %s' 2>/dev/null | cut -c1-60 || echo '(not a git checkout)')"
fi

start_backends 4

TARGETS=()
declare -A PORT=() PID=() LOG=()
add_balancer() { # name level: a balancer at LOG_LEVEL=level (BALANCER_JS: another checkout's)
  local name=$1
  PORT[$name]=$(free_port)
  LOG[$name]="$TMP/$(tr -c 'a-z0-9\n' - <<<"$name")"
  # Through pipes to readers that write files, as PM2's daemon does with the apps' output.
  BALANCER_LOG_LEVEL=$2 start_balancer "${PORT[$name]}" --proxy-engine "$ENGINE" --workers "$WORKERS" \
    > >(cat >"${LOG[$name]}.out") 2> >(cat >"${LOG[$name]}.err")
  PID[$name]=$BALANCER_PID
  check_page "$name" "http://127.0.0.1:${PORT[$name]}"
  TARGETS+=("$name")
}
BUILDS=(this)
for level in $LOG_LEVELS; do add_balancer "this $level" "$level"; done
if [ -n "${BASELINE:-}" ]; then
  BUILDS+=(baseline)
  for level in $LOG_LEVELS; do BALANCER_JS="$BASELINE/dist/src/balancer.js" add_balancer "baseline $level" "$level"; done
fi

declare -A ALL=() ALL_CPU=() ALL_P99=()
REVERSED=()
for ((i = ${#TARGETS[@]} - 1; i >= 0; i--)); do REVERSED+=("${TARGETS[$i]}"); done
for round in $(seq "$ROUNDS"); do
  # Reversed every other round: no target always runs right after the same one.
  if ((round % 2 == 0)); then ORDER=("${REVERSED[@]}"); else ORDER=("${TARGETS[@]}"); fi
  for mode in $MODES; do
    client_mode "$mode"
    for name in "${ORDER[@]}"; do
      label="$name $mode #$round"
      measure "$label" "http://127.0.0.1:${PORT[$name]}/page.html" "${PID[$name]}"
      ALL[$name $mode]="${ALL[$name $mode]:-} ${RPS[$label]}"
      ALL_CPU[$name $mode]="${ALL_CPU[$name $mode]:-} ${CPU[$label]}"
      ALL_P99[$name $mode]="${ALL_P99[$name $mode]:-} $(to_ms "${P99[$label]}")"
    done
  done
done

print_rows
echo "medians over $ROUNDS rounds (CPU: the balancer's process tree, user + system, per request):"
printf '%-16s %-10s %11s %9s %11s\n' balancer mode 'requests/s' 'p99 ms' 'CPU us/req'
for mode in $MODES; do
  for name in "${TARGETS[@]}"; do
    printf '%-16s %-10s %11s %9s %11s\n' "$name" "$mode" "$(median "${ALL[$name $mode]}")" \
      "$(median "${ALL_P99[$name $mode]}")" "$(median "${ALL_CPU[$name $mode]}")"
  done
done

read -r -a LEVELS <<<"$LOG_LEVELS"
REFERENCE=${LEVELS[0]}
echo
echo "requests/s at each level over $REFERENCE's, same checkout (each round's ratio in brackets; the median of them):"
declare -A MEDIAN_RATIO=()
for build in "${BUILDS[@]}"; do
  for mode in $MODES; do
    for level in "${LEVELS[@]:1}"; do
      rounds=()
      for round in $(seq "$ROUNDS"); do
        rounds+=("$(ratio "${RPS[$build $level $mode #$round]}" "${RPS[$build $REFERENCE $mode #$round]}")")
      done
      MEDIAN_RATIO[$build $level $mode]=$(median "${rounds[*]}")
      printf '  %-9s %-10s %s / %s = %sx [%s]\n' "$build" "$mode" "$level" "$REFERENCE" \
        "${MEDIAN_RATIO[$build $level $mode]}" "${rounds[*]}"
    done
  done
done
if [ -n "${BASELINE:-}" ]; then
  echo
  echo "requests/s, this checkout over BASELINE at the same level (each round's ratio in brackets):"
  for mode in $MODES; do
    for level in "${LEVELS[@]}"; do
      rounds=()
      for round in $(seq "$ROUNDS"); do
        rounds+=("$(ratio "${RPS[this $level $mode #$round]}" "${RPS[baseline $level $mode #$round]}")")
      done
      printf '  %-6s %-10s %sx [%s]\n' "$level" "$mode" "$(median "${rounds[*]}")" "${rounds[*]}"
    done
  done
fi

echo
echo "target (issue 26): with access lines on, requests/s at least 0.9x the same balancer's at warn"
echo "(the median of the rounds' ratios above, each round measuring both at nearly the same time):"
for mode in $MODES; do
  r=${MEDIAN_RATIO[this info $mode]:--}
  verdict='NOT met'
  awk -v r="$r" 'BEGIN { exit !(r != "-" && r + 0 >= 0.9) }' && verdict=met
  printf '  this checkout, %-10s info / warn = %sx (limit >= 0.9x): %s\n' "$mode" "$r" "$verdict"
done
if [ "$INVALID_RUNS" != 0 ]; then
  echo "WARNING: $INVALID_RUNS runs were INVALID (non-2xx answers or socket errors, marked above); the verdict does not stand"
fi

echo
echo "access lines written and dropped (stdout through a pipe to a file):"
sleep 0.5 # the readers write what the pipes still hold
for name in "${TARGETS[@]}"; do
  [[ $name == *" warn" ]] && continue
  lines=$(grep -c -e ' -> ' -e '"event":"access"' "${LOG[$name]}.out" || true)
  dropped=$({ grep -o -E '[0-9]+ access lines? (was|were) dropped' "${LOG[$name]}.err" || true; } |
    awk '{ n += $1 } END { print n + 0 }')
  echo "  $name: $lines lines written, $dropped dropped"
done
echo "$(nproc) CPUs shared by wrk, the balancer under test and four backends; LOG_FORMAT=$LOG_FORMAT; node $(node -v);" \
  "load average $(cut -d' ' -f1-3 /proc/loadavg)"
steal_note
