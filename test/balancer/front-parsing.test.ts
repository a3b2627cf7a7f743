import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { extraRefusal } from '../../src/balancer/h1-server/request-head.js';
import type { ReadRequest } from '../../bench/lib/front-parse.js';
import { LlhttpReference, type ReferenceVerdict } from '../../bench/lib/llhttp-reference.js';
import { listenOn } from '../../src/net/listen.js';
import { startBalancer } from '../helpers/balancer-fleet.js';
import { answersTo, type Answers } from '../helpers/raw-answers.js';

/**
 * Malformed and ambiguous requests (the request smuggling classics and their neighbours), each sent
 * over a real loopback socket to llhttp (a bare node:http server, llhttp-reference.ts) and to the
 * balancer on each front (`--front h1`, its own parser; `--front node`, node:http's) in front of
 * an echo upstream. What must hold for every row:
 *
 * - llhttp refuses a request: both fronts refuse it (an answer of the balancer's own, or a closed
 *   connection), never an answer of the upstream's;
 * - the h1 front refuses a request llhttp reads: the refusal is one of the named extra ones
 *   (EXTRA_REFUSALS, request-head.ts), or the node front refuses it as well (the request path's
 *   rule, which both fronts share: OPTIONS *, upgrades with a body, h2c);
 * - both read it: the upstream saw the same method, target and body;
 * - no case leaves a socket hanging: each ends within a bound.
 *
 * Each row also says how many of its requests llhttp reads and how many reach the upstream
 * through each front, so a change of behaviour shows up as that row's failure.
 */

interface Row {
  name: string;
  send: string;
  /**
   * Requests llhttp reads whole (0: it refuses the first); `varies`: 0 or 1 by the Node line's
   * llhttp (node 20's refuses a tab after a Content-Length value, node 26's reads it as whitespace),
   * and the node front then does what llhttp did.
   */
  llhttp: number | 'varies';
  /** Requests the upstream answers through --front h1 (default: llhttp's). */
  h1?: number;
  /** Requests the upstream answers through --front node (default: h1's). */
  node?: number;
}

const HOST = 'Host: a\r\n';
const GET = `GET / HTTP/1.1\r\n${HOST}\r\n`;
const POST = `POST /p HTTP/1.1\r\n${HOST}`;
const CHUNKED = `${POST}Transfer-Encoding: chunked\r\n\r\n`;

const ROWS: readonly Row[] = [
  // ---- framing: Content-Length and Transfer-Encoding ----
  { name: 'a plain GET', send: GET, llhttp: 1 },
  { name: 'a body by Content-Length', send: `${POST}Content-Length: 5\r\n\r\nhello`, llhttp: 1 },
  { name: 'a chunked body', send: `${CHUNKED}5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n`, llhttp: 1 },
  { name: 'a GET with a body', send: `GET /g HTTP/1.1\r\n${HOST}Content-Length: 3\r\n\r\nabc`, llhttp: 1 },
  {
    name: 'CL and TE',
    send: `${POST}Content-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n`,
    llhttp: 0,
  },
  {
    name: 'TE and CL',
    send: `${POST}Transfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n0\r\n\r\n`,
    llhttp: 0,
  },
  {
    name: 'TE chunked, identity',
    send: `${POST}Transfer-Encoding: chunked, identity\r\n\r\n0\r\n\r\n`,
    llhttp: 0,
  },
  { name: 'TE identity', send: `${POST}Transfer-Encoding: identity\r\n\r\nabc`, llhttp: 0 },
  { name: 'TE xchunked', send: `${POST}Transfer-Encoding: xchunked\r\n\r\n0\r\n\r\n`, llhttp: 0 },
  {
    name: 'TE chunked twice',
    send: `${POST}Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n`,
    llhttp: 0,
  },
  // llhttp takes chunked as the last coding; the balancer would relay a gzip it never decoded.
  {
    name: 'TE gzip, chunked',
    send: `${POST}Transfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n`,
    llhttp: 1,
    h1: 0,
    node: 0,
  },
  {
    name: 'TE with two spaces before it',
    send: `${POST}Transfer-Encoding:  chunked\r\n\r\n0\r\n\r\n`,
    llhttp: 1,
  },
  { name: 'TE upper case', send: `${POST}Transfer-Encoding: CHUNKED\r\n\r\n0\r\n\r\n`, llhttp: 1 },
  {
    name: 'TE folded onto a line of its own',
    send: `${POST}Transfer-Encoding:\r\n chunked\r\n\r\n0\r\n\r\n`,
    llhttp: 0,
  },
  {
    name: 'TE name led by a space',
    send: `${POST}X: y\r\n Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n`,
    llhttp: 0,
  },
  { name: 'TE then a tab', send: `${POST}Transfer-Encoding: chunked\t\r\n\r\n0\r\n\r\n`, llhttp: 0 },
  // llhttp takes chunked on HTTP/1.0, which a 1.0 recipient cannot be relied on to read (RFC 9112
  // section 6.1): the h1 front refuses it (a named extra), the node front passes it on.
  {
    name: 'TE on HTTP/1.0',
    send: 'POST /p HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n',
    llhttp: 1,
    h1: 0,
    node: 1,
  },
  { name: 'CL twice, the same', send: `${POST}Content-Length: 3\r\nContent-Length: 3\r\n\r\nabc`, llhttp: 0 },
  {
    name: 'CL twice, different',
    send: `${POST}Content-Length: 3\r\nContent-Length: 4\r\n\r\nabcd`,
    llhttp: 0,
  },
  { name: 'CL plus sign', send: `${POST}Content-Length: +3\r\n\r\nabc`, llhttp: 0 },
  { name: 'CL minus sign', send: `${POST}Content-Length: -3\r\n\r\nabc`, llhttp: 0 },
  { name: 'CL space inside', send: `${POST}Content-Length: 1 2\r\n\r\nabc`, llhttp: 0 },
  { name: 'CL list', send: `${POST}Content-Length: 3, 3\r\n\r\nabc`, llhttp: 0 },
  { name: 'CL hex', send: `${POST}Content-Length: 0x3\r\n\r\nabc`, llhttp: 0 },
  { name: 'CL empty', send: `${POST}Content-Length: \r\n\r\n`, llhttp: 0 },
  { name: 'CL then a tab', send: `${POST}Content-Length: 3\t\r\n\r\nabc`, llhttp: 'varies', h1: 0 },
  { name: 'CL then a space', send: `${POST}Content-Length: 3 \r\n\r\nabc`, llhttp: 1 },
  { name: 'CL leading zeros', send: `${POST}Content-Length: 00000000000000000003\r\n\r\nabc`, llhttp: 1 },
  // ---- header syntax ----
  { name: 'obs-fold', send: `GET / HTTP/1.1\r\n${HOST}X-A: a\r\n b\r\n\r\n`, llhttp: 0 },
  { name: 'space before the colon', send: `${POST}Content-Length : 3\r\n\r\nabc`, llhttp: 0 },
  { name: 'tab before the colon', send: `GET / HTTP/1.1\r\n${HOST}X-A\t: b\r\n\r\n`, llhttp: 0 },
  { name: 'header without a colon', send: `GET / HTTP/1.1\r\n${HOST}X-A\r\n\r\n`, llhttp: 0 },
  { name: 'header without a name', send: `GET / HTTP/1.1\r\n${HOST}: b\r\n\r\n`, llhttp: 0 },
  { name: 'bare LF line ends', send: 'GET / HTTP/1.1\nHost: a\n\n', llhttp: 0 },
  { name: 'bare LF after a header', send: `GET / HTTP/1.1\r\nHost: a\nX: b\r\n\r\n`, llhttp: 0 },
  { name: 'bare CR in a value', send: `GET / HTTP/1.1\r\n${HOST}X-A: a\rb\r\n\r\n`, llhttp: 0 },
  { name: 'bare CR ending a header', send: `GET / HTTP/1.1\r\nHost: a\rX: b\r\n\r\n`, llhttp: 0 },
  { name: 'NUL in a value', send: `GET / HTTP/1.1\r\n${HOST}X-A: a\x00b\r\n\r\n`, llhttp: 0 },
  { name: 'SOH in a value', send: `GET / HTTP/1.1\r\n${HOST}X-A: a\x01b\r\n\r\n`, llhttp: 0 },
  { name: 'DEL in a value', send: `GET / HTTP/1.1\r\n${HOST}X-A: a\x7fb\r\n\r\n`, llhttp: 0 },
  { name: 'obs-text in a value', send: `GET / HTTP/1.1\r\n${HOST}X-A: a\xe9b\r\n\r\n`, llhttp: 1 },
  { name: 'tab inside a value', send: `GET / HTTP/1.1\r\n${HOST}X-A: a\tb\r\n\r\n`, llhttp: 1 },
  // ---- the request line ----
  { name: 'NUL in the target', send: `GET /a\x00b HTTP/1.1\r\n${HOST}\r\n`, llhttp: 0 },
  { name: 'tab in the target', send: `GET /a\tb HTTP/1.1\r\n${HOST}\r\n`, llhttp: 0 },
  { name: 'form feed in the target', send: `GET /a\x0cb HTTP/1.1\r\n${HOST}\r\n`, llhttp: 0 },
  { name: 'DEL in the target', send: `GET /a\x7fb HTTP/1.1\r\n${HOST}\r\n`, llhttp: 0 },
  { name: 'obs-text in the target', send: `GET /a\xe9b HTTP/1.1\r\n${HOST}\r\n`, llhttp: 0 },
  { name: 'bare CR in the request line', send: `GET /a\rb HTTP/1.1\r\n${HOST}\r\n`, llhttp: 0 },
  { name: 'two spaces after the method', send: `GET  / HTTP/1.1\r\n${HOST}\r\n`, llhttp: 1, h1: 0, node: 1 },
  // llhttp reads a line without a version as HTTP/0.9 (headers and all), and the node front passes
  // it on; the h1 front refuses it (a named extra), as it does a version but 1.0 and 1.1.
  { name: 'HTTP/0.9', send: 'GET /\r\n\r\n', llhttp: 1, h1: 0, node: 1 },
  { name: 'HTTP/1.2', send: `GET / HTTP/1.2\r\n${HOST}\r\n`, llhttp: 0 },
  { name: 'HTTP/2.0', send: `GET / HTTP/2.0\r\n${HOST}\r\n`, llhttp: 1, h1: 0, node: 1 },
  { name: 'lower-case version', send: `GET / http/1.1\r\n${HOST}\r\n`, llhttp: 0 },
  { name: 'the HTTP/2 preface', send: 'PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n', llhttp: 0 },
  { name: 'a lower-case method', send: `get / HTTP/1.1\r\n${HOST}\r\n`, llhttp: 0 },
  { name: 'an unknown method', send: `FOO / HTTP/1.1\r\n${HOST}\r\n`, llhttp: 0 },
  {
    name: 'a known method the upstream takes',
    send: `PATCH /x HTTP/1.1\r\n${HOST}Content-Length: 1\r\n\r\nx`,
    llhttp: 1,
  },
  { name: 'CONNECT', send: `CONNECT a:443 HTTP/1.1\r\nHost: a:443\r\n\r\n`, llhttp: 0 },
  // The request path answers these on both fronts: no single upstream speaks for the server.
  { name: 'OPTIONS *', send: `OPTIONS * HTTP/1.1\r\n${HOST}\r\n`, llhttp: 1, h1: 0 },
  { name: 'GET *', send: `GET * HTTP/1.1\r\n${HOST}\r\n`, llhttp: 1, h1: 0 },
  { name: 'authority-form', send: `GET a:80 HTTP/1.1\r\n${HOST}\r\n`, llhttp: 0 },
  { name: 'absolute-form', send: `GET http://a/p?q=1 HTTP/1.1\r\n${HOST}\r\n`, llhttp: 1 },
  { name: 'absolute-form, a bad scheme', send: `GET h-t://a/p HTTP/1.1\r\n${HOST}\r\n`, llhttp: 0 },
  {
    name: 'a long request line (9 KiB)',
    send: `GET /${'a'.repeat(9 * 1024)} HTTP/1.1\r\n${HOST}\r\n`,
    llhttp: 1,
    h1: 0,
    node: 1,
  },
  {
    name: 'many headers (150)',
    send: `GET / HTTP/1.1\r\n${HOST}${Array.from({ length: 150 }, (_, i) => `X-H${i}: v\r\n`).join('')}\r\n`,
    llhttp: 1,
    h1: 0,
    node: 1,
  },
  {
    name: 'a header over the head limit',
    send: `GET / HTTP/1.1\r\n${HOST}X-Big: ${'a'.repeat(17 * 1024)}\r\n\r\n`,
    llhttp: 0,
  },
  // ---- Host ----
  { name: 'no Host on HTTP/1.1', send: 'GET / HTTP/1.1\r\n\r\n', llhttp: 1, h1: 0 },
  { name: 'two Hosts on HTTP/1.1', send: `GET / HTTP/1.1\r\n${HOST}Host: b\r\n\r\n`, llhttp: 1, h1: 0 },
  { name: 'no Host on HTTP/1.0', send: 'GET / HTTP/1.0\r\n\r\n', llhttp: 1 },
  { name: 'two Hosts on HTTP/1.0', send: `GET / HTTP/1.0\r\n${HOST}Host: b\r\n\r\n`, llhttp: 1, h1: 0 },
  // ---- chunks ----
  { name: 'chunk size 0x5', send: `${CHUNKED}0x5\r\nhello\r\n0\r\n\r\n`, llhttp: 0 },
  { name: 'chunk size -1', send: `${CHUNKED}-1\r\nx\r\n0\r\n\r\n`, llhttp: 0 },
  { name: 'chunk size after a space', send: `${CHUNKED} 5\r\nhello\r\n0\r\n\r\n`, llhttp: 0 },
  { name: 'chunk size before a space', send: `${CHUNKED}5 \r\nhello\r\n0\r\n\r\n`, llhttp: 0 },
  { name: 'chunk size overflow', send: `${CHUNKED}fffffffffffffffff1\r\nx\r\n0\r\n\r\n`, llhttp: 0 },
  {
    name: 'chunk size leading zeros',
    send: `${CHUNKED}00000000000000000005\r\nhello\r\n0\r\n\r\n`,
    llhttp: 1,
  },
  { name: 'chunk data longer than its size', send: `${CHUNKED}3\r\nabcd\r\n0\r\n\r\n`, llhttp: 0 },
  { name: 'chunk size ending in a bare LF', send: `${CHUNKED}3\nabc\r\n0\r\n\r\n`, llhttp: 0 },
  { name: 'chunk extension', send: `${CHUNKED}3;a=b;c\r\nabc\r\n0\r\n\r\n`, llhttp: 1 },
  { name: 'chunk extension quoted', send: `${CHUNKED}3;a="b; \\"c"\r\nabc\r\n0\r\n\r\n`, llhttp: 1 },
  { name: 'chunk extension quoted, unterminated', send: `${CHUNKED}3;a="b\r\nabc\r\n0\r\n\r\n`, llhttp: 0 },
  { name: 'chunk extension with a space', send: `${CHUNKED}3; a=b\r\nabc\r\n0\r\n\r\n`, llhttp: 0 },
  {
    name: 'chunk extension with a control character',
    send: `${CHUNKED}3;a=\x01\r\nabc\r\n0\r\n\r\n`,
    llhttp: 0,
  },
  {
    name: 'chunk extension without a value',
    send: `${CHUNKED}3;a=\r\nabc\r\n0\r\n\r\n`,
    llhttp: 1,
    h1: 0,
    node: 1,
  },
  { name: 'a trailer', send: `${CHUNKED}3\r\nabc\r\n0\r\nX-T: 1\r\n\r\n`, llhttp: 1 },
  {
    name: 'Content-Length as a trailer',
    send: `${CHUNKED}3\r\nabc\r\n0\r\nContent-Length: 3\r\n\r\n`,
    llhttp: 0,
  },
  {
    name: 'Transfer-Encoding as a trailer',
    send: `${CHUNKED}3\r\nabc\r\n0\r\nTransfer-Encoding: chunked\r\n\r\n`,
    llhttp: 0,
  },
  {
    name: 'Host as a trailer',
    send: `${CHUNKED}3\r\nabc\r\n0\r\nHost: b\r\n\r\n`,
    llhttp: 1,
    h1: 0,
    node: 1,
  },
  { name: 'a trailer ending in a bare LF', send: `${CHUNKED}3\r\nabc\r\n0\r\nX-T: 1\n\r\n`, llhttp: 0 },
  // ---- Expect, upgrades ----
  {
    name: 'Expect: 100-continue',
    send: `${POST}Expect: 100-continue\r\nContent-Length: 3\r\n\r\nabc`,
    llhttp: 1,
  },
  { name: 'Expect: something else', send: `GET / HTTP/1.1\r\n${HOST}Expect: 200-ok\r\n\r\n`, llhttp: 0 },
  {
    name: 'an upgrade with a body',
    send: `${POST}Connection: upgrade\r\nUpgrade: websocket\r\nContent-Length: 3\r\n\r\nabc`,
    llhttp: 1,
    h1: 0,
  },
  {
    name: 'an h2c upgrade',
    send: `GET / HTTP/1.1\r\n${HOST}Connection: Upgrade, HTTP2-Settings\r\nUpgrade: h2c\r\nHTTP2-Settings: AAMAAABkAARAAAAAAAIAAAAA\r\n\r\n`,
    llhttp: 1,
    h1: 0,
  },
  // ---- more than one request ----
  { name: 'leading CRLFs', send: `\r\n\r\n${GET}`, llhttp: 1 },
  {
    name: 'pipelined',
    send: `GET /1 HTTP/1.1\r\n${HOST}\r\n${POST}Content-Length: 2\r\n\r\nokGET /3 HTTP/1.1\r\n${HOST}\r\n`,
    llhttp: 3,
  },
  {
    name: 'pipelined, the second chunked',
    send: `GET /1 HTTP/1.1\r\n${HOST}\r\n${CHUNKED}2\r\nok\r\n0\r\n\r\nGET /3 HTTP/1.1\r\n${HOST}\r\n`,
    llhttp: 3,
  },
  {
    name: 'pipelined, the second malformed',
    send: `GET /1 HTTP/1.1\r\n${HOST}\r\nGET /2 HTTP/1.1\r\nHost : a\r\n\r\n`,
    llhttp: 1,
    node: 0,
  },
  {
    name: 'a request after Connection: close',
    send: `GET /1 HTTP/1.1\r\n${HOST}Connection: close\r\n\r\nGET /2 HTTP/1.1\r\n${HOST}\r\n`,
    llhttp: 1,
    node: 0,
  },
  {
    name: 'a CL body that hides a request',
    send: `${POST}Content-Length: 33\r\n\r\nGET /hidden HTTP/1.1\r\nHost: a\r\n\r\n`,
    llhttp: 1,
  },
];

/** The upstream: answers every request with what it saw, marked as its own. */
function echo(req: http.IncomingMessage, res: http.ServerResponse): void {
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('end', () => {
    const body = JSON.stringify({
      method: req.method,
      target: req.url,
      body: Buffer.concat(chunks).toString('latin1'),
    });
    res.writeHead(200, { 'Content-Type': 'application/json', 'X-Echo': '1' });
    res.end(body);
  });
}

/**
 * The echo upstream on a free port, closed after the test. It takes a request without Host: the
 * balancer passes an HTTP/1.0 request without one on as HTTP/1.1 without one, which node:http's
 * default (requireHostHeader) would refuse with an empty 400 of its own, hiding what the front did.
 */
async function startEcho(t: TestContext): Promise<{ port: number }> {
  const server = http.createServer({ requireHostHeader: false }, echo);
  const port = await listenOn(server, 0, '127.0.0.1');
  t.after(() => {
    server.closeAllConnections();
    return new Promise<void>((resolve) => server.close(() => resolve()));
  });
  return { port };
}

/** What one front did with a row: the requests the upstream answered, then how it stopped. */
interface FrontView {
  echoed: ReadRequest[];
  /** The balancer's own answer that ended the requests (status, and reason from its body). */
  refusal: { status: number; reason: string } | undefined;
  raw: Answers;
}

function frontView(raw: Answers): FrontView {
  const echoed: ReadRequest[] = [];
  let refusal: FrontView['refusal'];
  for (const answer of raw.answers) {
    if (answer.headers['x-echo'] !== '1') {
      // `400 Bad Request: <reason>` (plain-answer.ts); a refusal ends the connection's requests.
      const text = answer.body.toString('latin1');
      refusal = { status: answer.status, reason: text.slice(text.indexOf(': ') + 2).trim() };
      break;
    }
    const seen = JSON.parse(answer.body.toString('latin1')) as ReadRequest;
    echoed.push({ method: seen.method, target: seen.target, body: seen.body, upgrade: false });
  }
  return { echoed, refusal, raw };
}

/** The target as the upstream gets it: absolute-form comes down to its path and query. */
function forwarded(target: string): string {
  if (target.startsWith('/')) return target;
  try {
    const url = new URL(target);
    return `${url.pathname}${url.search}`;
  } catch {
    return target;
  }
}

function describe(view: FrontView): string {
  const { answers, closed, hung } = view.raw;
  const statuses = answers.map((a) => a.status).join(',');
  return `answers [${statuses}]${closed ? ', closed' : ''}${hung ? ', HUNG' : ''}${
    view.refusal === undefined ? '' : `, refused ${view.refusal.status} "${view.refusal.reason}"`
  }`;
}

/** The requests llhttp, the h1 front and the node front should each read of a row. */
function expected(row: Row, reference: ReferenceVerdict): { read: number; h1: number; node: number } {
  const varies = row.llhttp === 'varies';
  const read = row.llhttp === 'varies' ? reference.requests.length : row.llhttp;
  const h1 = row.h1 ?? read;
  return { read, h1, node: row.node ?? (varies ? read : h1) };
}

/** Every rule the table's heading states, for one row. */
function check(row: Row, reference: ReferenceVerdict, h1: FrontView, node: FrontView): void {
  const where = `${row.name}: llhttp ${JSON.stringify(reference)}; h1 ${describe(h1)}; node ${describe(node)}`;
  const want = expected(row, reference);
  if (row.llhttp === 'varies') assert.ok(want.read <= 1, `llhttp read more than one request. ${where}`);
  assert.equal(reference.requests.length, want.read, `llhttp read another count. ${where}`);
  assert.equal(h1.echoed.length, want.h1, `h1 front. ${where}`);
  assert.equal(node.echoed.length, want.node, `node front. ${where}`);
  for (const front of [h1, node]) {
    assert.equal(front.raw.hung, false, `a socket hung. ${where}`);
    // Whatever llhttp refuses, no front passes on.
    assert.ok(front.echoed.length <= reference.requests.length, `passed on what llhttp refuses. ${where}`);
    front.echoed.forEach((seen, i) => {
      const read = reference.requests[i] as ReadRequest;
      assert.deepEqual(
        [seen.method, seen.target, seen.body],
        [read.method, forwarded(read.target), read.body],
        `request ${i} reached the upstream other than llhttp read it. ${where}`,
      );
    });
  }
  // Where the h1 front stops short of llhttp, it says why: a named extra refusal, or the request
  // path's own rule (which the node front applies too, with the same status).
  if (h1.echoed.length < reference.requests.length) {
    const refusal = h1.refusal;
    assert.ok(refusal !== undefined, `the h1 front closed without an answer. ${where}`);
    const shared = node.echoed.length === h1.echoed.length && node.refusal?.status === refusal.status;
    assert.ok(
      extraRefusal(refusal) !== undefined || shared,
      `the h1 front refused what llhttp reads, and that is no named extra refusal. ${where}`,
    );
  }
}

/** Rows at once: enough to overlap the waits, few enough for a small shared machine. */
const AT_ONCE = 6;

void test('front parsing: malformed and ambiguous requests, llhttp against both fronts over real sockets', async (t: TestContext) => {
  const upstream = await startEcho(t);
  const [h1, node] = await Promise.all([
    startBalancer(t, [upstream.port], ['--front', 'h1']),
    startBalancer(t, [upstream.port], ['--front', 'node']),
  ]);
  const reference = new LlhttpReference();
  await reference.start();
  t.after(() => reference.close());

  const one = async (row: Row): Promise<void> => {
    const bytes = Buffer.from(row.send, 'latin1');
    const llhttp = await reference.verdict(bytes);
    const want = expected(row, llhttp);
    const [viaH1, viaNode] = await Promise.all([
      answersTo(h1.port, bytes, want.h1),
      answersTo(node.port, bytes, want.node),
    ]);
    check(row, llhttp, frontView(viaH1), frontView(viaNode));
  };
  const failures: string[] = [];
  for (let i = 0; i < ROWS.length; i += AT_ONCE) {
    const batch = ROWS.slice(i, i + AT_ONCE);
    const results = await Promise.allSettled(batch.map(one));
    for (const r of results) if (r.status === 'rejected') failures.push(String((r.reason as Error).message));
  }
  assert.deepEqual(failures, [], `${failures.length} of ${ROWS.length} rows failed`);
});
