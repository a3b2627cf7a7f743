/**
 * WebSocket echo round trips through a proxy, for bench/tls-vs-nginx.sh: open `--tunnels`
 * WebSockets to `--url` (each lands on some backend's /ws/echo), then on every one of them send a
 * message and wait for its echo, again and again, for `--seconds` or until `--max-round-trips`
 * in all, whichever comes first. Prints one JSON line: round trips, seconds, round trips per second,
 * failures. Self-signed certificates are accepted: this measures speed, not trust.
 *
 *   node dist/bench/ws-echo-load.js --url wss://127.0.0.1:8443/ws/echo --tunnels 100 --seconds 5
 */
import WebSocket from 'ws';
import { loadConfigOrExit } from '../src/config/load.js';
import { durationParser, intParser, parseString, type OptionSpec } from '../src/config/options.js';

const specs = {
  url: {
    flag: 'url',
    description: 'ws:// or wss:// URL of an echo endpoint (loopback only)',
    default: 'ws://127.0.0.1:44444/ws/echo',
    parse: (raw: string) => {
      const url = new URL(parseString(raw));
      if (!['127.0.0.1', 'localhost', '[::1]'].includes(url.hostname)) throw new Error('loopback URLs only');
      return url.href;
    },
  } satisfies OptionSpec<string>,
  tunnels: {
    flag: 'tunnels',
    description: 'WebSockets open at once',
    default: 100,
    parse: intParser(1, 10_000),
  } satisfies OptionSpec<number>,
  seconds: {
    flag: 'seconds',
    description: 'How long to measure',
    default: 5000,
    parse: durationParser(100, 600_000),
  } satisfies OptionSpec<number>,
  maxRoundTrips: {
    flag: 'max-round-trips',
    description: 'Stop after this many round trips in all',
    default: 5_000_000,
    parse: intParser(1, 100_000_000),
  } satisfies OptionSpec<number>,
};

const options = loadConfigOrExit('ws-echo-load: WebSocket echo round trips', specs);
const payload = 'x'.repeat(64);

function open(): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(options.url, { rejectUnauthorized: false, perMessageDeflate: false });
    ws.once('message', () => resolve(ws)); // the server's hello
    ws.once('error', reject);
  });
}

const sockets = await Promise.all(Array.from({ length: options.tunnels }, open));
let roundTrips = 0;
let failures = 0;
const started = performance.now();
const deadline = started + options.seconds;

await Promise.all(
  sockets.map(
    (ws) =>
      new Promise<void>((resolve) => {
        ws.on('message', () => {
          roundTrips++;
          if (performance.now() >= deadline || roundTrips >= options.maxRoundTrips) resolve();
          else ws.send(payload);
        });
        ws.on('close', () => {
          failures++;
          resolve();
        });
        ws.send(payload);
      }),
  ),
);
const seconds = (performance.now() - started) / 1000;
for (const ws of sockets) ws.terminate();
process.stdout.write(
  `${JSON.stringify({ roundTrips, seconds, perSecond: Math.round(roundTrips / seconds), failures, tunnels: sockets.length })}\n`,
);
