/**
 * The request ID (`X-Request-ID`) that follows a request across the tiers: the client's is kept
 * when it is sane (1 to 128 visible ASCII characters, so it cannot forge a log line or bloat one),
 * and otherwise one is made here. Made IDs are a per-process prefix and a counter, not a UUID per
 * request: unique across processes and restarts, and one string concatenation on the hot path.
 * Pure apart from the prefix drawn once at load.
 */
import { randomBytes } from 'node:crypto';
import { sameName } from './headers.js';

/** The longest client ID kept (nginx's $request_id is 32; Heroku's router allows 200). */
export const MAX_REQUEST_ID_LENGTH = 128;

/** What became of the client's X-Request-ID. */
export type RequestIdSource = 'kept' | 'made' | 'replaced';

/**
 * The client's X-Request-ID from the raw headers: the value when it is sane, `null` when one was
 * sent but is malformed (empty, too long, a byte outside 0x21-0x7e, or several headers), or
 * undefined when none was sent.
 */
export function clientRequestId(rawHeaders: readonly string[]): string | null | undefined {
  let found: string | null | undefined;
  for (let i = 0; i < rawHeaders.length; i += 2) {
    const name = rawHeaders[i] ?? '';
    if (name.length !== 12 || !sameName(name, 'x-request-id')) continue;
    if (found !== undefined) return null; // two IDs: neither can be trusted to be the one
    const value = rawHeaders[i + 1] ?? '';
    found = saneRequestId(value) ? value : null;
  }
  return found;
}

/** 1 to MAX_REQUEST_ID_LENGTH visible ASCII characters (no space, no control byte, nothing above 0x7e). */
export function saneRequestId(value: string): boolean {
  if (value.length === 0 || value.length > MAX_REQUEST_ID_LENGTH) return false;
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (c < 0x21 || c > 0x7e) return false;
  }
  return true;
}

/** Makes IDs `<prefix>-<counter>`: the prefix is random per process, the counter base 36. */
export class RequestIdMaker {
  private count = 0;

  constructor(private readonly prefix = randomBytes(6).toString('hex')) {}

  next(): string {
    return `${this.prefix}-${(++this.count).toString(36)}`;
  }

  /** The ID a request goes on with: the client's sane one (clientRequestId), else a new one. */
  idFor(fromClient: string | null | undefined): string {
    return typeof fromClient === 'string' ? fromClient : this.next();
  }
}

/** What became of the client's ID, from clientRequestId's answer. */
export function requestIdSource(fromClient: string | null | undefined): RequestIdSource {
  if (typeof fromClient === 'string') return 'kept';
  return fromClient === null ? 'replaced' : 'made';
}
