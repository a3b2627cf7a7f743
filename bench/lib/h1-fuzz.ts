/**
 * Fuzzing the h1 engine's response parser (src/balancer/engines/h1/response-parser.ts): a
 * generator of responses, valid ones and mutations of them, and two oracles to hold the parser
 * to. Used by the bounded run in test/balancer/h1-parser.test.ts and the longer one in
 * bench/fuzz-h1-parser.ts (`npm run fuzz:h1`).
 *
 * - `parseWhole` feeds bytes to the parser in pieces and reports what it made of them; a parse
 *   must come out the same however the bytes are split (the parser is incremental).
 * - `llhttpVerdict` asks node:http's client (llhttp, strict mode) about the same bytes over a real
 *   loopback socket: the parser must never accept what llhttp refuses, and when both accept, they
 *   must agree on the status and the body.
 */
import http from 'node:http';
import net from 'node:net';
import {
  ResponseParseError,
  ResponseParser,
  type ResponseHead,
} from '../../src/balancer/engines/h1/response-parser.js';

export type Verdict =
  | { ok: true; status: number; body: string; keepAlive: boolean; leftover: number }
  | { ok: false; error: string };

/**
 * Parse `bytes` as the response to a `method` request, fed in pieces cut at `cuts` (offsets);
 * then the connection closes. Throws anything but a ResponseParseError (a parser bug).
 */
export function parseWhole(bytes: Buffer, method = 'GET', cuts: readonly number[] = []): Verdict {
  const parser = new ResponseParser(64 * 1024);
  parser.expect(method);
  let head: ResponseHead | undefined;
  const body: Buffer[] = [];
  let ended = false;
  const sink = {
    onHead: (h: ResponseHead) => (head = h),
    onBody: (c: Buffer) => body.push(Buffer.from(c)),
    onEnd: () => (ended = true),
  };
  const points = [...new Set(cuts.filter((c) => c > 0 && c < bytes.length))].sort((a, b) => a - b);
  let leftover = 0;
  try {
    let from = 0;
    for (const to of [...points, bytes.length]) {
      const piece = bytes.subarray(from, to);
      const used = parser.execute(piece, sink);
      if (used < piece.length) {
        leftover = bytes.length - from - used;
        break;
      }
      from = to;
    }
    if (!ended) parser.closed(sink);
  } catch (err) {
    if (err instanceof ResponseParseError) return { ok: false, error: `${err.problem}: ${err.message}` };
    throw err;
  }
  if (head === undefined || !ended) return { ok: false, error: 'no complete response' };
  return {
    ok: true,
    status: head.status,
    body: Buffer.concat(body).toString('latin1'),
    keepAlive: head.keepAlive,
    leftover,
  };
}

/** What node:http's client (llhttp) makes of `bytes` sent as a response, the server closing after. */
export async function llhttpVerdict(bytes: Buffer, method = 'GET'): Promise<Verdict> {
  const server = net.createServer((socket) => {
    socket.on('error', () => {});
    socket.once('data', () => socket.end(bytes));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  try {
    return await new Promise<Verdict>((resolve) => {
      const req = http.request({ host: '127.0.0.1', port, method, path: '/', agent: false }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () =>
          resolve({
            ok: true,
            status: res.statusCode ?? 0,
            body: Buffer.concat(chunks).toString('latin1'),
            keepAlive: res.headers.connection?.toLowerCase() !== 'close',
            leftover: 0,
          }),
        );
        res.on('error', (err) => resolve({ ok: false, error: err.message }));
        res.on('aborted', () => resolve({ ok: false, error: 'aborted' }));
      });
      req.on('error', (err) =>
        resolve({ ok: false, error: `${(err as NodeJS.ErrnoException).code ?? ''} ${err.message}` }),
      );
      req.setTimeout(2000, () => req.destroy(new Error('timeout')));
      req.end();
    });
  } finally {
    server.close();
  }
}

/** A small deterministic PRNG (mulberry32), so a failing seed can be run again. */
export function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Well-formed responses the mutations start from. */
export const SEEDS: readonly string[] = [
  'HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Type: text/plain\r\n\r\nhello',
  'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n6;ext=1\r\n world\r\n0\r\nX-Trailer: t\r\n\r\n',
  'HTTP/1.1 204 No Content\r\nServer: x\r\n\r\n',
  'HTTP/1.1 304 Not Modified\r\nETag: "a"\r\n\r\n',
  'HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\n\r\nuntil close',
  'HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 201 Created\r\nContent-Length: 2\r\n\r\nok',
  'HTTP/1.1 404 Not Found\r\nConnection: close\r\nContent-Length: 0\r\n\r\n',
  'HTTP/1.1 200 OK\r\nKeep-Alive: timeout=5\r\nContent-Length: 3\r\nX-A: \t v a l \t\r\n\r\nabc',
  // No reason phrase, an empty one, and obs-text in a value: all allowed (RFC 9112 sections 4, 5.5).
  'HTTP/1.1 200\r\nContent-Length: 3\r\n\r\nabc',
  'HTTP/1.1 200 \r\nContent-Length: 3\r\n\r\nabc',
  'HTTP/1.1 200 OK\r\nX-A: a\xe9b\r\nContent-Length: 3\r\n\r\nabc',
];

/** Bytes that matter to HTTP framing, favoured by the mutations. */
const SPECIAL = [
  '\r',
  '\n',
  '\r\n',
  ' ',
  '\t',
  ':',
  ',',
  ';',
  '0',
  '1',
  'f',
  '-',
  '\x00',
  '\x7f',
  '\xff',
  'chunked',
  'Content-Length: 1\r\n',
  'Transfer-Encoding: chunked\r\n',
];

/** One mutation of a seed: bytes replaced, inserted, deleted or duplicated, a few times over. */
export function mutate(rand: () => number): Buffer {
  let s = SEEDS[Math.floor(rand() * SEEDS.length)] as string;
  const edits = 1 + Math.floor(rand() * 3);
  for (let e = 0; e < edits; e++) {
    const at = Math.floor(rand() * (s.length + 1));
    const pick = SPECIAL[Math.floor(rand() * SPECIAL.length)] as string;
    switch (Math.floor(rand() * 4)) {
      case 0:
        s = s.slice(0, at) + pick + s.slice(at + 1);
        break;
      case 1:
        s = s.slice(0, at) + pick + s.slice(at);
        break;
      case 2:
        s = s.slice(0, at) + s.slice(at + 1 + Math.floor(rand() * 3));
        break;
      default: {
        const len = 1 + Math.floor(rand() * 8);
        s = s.slice(0, at) + s.slice(at, at + len) + s.slice(at);
      }
    }
  }
  return Buffer.from(s, 'latin1');
}

/** Random cut points for feeding `length` bytes in pieces. */
export function cutsFor(length: number, rand: () => number): number[] {
  const n = Math.floor(rand() * 5);
  return Array.from({ length: n }, () => 1 + Math.floor(rand() * Math.max(1, length - 1)));
}

/** Why a parse and its reference disagree in a way that matters, or undefined. */
export function disagreement(ours: Verdict, reference: Verdict): string | undefined {
  if (!ours.ok) return undefined; // stricter than llhttp is allowed
  // Bytes past the framed response: the engine relays that response and drops the connection;
  // llhttp reads the rest as a second response, and may refuse that one.
  if (ours.leftover > 0) return undefined;
  if (!reference.ok) return `accepted what llhttp refuses (${reference.error})`;
  if (ours.status !== reference.status) return `status ${ours.status}, llhttp ${reference.status}`;
  if (ours.body !== reference.body)
    return `body ${JSON.stringify(ours.body)}, llhttp ${JSON.stringify(reference.body)}`;
  return undefined;
}

/** Two parses of the same bytes that differ (as they must not, however the bytes were split). */
export function splitDifference(a: Verdict, b: Verdict): string | undefined {
  const ja = JSON.stringify(a.ok ? a : { ok: false });
  const jb = JSON.stringify(b.ok ? b : { ok: false });
  return ja === jb ? undefined : `${ja} vs ${jb}`;
}
