/**
 * Fuzzing the h1 front's request parser (src/balancer/h1-server/request-head.ts and
 * chunked-body.ts) against llhttp: a generator of requests, valid ones and mutations of them, and
 * the two checks a case must pass. Used by the bounded run in test/balancer/front-fuzz.test.ts and
 * the longer one in bench/fuzz-front.ts (`npm run fuzz:front`).
 *
 * - Read whole and read in random pieces (front-parse.ts), a case must come out the same.
 * - Put to llhttp (llhttp-reference.ts), it must not be accepted where llhttp refuses it, and
 *   what both accept must be the same requests (method, target, body). Where the front refuses
 *   and llhttp accepts, the refusal must be one of the deliberate ones (`EXTRA_REFUSALS`).
 */
import { extraRefusal } from '../../src/balancer/h1-server/request-head.js';
import type { ReadRequest, ReadVerdict } from './front-parse.js';
import type { ReferenceVerdict } from './llhttp-reference.js';

export { cutsFor, random } from './h1-fuzz.js';

/** Well-formed requests the mutations start from (the table test's valid ones). */
export const SEEDS: readonly string[] = [
  'GET / HTTP/1.1\r\nHost: a\r\n\r\n',
  'POST /echo?x=1 HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nContent-Type: text/plain\r\n\r\nhello',
  'POST /up HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n6;ext=1\r\n world\r\n0\r\nX-Trailer: t\r\n\r\n',
  'PUT /q HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n3;a="b;c";d\r\nabc\r\nA\r\n0123456789\r\n0\r\n\r\n',
  'GET /old HTTP/1.0\r\nConnection: keep-alive\r\n\r\n',
  'POST /old HTTP/1.0\r\nContent-Length: 3\r\n\r\nabc',
  'GET /1 HTTP/1.1\r\nHost: a\r\n\r\nPOST /2 HTTP/1.1\r\nHost: a\r\nContent-Length: 2\r\n\r\nokGET /3 HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n',
  'GET http://a/p?q HTTP/1.1\r\nHost: a\r\n\r\n',
  'OPTIONS * HTTP/1.1\r\nHost: a\r\n\r\n',
  'GET /ws HTTP/1.1\r\nHost: a\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n',
  'PUT /e HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\nContent-Length: 1\r\n\r\nx',
  '\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n',
  'GET /a%20b?c=d HTTP/1.1\r\nHost: a:8080\r\nX-A: \t v\xe9 \t\r\nCookie: a=b; c=d\r\nAccept: */*\r\n\r\n',
  'DELETE /x HTTP/1.1\r\nHost: a\r\nContent-Length: 0\r\nConnection: keep-alive, Foo\r\n\r\n',
];

const CHUNKED = 'POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n';

/**
 * Every place in a request where a parser decides something, `@` marking it: the sweep puts each
 * of the 256 byte values there (`sweep()`), so no byte at any of them is left to chance.
 */
const SWEEP_TEMPLATES: readonly string[] = [
  '@GET / HTTP/1.1\r\nHost: a\r\n\r\n',
  'G@T / HTTP/1.1\r\nHost: a\r\n\r\n',
  'GET@ / HTTP/1.1\r\nHost: a\r\n\r\n',
  'GET @/ HTTP/1.1\r\nHost: a\r\n\r\n',
  'GET /a@b?c@d HTTP/1.1\r\nHost: a\r\n\r\n',
  'GET http://a@b/ HTTP/1.1\r\nHost: a\r\n\r\n',
  'GET /@HTTP/1.1\r\nHost: a\r\n\r\n',
  'GET / HTTP@1.1\r\nHost: a\r\n\r\n',
  'GET / HTTP/1.1@\r\nHost: a\r\n\r\n',
  'GET / HTTP/1.1\r@Host: a\r\n\r\n',
  'GET / HTTP/1.1\r\n@X: a\r\nHost: a\r\n\r\n',
  'GET / HTTP/1.1\r\nHo@st: a\r\n\r\n',
  'GET / HTTP/1.1\r\nX@: a\r\nHost: a\r\n\r\n',
  'GET / HTTP/1.1\r\nX:@b\r\nHost: a\r\n\r\n',
  'GET / HTTP/1.1\r\nX: a@b\r\nHost: a\r\n\r\n',
  'GET / HTTP/1.1\r\nX: b@\r\nHost: a\r\n\r\n',
  'GET / HTTP/1.1\r\nHost: a\r\n@\r\n',
  'POST / HTTP/1.1\r\nHost: a\r\nContent-Length: @1\r\n\r\nx',
  'POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 1@\r\n\r\nx',
  'POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked@\r\n\r\n0\r\n\r\n',
  'GET / HTTP/1.1\r\nHost: a\r\nConnection: close@\r\n\r\nGET /2 HTTP/1.1\r\nHost: a\r\n\r\n',
  `${CHUNKED}@1\r\nx\r\n0\r\n\r\n`,
  `${CHUNKED}1@\r\nx\r\n0\r\n\r\n`,
  `${CHUNKED}1;@b\r\nx\r\n0\r\n\r\n`,
  `${CHUNKED}1;a@b\r\nx\r\n0\r\n\r\n`,
  `${CHUNKED}1;a=@c\r\nx\r\n0\r\n\r\n`,
  `${CHUNKED}1;a=b@c\r\nx\r\n0\r\n\r\n`,
  `${CHUNKED}1;a="b@c"\r\nx\r\n0\r\n\r\n`,
  `${CHUNKED}1;a="b\\@c"\r\nx\r\n0\r\n\r\n`,
  `${CHUNKED}1;a="b"@\r\nx\r\n0\r\n\r\n`,
  `${CHUNKED}1\r\nx@\r\n0\r\n\r\n`,
  `${CHUNKED}0@\r\n\r\n`,
  `${CHUNKED}0\r\n@X: z\r\n\r\n`,
  `${CHUNKED}0\r\nX@Y: z\r\n\r\n`,
  `${CHUNKED}0\r\nX: y@z\r\n\r\n`,
  `${CHUNKED}0\r\nX: z\r\n@\r\n`,
  'GET / HTTP/1.1\r\nHost: a\r\n\r\n@',
];

/** Every template with every byte value at its marks: 256 cases a template. */
export function* sweep(): Generator<Buffer> {
  for (const template of SWEEP_TEMPLATES) {
    for (let c = 0; c < 256; c++)
      yield Buffer.from(template.replaceAll('@', String.fromCharCode(c)), 'latin1');
  }
}

/** Bytes and pieces that matter to HTTP framing, favoured by the mutations. */
const SPECIAL = [
  '\r',
  '\n',
  '\r\n',
  ' ',
  '\t',
  '\x00',
  '\x0b',
  '\x0c',
  '\x7f',
  '\xff',
  ':',
  ',',
  ';',
  '=',
  '"',
  '\\',
  '/',
  '*',
  '?',
  '#',
  '%',
  '@',
  '<',
  '{',
  '0',
  '5',
  'a',
  'F',
  'x',
  '-',
  '+',
  'chunked',
  'identity',
  'close',
  'upgrade',
  'HTTP/1.0',
  'Content-Length: 1\r\n',
  'Content-Length: 0\r\n',
  'Transfer-Encoding: chunked\r\n',
  'Host: b\r\n',
  'Connection: close\r\n',
  'Upgrade: h2c\r\n',
  'Expect: 100-continue\r\n',
];

function pick<T>(list: readonly T[], rand: () => number): T {
  return list[Math.floor(rand() * list.length)] as T;
}

/** A line of `s` (CRLF-terminated where it can be), as [start, end). */
function lineAt(s: string, at: number): [number, number] {
  const start = s.lastIndexOf('\n', at - 1) + 1;
  const lf = s.indexOf('\n', at);
  return [start, lf < 0 ? s.length : lf + 1];
}

/** One edit of `s` at a random place. */
function edit(s: string, rand: () => number): string {
  const at = Math.floor(rand() * (s.length + 1));
  switch (Math.floor(rand() * 6)) {
    case 0:
      return s.slice(0, at) + pick(SPECIAL, rand) + s.slice(at + 1);
    case 1:
      return s.slice(0, at) + pick(SPECIAL, rand) + s.slice(at);
    case 2:
      return s.slice(0, at) + s.slice(at + 1 + Math.floor(rand() * 3));
    case 3: {
      // A byte of the same piece again (a doubled digit, a doubled colon).
      const len = 1 + Math.floor(rand() * 8);
      return s.slice(0, at) + s.slice(at, at + len) + s.slice(at);
    }
    case 4: {
      // Case swapped over a few bytes: methods, versions, header names and hex digits care.
      const len = 1 + Math.floor(rand() * 6);
      const part = s.slice(at, at + len);
      const swapped = [...part].map((c) => (c === c.toLowerCase() ? c.toUpperCase() : c.toLowerCase()));
      return s.slice(0, at) + swapped.join('') + s.slice(at + len);
    }
    default: {
      // A whole line twice: a second Host, Content-Length, chunk or request line.
      const [start, end] = lineAt(s, at);
      return s.slice(0, end) + s.slice(start, end) + s.slice(end);
    }
  }
}

/** One mutation of a seed: one to three edits. */
export function mutate(rand: () => number): Buffer {
  let s = pick(SEEDS, rand);
  const edits = 1 + Math.floor(rand() * 3);
  for (let e = 0; e < edits; e++) s = edit(s, rand);
  return Buffer.from(s, 'latin1');
}

/** A case's text, printable (for a failure). */
export function show(bytes: Buffer): string {
  return JSON.stringify(bytes.toString('latin1'));
}

function describeRequest(r: ReadRequest): string {
  return `${r.method} ${JSON.stringify(r.target)}${r.upgrade ? ' (upgrade)' : ''} body ${JSON.stringify(r.body)}`;
}

function sameRequest(a: ReadRequest, b: ReadRequest): boolean {
  return a.method === b.method && a.target === b.target && a.body === b.body;
}

/**
 * Why the front's reading of a case and llhttp's disagree in a way that matters, or undefined.
 * Request by request: the same ones while both read; where the front stops, either llhttp
 * stopped too, or the front refused with a named extra refusal, or the front read nothing more
 * because the last request closed the connection. Where llhttp stops first, the front must too.
 */
export function disagreement(ours: ReadVerdict, reference: ReferenceVerdict): string | undefined {
  for (let i = 0; ; i++) {
    const o = ours.requests[i];
    const r = reference.requests[i];
    if (o === undefined) {
      if (r === undefined) return undefined;
      const end = ours.end;
      switch (end.kind) {
        case 'closed':
          return undefined;
        case 'refused':
          return extraRefusal(end.refusal) === undefined
            ? `request ${i}: refused (${end.refusal.status} ${end.refusal.reason}), not a named extra refusal, where llhttp read ${describeRequest(r)}`
            : undefined;
        default:
          return `request ${i}: ${end.kind} where llhttp read ${describeRequest(r)}`;
      }
    }
    if (r === undefined) {
      const why = reference.end.kind === 'refused' ? reference.end.error : reference.end.kind;
      return `request ${i}: read ${describeRequest(o)} where llhttp did not (${why})`;
    }
    if (o.upgrade || r.upgrade) {
      // The connection is the upgrade handler's from here, on either front (GET only, no body,
      // no h2c: upgrade-rules.ts). Which requests upgrade may differ (the front takes a tab after
      // `Connection: upgrade` as whitespace, as RFC 9110 does; llhttp does not), not the head.
      return o.method === r.method && o.target === r.target
        ? undefined
        : `request ${i}: read ${describeRequest(o)}, llhttp ${describeRequest(r)}`;
    }
    if (!sameRequest(o, r)) return `request ${i}: read ${describeRequest(o)}, llhttp ${describeRequest(r)}`;
  }
}

/** Two readings of the same bytes that differ (as they must not, however the bytes were split). */
export function splitDifference(a: ReadVerdict, b: ReadVerdict): string | undefined {
  const ja = JSON.stringify(a);
  const jb = JSON.stringify(b);
  return ja === jb ? undefined : `${ja} vs ${jb}`;
}
