/**
 * One POST on a fresh connection with a deadline for the whole answer, like getWithDeadline
 * (http-get.ts), whose outcome it shares: it never rejects, the caller decides what a refused
 * connection or a timeout means. The body is sent whole, with its length.
 */
import http from 'node:http';
import { answerWithin, type GetOutcome, type GetTarget } from './http-get.js';

export interface PostTarget extends GetTarget {
  body: string;
}

export function postWithDeadline(target: PostTarget, timeoutMs: number): Promise<GetOutcome> {
  const { body, headers, ...where } = target;
  const payload = Buffer.from(body, 'utf8');
  return answerWithin((onResponse) => {
    const req = http.request(
      {
        ...where,
        method: 'POST',
        agent: false,
        headers: { ...headers, 'Content-Length': payload.length },
      },
      onResponse,
    );
    req.end(payload);
    return req;
  }, timeoutMs);
}
