/**
 * One GET against an app's health URL, on a fresh connection (no keep-alive pool to leak or to keep
 * the process alive), with a deadline. Never throws: the answer says what happened.
 */
import http from 'node:http';
import { errorMessage } from '../errors.js';

export interface ProbeResult {
  url: string;
  ok: boolean;
  /** HTTP status, or null when no answer came. */
  status: number | null;
  /** The body parsed as JSON, when it was JSON. */
  json: unknown;
  /** Why it is not ok (connection refused, timeout, status 503...). */
  problem: string | null;
}

const MAX_BODY_BYTES = 1024 * 1024;

export function probe(url: string, timeoutMs = 1000): Promise<ProbeResult> {
  return new Promise((resolve) => {
    let settled = false;
    const done = (result: Omit<ProbeResult, 'url'>) => {
      if (settled) return;
      settled = true;
      resolve({ url, ...result });
    };
    const req = http.get(url, { agent: false, timeout: timeoutMs }, (res) => {
      const chunks: Buffer[] = [];
      let size = 0;
      res.on('data', (chunk: Buffer) => {
        size += chunk.length;
        if (size <= MAX_BODY_BYTES) chunks.push(chunk);
      });
      res.on('error', (err) =>
        done({ ok: false, status: null, json: undefined, problem: errorMessage(err) }),
      );
      res.on('end', () => {
        const status = res.statusCode ?? 0;
        let json: unknown;
        try {
          json = JSON.parse(Buffer.concat(chunks).toString('utf8'));
        } catch {
          json = undefined;
        }
        const ok = status === 200;
        done({ ok, status, json, problem: ok ? null : `answered ${status}` });
      });
    });
    req.on('timeout', () => {
      req.destroy();
      done({ ok: false, status: null, json: undefined, problem: `no answer within ${timeoutMs} ms` });
    });
    req.on('error', (err) => done({ ok: false, status: null, json: undefined, problem: errorMessage(err) }));
  });
}
