/**
 * What a listener answers to bytes sent as they are on a new connection: its final answers in
 * order (interim 1xx skipped), whether it closed the connection, and whether it left the client
 * waiting past a bound. The client never half-closes (node:http, as the balancer's `--front node`
 * runs it, ends a half-closed connection before its answers are written).
 */
import { RawConnection, type RawResponse } from './raw-http.js';

export interface Answers {
  /** Final answers (status >= 200), in order. */
  answers: RawResponse[];
  /** The listener closed (or reset) the connection. */
  closed: boolean;
  /** Neither the answers expected nor a close came within the bound. */
  hung: boolean;
}

/** How long a case may take before the listener is taken to have hung. */
const BOUND_MS = 5000;
/** After the answers expected: how long to wait for one more (there should be none). */
const GRACE_MS = 150;

/**
 * Send `bytes` to `port` and read answers until the connection closes, or `expected` final
 * answers (at least one) have come and no more follows within a short grace, or the bound ends.
 */
export async function answersTo(port: number, bytes: Buffer, expected: number): Promise<Answers> {
  const conn = await RawConnection.open(port);
  const answers: RawResponse[] = [];
  const deadline = Date.now() + BOUND_MS;
  try {
    await conn.write(bytes).catch(() => undefined);
    for (;;) {
      const enough = answers.length >= Math.max(expected, 1);
      const wait = enough ? GRACE_MS : deadline - Date.now();
      if (wait <= 0) return { answers, closed: conn.closed, hung: true };
      let response: RawResponse;
      try {
        response = await conn.readResponse({ timeoutMs: wait });
      } catch {
        // Closed before another whole answer, or nothing more within the wait.
        if (conn.closed) return { answers, closed: true, hung: false };
        return { answers, closed: false, hung: !enough };
      }
      if (response.status >= 200) answers.push(response);
    }
  } finally {
    conn.destroy();
  }
}
