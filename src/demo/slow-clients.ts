/**
 * The demo's "slow clients" action: N clients that each send POST headers to the balancer, say
 * nothing for longer than the backends' keep-alive timeout (5 s), then trickle a small body, the
 * way a phone on a bad network uploads. Before request buffering (docs/hardening.md) such clients took
 * healthy backends out of rotation; now the load beside them must see no failure at all.
 */
import net from 'node:net';

export interface SlowClientSettings {
  host: string;
  port: number;
  path: string;
  /** Body bytes each client sends, one chunk at a time. */
  bodyBytes: number;
  /** Silence between the headers and the first body byte (past the backends' keep-alive timeout). */
  firstByteAfterMs: number;
  /** How long the body then takes to send. */
  trickleMs: number;
  /** Give up on an answer after this (the balancer's request timeout should come first). */
  timeoutMs: number;
}

export const SLOW_CLIENT_DEFAULTS = {
  path: '/upload',
  bodyBytes: 64,
  firstByteAfterMs: 6000,
  trickleMs: 2000,
  timeoutMs: 40_000,
};

/** One slow upload: resolves with the status line's code, or a word for what went wrong. */
function slowUpload(s: SlowClientSettings): Promise<string> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: s.host, port: s.port });
    let answer = '';
    let sent = 0;
    let timer: NodeJS.Timeout | undefined;
    const finish = (result: string): void => {
      clearTimeout(timer);
      clearInterval(timer);
      clearTimeout(deadline);
      socket.destroy();
      resolve(result);
    };
    const deadline = setTimeout(() => finish('no answer'), s.timeoutMs);
    socket.on('error', (err: NodeJS.ErrnoException) => finish(err.code ?? 'error'));
    socket.on('close', () => finish(answer === '' ? 'closed' : 'cut'));
    socket.on('data', (chunk: Buffer) => {
      answer += chunk.toString('latin1');
      const m = /^HTTP\/1\.1 (\d{3})/.exec(answer);
      if (m !== null && m[1] !== '100') finish(m[1] ?? '?');
    });
    socket.once('connect', () => {
      socket.write(
        `POST ${s.path} HTTP/1.1\r\nHost: ${s.host}\r\nContent-Type: text/plain\r\n` +
          `Content-Length: ${s.bodyBytes}\r\nConnection: close\r\n\r\n`,
      );
      const trickle = (): void => {
        timer = setInterval(
          () => {
            if (sent < s.bodyBytes) {
              socket.write('x');
              sent++;
            }
          },
          Math.max(1, Math.floor(s.trickleMs / s.bodyBytes)),
        );
      };
      timer = setTimeout(trickle, s.firstByteAfterMs);
    });
  });
}

/** Pure: "20 slow uploads over 8s: 20 x 200" from the outcomes. */
export function describeSlowClients(outcomes: readonly string[], takingMs: number): string {
  const counts = new Map<string, number>();
  for (const o of outcomes) counts.set(o, (counts.get(o) ?? 0) + 1);
  const parts = [...counts].map(([what, n]) => `${n} x ${what}`).join(', ');
  return `${outcomes.length} slow uploads over ${takingMs / 1000}s: ${parts}`;
}

/** Run `count` slow uploads at once; resolves when every one has its answer. */
export async function runSlowClients(count: number, settings: SlowClientSettings): Promise<string> {
  const outcomes = await Promise.all(Array.from({ length: count }, () => slowUpload(settings)));
  return describeSlowClients(outcomes, settings.firstByteAfterMs + settings.trickleMs);
}
