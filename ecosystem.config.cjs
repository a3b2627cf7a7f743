/**
 * The fleet under PM2: `npx pm2 start ecosystem.config.cjs` (or `npm start`), `npx pm2 logs balancer`.
 *
 *   backend-9002 .. backend-9005   the four event-loop backends, members of the balancer's pool "web"
 *   async                          the same event-loop server alone on 45000 (a benchmark target)
 *   threaded                       the thread-pool server on 46000
 *   balancer                       the load balancer on 44444 (admin and dashboard on 44445)
 *
 * Ports: the defaults are the assignment's; BACKEND_PORTS (comma list), BALANCER_PORT, ADMIN_PORT,
 * ASYNC_PORT and THREADED_PORT change them, and PORT_OFFSET shifts every port at once
 * (PORT_OFFSET=10000: balancer 54444, backends 19002-19005). App names keep the default numbers,
 * so `pm2 restart backend-9003` means the same app whatever the offset.
 *
 * Pool membership is PM2 metadata: the balancer (DISCOVERY=pm2) serves every app whose env says
 * LB_POOL=web, at 127.0.0.1:<its PORT>. A fifth backend is one more number in BACKEND_PORTS below.
 *
 * Namespace: every app is in PM2's namespace `supervised-balancer`, so `pm2 stop supervised-balancer`,
 * `pm2 logs supervised-balancer` (and npm stop / npm run logs) act on this fleet alone, whatever other
 * projects run in the same daemon, even under the same app names. (Starting is the exception: PM2 7
 * matches an ecosystem file's names across namespaces, so `pm2 start ecosystem.config.cjs` would
 * restart another project's `balancer`; `npm start` refuses instead, naming the app.)
 *
 * Logs: logs/<app>.out.log and logs/<app>.err.log (FLEET_LOG_DIR moves them; tests use it). The
 * apps' logger already stamps each line, so PM2 adds no timestamp (no `time`, no `log_date_format`).
 * LOG_LEVEL and LOG_FORMAT given to `pm2 start` reach every app; GRACE_MS (servers, 1 s) and
 * BALANCER_GRACE_MS (5 s) set the drain time on stop, and PM2's kill_timeout follows them.
 *
 * Plain CommonJS read by PM2 itself, so it cannot import the TypeScript config; the numbers and the
 * namespace below are the same as DEFAULT_PORTS and FLEET_NAMESPACE in src/config/common.ts (the
 * ecosystem test checks).
 */
'use strict';

const path = require('node:path');

const DEFAULT_PORTS = {
  backends: [9002, 9003, 9004, 9005],
  balancer: 44444,
  admin: 44445,
  async: 45000,
  threaded: 46000,
};

/** PM2's namespace of every app of the fleet. */
const NAMESPACE = 'supervised-balancer';

/** The pool the balancer serves and the backends join. */
const POOL = 'web';

/**
 * Restart policy of a server (backend, async, threaded): stateless, quick to start, stops within
 * its own grace period after SIGINT (GRACE_MS, 1 s; kill_timeout is set from it below).
 */
const SERVER_POLICY = {
  // Restart after a crash; `pm2 stop` still stops it for good.
  autorestart: true,
  // A start that dies within 5 s counts as unstable...
  min_uptime: 5000,
  // ...and after 10 unstable starts in a row PM2 gives up: `errored`. The balancer routes around it.
  max_restarts: 10,
  // Wait 100 ms before the first restart, then 1.5 times longer each time (PM2 caps it at 15 s),
  // so a crash loop does not eat the CPU the healthy apps need. (PM2 7.0.4 quirk: with a restart
  // delay, an app that used up max_restarts is listed as `waiting restart` rather than `errored`;
  // either way PM2 does not restart it again until someone runs `pm2 restart`.)
  exp_backoff_restart_delay: 100,
  // `online` only after the server listens and calls process.send('ready')...
  wait_ready: true,
  // ...or after 8 s without it (PM2 then calls it online anyway; the balancer's health checks decide).
  listen_timeout: 8000,
  // A leak gets the process recycled (gracefully, same as a restart) long before the machine swaps.
  max_memory_restart: '256M',
};

/** The thread-pool server keeps worker threads (same process, more memory, slower to start). */
const THREADED_POLICY = {
  ...SERVER_POLICY,
  listen_timeout: 15000,
  max_memory_restart: '512M',
};

/**
 * The balancer is the front door: worth more attempts before giving up. It drains in-flight
 * proxied requests for its own, longer grace period (5 s) when stopping.
 */
const BALANCER_POLICY = {
  ...SERVER_POLICY,
  max_restarts: 20,
  max_memory_restart: '384M',
  // PM2 signals the primary alone and waits for it alone: on a restart its workers serve on, on
  // the sockets it hands over, until the next primary's are ready (docs/operations.md).
  treekill: false,
};

/**
 * PM2 stops an app with SIGINT and sends SIGKILL after kill_timeout. Each app gets its grace period
 * explicitly (GRACE_MS in its env: servers 1 s, the balancer 5 s) and a kill_timeout this much
 * longer, so PM2 never cuts a drain short.
 */
const KILL_MARGIN_MS = 2000;

function intFrom(env, name, fallback, problems) {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  if (!/^-?\d+$/.test(raw.trim())) {
    problems.push(`${name}="${raw}" is not a whole number`);
    return fallback;
  }
  return Number(raw);
}

function portListFrom(env, name, fallback, problems) {
  const raw = env[name];
  if (raw === undefined || raw.trim() === '') return fallback;
  const ports = raw.split(',').map((p) => p.trim());
  if (ports.some((p) => !/^\d+$/.test(p))) {
    problems.push(`${name}="${raw}" is not a comma-separated list of ports`);
    return fallback;
  }
  return ports.map(Number);
}

/** The apps for an environment (PM2 calls this with its own; src/fleet/ecosystem.ts with others). */
function buildApps(env) {
  const problems = [];
  const offset = intFrom(env, 'PORT_OFFSET', 0, problems);
  const serverGraceMs = intFrom(env, 'GRACE_MS', 1000, problems);
  const balancerGraceMs = intFrom(env, 'BALANCER_GRACE_MS', 5000, problems);
  const base = {
    backends: portListFrom(env, 'BACKEND_PORTS', DEFAULT_PORTS.backends, problems),
    balancer: intFrom(env, 'BALANCER_PORT', DEFAULT_PORTS.balancer, problems),
    admin: intFrom(env, 'ADMIN_PORT', DEFAULT_PORTS.admin, problems),
    async: intFrom(env, 'ASYNC_PORT', DEFAULT_PORTS.async, problems),
    threaded: intFrom(env, 'THREADED_PORT', DEFAULT_PORTS.threaded, problems),
  };
  const shifted = (port, what) => {
    const value = port + offset;
    if (value < 1 || value > 65535)
      problems.push(`${what} port ${port} + PORT_OFFSET ${offset} = ${value} is not a port`);
    return String(value);
  };
  const distDir = path.join(__dirname, 'dist', 'src');
  const logDir = env.FLEET_LOG_DIR ? path.resolve(env.FLEET_LOG_DIR) : path.join(__dirname, 'logs');
  // Every app logs the same way; the ports below are final, so no app shifts them again.
  const common = {
    LOG_LEVEL: env.LOG_LEVEL || 'info',
    LOG_FORMAT: env.LOG_FORMAT || 'text',
    PORT_OFFSET: '0',
  };

  const app = (name, script, policy, graceMs, appEnv) => ({
    name,
    namespace: NAMESPACE,
    script: path.join(distDir, script),
    cwd: __dirname,
    // Fork mode: one process per app, each on its own port (cluster mode would share one port).
    exec_mode: 'fork',
    instances: 1,
    ...policy,
    // SIGINT first; SIGKILL only once the app's own grace period has clearly run out.
    kill_timeout: graceMs + KILL_MARGIN_MS,
    // No PM2 metrics agent inside the apps: they serve their own /metrics, the agent would wrap
    // every HTTP request the benchmark measures, and it exits the app as soon as the daemon is gone.
    pmx: false,
    // One file per stream per app, named after the app (no -<pm_id> suffix).
    merge_logs: true,
    out_file: path.join(logDir, `${name}.out.log`),
    error_file: path.join(logDir, `${name}.err.log`),
    env: { ...common, NAME: name, GRACE_MS: String(graceMs), ...appEnv },
  });

  const apps = [
    ...base.backends.map((port) =>
      app(`backend-${port}`, 'backend.js', SERVER_POLICY, serverGraceMs, {
        PORT: shifted(port, `backend-${port}`),
        LB_POOL: POOL,
        // On stop, keep accepting for 250 ms after telling PM2's bus: the balancer takes the backend
        // out of rotation on that notice, before the port closes (part of GRACE_MS, not added).
        DRAIN_DELAY_MS: '250',
      }),
    ),
    // Not in the pool, even if the shell that runs `pm2 start` exports LB_POOL.
    app('async', 'backend.js', SERVER_POLICY, serverGraceMs, {
      PORT: shifted(base.async, 'async'),
      LB_POOL: '',
    }),
    app('threaded', 'threaded.js', THREADED_POLICY, serverGraceMs, {
      PORT: shifted(base.threaded, 'threaded'),
      LB_POOL: '',
    }),
    app('balancer', 'balancer.js', BALANCER_POLICY, balancerGraceMs, {
      PORT: shifted(base.balancer, 'balancer'),
      ADMIN_PORT: shifted(base.admin, 'balancer admin'),
      // Members are found from PM2's metadata (LB_POOL above), not from a fixed list.
      DISCOVERY: 'pm2',
      LB_POOL: POOL,
      // HTTPS (docs/tls-websocket.md): the files as absolute paths, whatever the app's cwd.
      ...(env.TLS_CERT ? { TLS_CERT: path.resolve(env.TLS_CERT) } : {}),
      ...(env.TLS_KEY ? { TLS_KEY: path.resolve(env.TLS_KEY) } : {}),
      ...(env.HTTP_REDIRECT_PORT ? { HTTP_REDIRECT_PORT: env.HTTP_REDIRECT_PORT } : {}),
      // Selection (round-robin or least-request) and where operators' decisions are kept
      // (default: state/balancer-<port>.json in the project).
      ...(env.POLICY ? { POLICY: env.POLICY } : {}),
      ...(env.STATE_FILE ? { STATE_FILE: path.resolve(env.STATE_FILE) } : {}),
      // PM2's max_memory_restart measures the primary's pid alone; each request-path worker is
      // held to the same figure by the primary itself (--worker-max-memory, replaced without downtime).
      WORKER_MAX_MEMORY: env.WORKER_MAX_MEMORY || BALANCER_POLICY.max_memory_restart,
    }),
  ];
  if (problems.length > 0) {
    throw new Error(`ecosystem.config.cjs: invalid environment:\n  - ${problems.join('\n  - ')}`);
  }
  return apps;
}

module.exports = { apps: buildApps(process.env) };
// Not enumerable: PM2 reads only `apps`; src/fleet/ecosystem.ts calls this with a chosen env.
Object.defineProperty(module.exports, 'buildApps', { value: buildApps, enumerable: false });
