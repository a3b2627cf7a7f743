/**
 * A balancer in front of real backends (or fault injectors) on ephemeral ports, for the balancer's
 * integration tests: start them, read the balancer's status, and drive a bounded keep-alive load
 * through it. Every process is stopped by the test that started it (t.after).
 */
import http from 'node:http';
import net from 'node:net';
import type { TestContext } from 'node:test';
import { STATUS_PATH, type BalancerStatus, type UpstreamStatus } from '../../src/balancer/status.js';
import { readBalancerStatus } from '../../src/balancer/status-reader.js';
import { PROXY_ENGINES, type ProxyEngineName } from '../../src/balancer/config.js';
import { describeOutcome, getWithDeadline } from '../../src/net/http-get.js';
import { listenOn } from '../../src/net/listen.js';
import { startNode, type StartedProcess, type StartOptions } from './processes.js';
import { waitFor } from './wait.js';

export interface Backend {
  name: string;
  port: number;
  proc: StartedProcess;
}

/** Start one backend on `port` (0 for a free one); stopped after the test. */
export async function startBackend(
  t: TestContext,
  name: string,
  port = 0,
  args: readonly string[] = [],
): Promise<Backend> {
  const proc = await startNode('backend', [
    '--port',
    String(port),
    '--name',
    name,
    '--grace-ms',
    '2000',
    ...args,
  ]);
  t.after(() => proc.stop('SIGKILL'));
  return { name, port: proc.port, proc };
}

export async function startBackends(
  t: TestContext,
  count: number,
  args: readonly string[] = [],
): Promise<Backend[]> {
  return Promise.all(Array.from({ length: count }, (_, i) => startBackend(t, `b${i + 1}`, 0, args)));
}

export interface Balancer {
  proc: StartedProcess;
  port: number;
  adminPort: number;
  status(): Promise<BalancerStatus>;
  upstream(name: string): Promise<UpstreamStatus>;
}

/**
 * The balancer with a static pool of `ports`, checking health every 100 ms unless `args` say
 * otherwise. The check timeout is generous: on a busy shared machine a loaded backend can take a
 * few hundred ms to answer, and a false "down" is not what these tests are about.
 */
export async function startBalancer(
  t: TestContext,
  ports: readonly number[],
  args: string[] = [],
  env: Record<string, string> = {},
  start: Pick<StartOptions, 'descriptorLimit'> = {},
): Promise<Balancer> {
  const upstreams = ports.map((p) => `127.0.0.1:${p}`).join(',');
  const defaults: Record<string, string> = {
    '--port': '0',
    '--admin-port': '0',
    '--discovery': 'static',
    '--upstreams': upstreams,
    '--health-interval': '100ms',
    '--health-timeout': '2s',
    '--grace-ms': '2000',
    // The request path's rules are tested in one process, where round-robin order and caps are
    // exact; test/balancer/cluster.test.ts runs the primary and its workers (--workers 2).
    '--workers': '1',
  };
  const given = new Set(args.filter((a) => a.startsWith('--')));
  const base = Object.entries(defaults).flatMap(([flag, value]) => (given.has(flag) ? [] : [flag, value]));
  const proc = await startNode('balancer', [...base, ...args], { listeners: 2, env, ...start });
  t.after(() => proc.stop('SIGKILL'));
  await proc.waitForLine((l) => l.event === 'ready', 'the balancer to be ready');
  const admin = proc.lines.find((l) => l.event === 'listening' && l.listener === 'admin');
  const adminPort = Number(admin?.port);
  const status = async (): Promise<BalancerStatus> => {
    return readBalancerStatus(await getJson(adminPort, STATUS_PATH));
  };
  return {
    proc,
    port: proc.port,
    adminPort,
    status,
    async upstream(name) {
      const found = (await status()).upstreams.find((u) => u.name === name);
      if (found === undefined) throw new Error(`no upstream ${name} in the status`);
      return found;
    },
  };
}

/**
 * A request path under test: an engine (--proxy-engine) on the default front (the balancer's own
 * HTTP/1.1 server), or `<engine>@node` on node:http's (--front node).
 */
export type RequestPathName = ProxyEngineName | `${ProxyEngineName}@node`;

/**
 * Every engine the balancer can proxy through, on both fronts: the request-path tests run once per
 * pair, since each engine meets the network its own way and each front meets the clients its own.
 */
export const REQUEST_PATHS: readonly RequestPathName[] = [
  ...PROXY_ENGINES,
  ...nodeFrontEngines().map((e): RequestPathName => `${e}@node`),
];

/**
 * The engines run behind node's front: all of them, unless SB_NODE_FRONT_ENGINES names some (CI's
 * second pass, on the newest LTS line, runs node's front with the default engine only, to stay
 * within its time; the machine's line runs them all).
 */
function nodeFrontEngines(): readonly ProxyEngineName[] {
  const wanted = process.env.SB_NODE_FRONT_ENGINES;
  if (wanted === undefined || wanted === '') return PROXY_ENGINES;
  const names = wanted.split(',').map((n) => n.trim());
  const unknown = names.filter((n) => !PROXY_ENGINES.includes(n as ProxyEngineName));
  if (unknown.length > 0) throw new Error(`SB_NODE_FRONT_ENGINES names no engine: ${unknown.join(', ')}`);
  return PROXY_ENGINES.filter((e) => names.includes(e));
}

/** startBalancer, proxying through the path's engine behind the path's front. */
export function balancerOn(path: RequestPathName): typeof startBalancer {
  const [engine, front = 'h1'] = path.split('@');
  return (t, ports, args = [], env = {}, start = {}) =>
    startBalancer(t, ports, [...args, '--proxy-engine', engine ?? 'h1', '--front', front], env, start);
}

export async function getJson(port: number, path: string): Promise<unknown> {
  const outcome = await getWithDeadline({ host: '127.0.0.1', port, path }, 10_000);
  if (outcome.kind !== 'answered') throw new Error(`GET ${path}: ${describeOutcome(outcome)}`);
  return JSON.parse(outcome.body.toString('utf8'));
}

/** Wait until the balancer's status shows `name` in `state`. */
export async function waitForState(lb: Balancer, name: string, state: string, timeoutMs = 10_000) {
  return waitFor(
    async () => {
      const u = await lb.upstream(name);
      return u.state === state ? u : undefined;
    },
    `${name} to be ${state}`,
    { timeoutMs },
  );
}

export interface LoadResult {
  ok: number;
  failed: number;
  /** The first few failures, for the assertion message. */
  problems: string[];
  /** Responses by X-Served-By. */
  servedBy: Map<string, number>;
}

export interface LoadOptions {
  total: number;
  concurrency: number;
  path?: string;
  /** Reuse connections (default), or one connection per request with `Connection: close`. */
  keepAlive?: boolean;
  /** POST this body instead of a GET. */
  body?: Buffer;
  onProgress?: (done: number) => void;
  /** Stop sending once this says so (the load still ends at `total` at the latest). */
  stopWhen?: () => boolean;
}

/**
 * `total` requests of `path` (GETs, or POSTs of `body`), `concurrency` at a time, on kept-alive
 * connections unless `keepAlive: false`. `onProgress` runs after each response with the number
 * done so far (to kill a backend in the middle).
 */
export async function runLoad(port: number, options: LoadOptions): Promise<LoadResult> {
  const keepAlive = options.keepAlive ?? true;
  const agent = new http.Agent({ keepAlive, maxSockets: options.concurrency });
  const result: LoadResult = { ok: 0, failed: 0, problems: [], servedBy: new Map() };
  let started = 0;
  let done = 0;
  const one = (): Promise<void> =>
    new Promise((resolve) => {
      const headers: http.OutgoingHttpHeaders = keepAlive ? {} : { Connection: 'close' };
      if (options.body !== undefined) headers['Content-Length'] = options.body.length;
      const method = options.body === undefined ? 'GET' : 'POST';
      const target = { host: '127.0.0.1', port, path: options.path ?? '/page.html', agent, method, headers };
      const req = http.request(target, (res) => {
        const by = String(res.headers['x-served-by'] ?? '?');
        res.resume();
        res.on('end', () => {
          if (res.statusCode === 200) result.ok++;
          else fail(`status ${res.statusCode} from ${by}`);
          result.servedBy.set(by, (result.servedBy.get(by) ?? 0) + 1);
          resolve();
        });
        res.on('error', (err) => {
          fail(`response broke: ${err.message}`);
          resolve();
        });
      });
      req.on('error', (err) => {
        fail(`request failed: ${err.message}`);
        resolve();
      });
      req.end(options.body);
    });
  const fail = (why: string): void => {
    result.failed++;
    if (result.problems.length < 5) result.problems.push(why);
  };
  const worker = async (): Promise<void> => {
    while (started < options.total && options.stopWhen?.() !== true) {
      started++;
      await one();
      done++;
      options.onProgress?.(done);
    }
  };
  await Promise.all(Array.from({ length: options.concurrency }, worker));
  agent.destroy();
  return result;
}

/**
 * A small load in the background while a test watches something else: rounds of 20 requests, 2 at
 * a time, until stop(), `rounds` rounds or `timeoutMs`, whichever comes first; stopped after the
 * test whatever happens.
 */
export function backgroundLoad(
  t: TestContext,
  port: number,
  { rounds, timeoutMs = 120_000 }: { rounds: number; timeoutMs?: number },
): { stop(): Promise<void> } {
  let loading = true;
  const deadline = Date.now() + timeoutMs;
  const done = (async () => {
    for (let round = 0; loading && round < rounds && Date.now() < deadline; round++) {
      await runLoad(port, { total: 20, concurrency: 2 });
    }
  })();
  const stop = async (): Promise<void> => {
    loading = false;
    await done;
  };
  t.after(stop);
  return { stop };
}

/** A TCP server for fault injection; closed after the test. */
export async function startTcpServer(
  t: TestContext,
  onConnection: (socket: net.Socket) => void,
): Promise<{ port: number; server: net.Server }> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => undefined);
    onConnection(socket);
  });
  const port = await listenOn(server, 0, '127.0.0.1');
  t.after(() => {
    for (const s of sockets) s.destroy();
    return new Promise<void>((resolve) => server.close(() => resolve()));
  });
  return { port, server };
}

/** An HTTP server for fault injection and header checks; closed after the test. */
export async function startHttpServer(
  t: TestContext,
  handler: http.RequestListener,
): Promise<{ port: number; server: http.Server }> {
  const server = http.createServer(handler);
  server.keepAliveTimeout = 5000;
  const port = await listenOn(server, 0, '127.0.0.1');
  t.after(() => {
    server.closeAllConnections();
    return new Promise<void>((resolve) => server.close(() => resolve()));
  });
  return { port, server };
}
