# Sourced (not run) by the wrk scripts in bench/: tool checks, a temp folder, free ports, waiting for
# a URL, and stopping by PID everything the script started, whatever way it exits.

require_tools() { # tool...
  for tool in "$@"; do
    command -v "$tool" >/dev/null || { echo "needs $tool on PATH (Debian: apt-get install wrk nginx curl)" >&2; exit 2; }
  done
}

make_workdir() { # name; sets TMP and PIDS, and the traps that clean both up
  TMP=$(mktemp -d "${TMPDIR:-/tmp}/$1.XXXXXX")
  PIDS=()
  trap cleanup EXIT
  trap 'exit 130' INT TERM
}

cleanup() {
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
  rm -rf "$TMP"
}

free_port() {
  node -e 'const s = require("net").createServer().listen(0, "127.0.0.1", () => { console.log(s.address().port); s.close(); });'
}

wait_up() { # url
  for _ in $(seq 150); do
    curl -sf -o /dev/null "$1" && return 0
    sleep 0.1
  done
  echo "nothing answered at $1" >&2
  exit 1
}
