/**
 * One GET on a fresh connection (no keep-alive pool to leak or to keep the process alive) with a
 * deadline for the whole answer. It never rejects: a health probe, a status reader, a benchmark
 * warm-up and `npm run lb` each decide for themselves what a timeout or a refused connection means.
 */
import http from 'node:http';
import { errorMessage } from '../errors.js';

export interface GetTarget {
  host: string;
  port: number;
  path: string;
  headers?: http.OutgoingHttpHeaders;
}

export type GetOutcome =
  | { kind: 'answered'; status: number; headers: http.IncomingHttpHeaders; body: Buffer }
  | { kind: 'timeout'; timeoutMs: number }
  | { kind: 'failed'; error: Error };

/** Bodies past this are cut (status pages and health answers are a few KB). */
const MAX_BODY_BYTES = 4 * 1024 * 1024;

export function getWithDeadline(target: GetTarget | string, timeoutMs: number): Promise<GetOutcome> {
  return answerWithin(
    (onResponse) =>
      typeof target === 'string'
        ? http.get(target, { agent: false }, onResponse)
        : http.get({ ...target, agent: false }, onResponse),
    timeoutMs,
  );
}

/**
 * The whole answer to the request `send` makes (it passes `onResponse` to node:http), or why
 * there is none, within `timeoutMs`. Shared by the GET here and the POST beside it (http-post.ts).
 */
export function answerWithin(
  send: (onResponse: (res: http.IncomingMessage) => void) => http.ClientRequest,
  timeoutMs: number,
): Promise<GetOutcome> {
  return new Promise((resolve) => {
    let settled = false;
    const settle = (outcome: GetOutcome): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve(outcome);
    };
    const req = send((res) => {
      const chunks: Buffer[] = [];
      let size = 0;
      res.on('data', (chunk: Buffer) => {
        size += chunk.length;
        if (size <= MAX_BODY_BYTES) chunks.push(chunk);
      });
      res.on('error', (error) => settle({ kind: 'failed', error }));
      res.on('end', () =>
        settle({
          kind: 'answered',
          status: res.statusCode ?? 0,
          headers: res.headers,
          body: Buffer.concat(chunks),
        }),
      );
    });
    const timer = setTimeout(() => {
      settle({ kind: 'timeout', timeoutMs });
      req.destroy();
    }, timeoutMs);
    req.on('error', (error) => settle({ kind: 'failed', error }));
  });
}

/** The outcome as one line for a log or a report: `answered 503`, `no answer within 1000 ms`... */
export function describeOutcome(outcome: GetOutcome): string {
  switch (outcome.kind) {
    case 'answered':
      return `answered ${outcome.status}`;
    case 'timeout':
      return `no answer within ${outcome.timeoutMs} ms`;
    case 'failed':
      return errorMessage(outcome.error);
  }
}
