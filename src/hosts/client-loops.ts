/**
 * The clients of the front hosts: loops that GET a page through the virtual address and say how
 * each request went, one compact line per request. Keep-alive loops hold one connection each, as
 * a browser or an HTTP client pool does; close loops open a connection per request. Each loop
 * waits for its answer before the next request and paces itself to its share of the rate, so at
 * most one request per loop is in flight: what a failover may lose is bounded by the loops.
 * Bounded in count and in time; an answer that takes longer than `timeoutMs` is a failure.
 */
import http from 'node:http';

export type LoopMode = 'keep-alive' | 'close';

export interface LoopSettings {
  url: string;
  keepAlive: number;
  close: number;
  /** Requests per second over all loops. */
  rate: number;
  durationMs: number;
  timeoutMs: number;
}

/** One request's outcome, as the client program prints it (short keys: thousands of lines). */
export interface ClientOutcome {
  /** When it was sent, ms since the loops started. */
  t: number;
  /** k: keep-alive, c: close. */
  m: 'k' | 'c';
  ok: boolean;
  /** The front that answered (its Via pseudonym); null without an answer. */
  via: string | null;
  /** How long it took, ms. */
  ms: number;
  /** Why it failed: an error code or `status 503`; null when ok. */
  err: string | null;
}

/** The front's pseudonym from a Via header (`1.1 f1`, or a list of which the last is the front). */
export function frontFromVia(via: string | string[] | undefined): string | null {
  const text = Array.isArray(via) ? via.join(', ') : via;
  if (text === undefined || text === '') return null;
  const last = text.split(',').pop()?.trim() ?? '';
  const parts = last.split(/\s+/);
  return parts[1] ?? null;
}

function once(
  url: URL,
  agent: http.Agent | false,
  timeoutMs: number,
): Promise<{ status: number; via: string | null } | Error> {
  return new Promise((resolve) => {
    const req = http.get(
      url,
      { agent, timeout: timeoutMs, headers: agent === false ? { Connection: 'close' } : {} },
      (res) => {
        res.on('data', () => undefined);
        res.on('end', () => resolve({ status: res.statusCode ?? 0, via: frontFromVia(res.headers.via) }));
        res.on('error', (err) => resolve(err));
      },
    );
    req.on('timeout', () => req.destroy(Object.assign(new Error('timeout'), { code: 'TIMEOUT' })));
    req.on('error', (err) => resolve(err));
  });
}

/** Run the loops until the duration is over or `stopped()` says so; `report` gets every outcome. */
export async function runLoops(
  settings: LoopSettings,
  report: (outcome: ClientOutcome) => void,
  stopped: () => boolean,
): Promise<void> {
  const url = new URL(settings.url);
  const loops = settings.keepAlive + settings.close;
  if (loops === 0) return;
  const start = performance.now();
  const gapMs = (1000 * loops) / Math.max(1, settings.rate);
  const maxPerLoop = Math.ceil((settings.rate * settings.durationMs) / 1000 / loops) + 1;
  const loop = async (mode: LoopMode, offsetMs: number): Promise<void> => {
    const agent = mode === 'keep-alive' ? new http.Agent({ keepAlive: true, maxSockets: 1 }) : false;
    await new Promise((r) => setTimeout(r, offsetMs));
    for (let n = 0; n < maxPerLoop && !stopped(); n++) {
      const due = start + offsetMs + n * gapMs;
      if (due - start > settings.durationMs) break;
      const wait = due - performance.now();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      if (stopped()) break;
      const sent = performance.now();
      const answer = await once(url, agent, settings.timeoutMs);
      const ms = Math.round((performance.now() - sent) * 10) / 10;
      const t = Math.round(sent - start);
      const m = mode === 'keep-alive' ? 'k' : 'c';
      if (answer instanceof Error) {
        const code = (answer as NodeJS.ErrnoException).code;
        report({ t, m, ok: false, via: null, ms, err: code ?? answer.message });
      } else {
        const ok = answer.status === 200;
        report({ t, m, ok, via: answer.via, ms, err: ok ? null : `status ${answer.status}` });
      }
    }
    if (agent !== false) agent.destroy();
  };
  const all: Promise<void>[] = [];
  for (let i = 0; i < settings.keepAlive; i++) all.push(loop('keep-alive', (i * gapMs) / loops));
  for (let i = 0; i < settings.close; i++)
    all.push(loop('close', ((settings.keepAlive + i) * gapMs) / loops));
  await Promise.all(all);
}
