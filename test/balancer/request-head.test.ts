import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ChunkedDecoder, MAX_EXTENSION_BYTES } from '../../src/balancer/h1-server/chunked-body.js';
import {
  DEFAULT_LIMITS,
  EXTRA_REFUSALS,
  extraRefusal,
  HeadReader,
  type FeedResult,
  type HeadLimits,
  type HeadRefusal,
  type RequestHead,
} from '../../src/balancer/h1-server/request-head.js';
import { readRequests } from '../../bench/lib/front-parse.js';

/**
 * The h1 front's head parser and chunked decoder on their own: read incrementally (a line as soon
 * as it is whole, a refusal as soon as it can be told), their limits, the head's framing and
 * connection fields, and the classification of refusals llhttp does not make.
 */

/** Feed `text` to a new reader as a growing buffer, `step` bytes at a time; the last result. */
function feedIn(text: string, step: number, limits: HeadLimits = DEFAULT_LIMITS): FeedResult[] {
  const bytes = Buffer.from(text, 'latin1');
  const reader = new HeadReader(limits);
  reader.reset(0);
  const results: FeedResult[] = [];
  for (let to = Math.min(step, bytes.length); ; to = Math.min(to + step, bytes.length)) {
    const result = reader.feed(bytes, to);
    results.push(result);
    if (result.kind !== 'more' || to === bytes.length) return results;
  }
}

function headOf(text: string, step = Infinity): RequestHead {
  const last = feedIn(text, step).at(-1);
  assert.equal(last?.kind, 'head', `${JSON.stringify(text)}: ${JSON.stringify(last)}`);
  return (last as { head: RequestHead }).head;
}

function refusalOf(text: string, limits: HeadLimits = DEFAULT_LIMITS): HeadRefusal {
  const last = feedIn(text, Infinity, limits).at(-1);
  assert.equal(last?.kind, 'refused', `${JSON.stringify(text)}: ${JSON.stringify(last)}`);
  return (last as { refusal: HeadRefusal }).refusal;
}

const SMALL: HeadLimits = { maxHeadBytes: 200, maxRequestLineBytes: 40, maxHeaderFields: 3 };

void test('request head: fed a byte at a time it is the same head as fed whole, and it is "more" until the blank line', () => {
  const text = 'POST /a?b HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nX-A: \t v \t\r\n\r\nabc';
  const whole = headOf(text);
  assert.deepEqual(headOf(text, 1), whole);
  assert.deepEqual(whole, {
    method: 'POST',
    target: '/a?b',
    minor: 1,
    rawHeaders: ['Host', 'x', 'Content-Length', '3', 'X-A', 'v'],
    contentLength: 3,
    chunked: false,
    keepAlive: true,
    upgrade: false,
    expectContinue: false,
  });
  const steps = feedIn(text, 1);
  const headAt = text.indexOf('\r\n\r\n') + 4;
  assert.equal(steps.length, headAt, 'a head the moment its blank line is whole');
  assert.ok(steps.slice(0, -1).every((r) => r.kind === 'more'));
  const last = steps.at(-1);
  assert.equal(last?.kind === 'head' && last.end, headAt, 'the head ends after its blank line');
});

void test('request head: empty lines before it are skipped, and hold nothing of the head', () => {
  const bytes = Buffer.from('\r\n\n\r\nGET / HTTP/1.1\r\nHost: x\r\n\r\n', 'latin1');
  const reader = new HeadReader();
  reader.reset(0);
  assert.equal(reader.feed(bytes, 5).kind, 'more');
  assert.equal(reader.start, -1);
  assert.equal(reader.headBytes(5), 0);
  const result = reader.feed(bytes, bytes.length);
  assert.equal(reader.start, 5);
  assert.equal(result.kind === 'head' && result.head.target, '/');
});

void test('request head: a bad line is refused as soon as it ends, before the rest of the head', () => {
  const bad = 'GET / HTTP/1.1\r\nHost : x\r\n';
  const steps = feedIn(`${bad}X-More: y\r\n\r\n`, 1);
  assert.equal(steps.at(-1)?.kind, 'refused');
  assert.equal(steps.length, bad.length, 'refused the moment its line ends');
  const bare = feedIn('GET / HTTP/1.1\nHost: x\r\n\r\n', 1);
  assert.equal(bare.length, 'GET / HTTP/1.1\n'.length, 'a bare LF at once');
  assert.equal(refusalOf('get / HTTP/1.1\r\n').status, 501, 'methods are case-sensitive');
  assert.equal(refusalOf('G(T / HTTP/1.1\r\n').reason, 'malformed request line (method)');
  assert.equal(refusalOf('FOO / HTTP/1.1\r\n').status, 501);
  assert.equal(refusalOf('CONNECT a:1 HTTP/1.1\r\n').status, 405);
  assert.equal(refusalOf('GET / HTTP/3.0\r\n').status, 505);
  assert.equal(refusalOf('GET / HTTP/1.1\r\nX-A: a\r\n b\r\n').reason, 'obsolete line folding in a header');
});

void test('request head: a request line over its limit is 414, even before it ends; a head over its limit or too many fields 431', () => {
  assert.equal(refusalOf(`GET /${'a'.repeat(50)}`, SMALL).status, 414, 'no line end yet');
  assert.equal(refusalOf(`GET /${'a'.repeat(50)} HTTP/1.1\r\n`, SMALL).status, 414);
  assert.equal(refusalOf(`GET / HTTP/1.1\r\nX-A: ${'a'.repeat(250)}`, SMALL).status, 431, 'no line end yet');
  assert.equal(refusalOf(`GET / HTTP/1.1\r\nX-A: ${'a'.repeat(250)}\r\n`, SMALL).status, 431);
  const fields = 'GET / HTTP/1.1\r\nHost: x\r\nA: 1\r\nB: 2\r\nC: 3\r\n\r\n';
  assert.deepEqual(refusalOf(fields, SMALL), { status: 431, reason: 'more than 3 header fields' });
  assert.equal(feedIn(fields, Infinity).at(-1)?.kind, 'head', 'the default limit takes them');
});

void test('request head: the reader keeps offsets, so a buffer compacted mid-head (shift) and a second head after reset read right', () => {
  const first = 'GET /1 HTTP/1.1\r\nHost: x\r\n';
  const rest = '\r\nPOST /2 HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n';
  const reader = new HeadReader();
  const junk = Buffer.from('xxxxx', 'latin1');
  // 5 bytes of an earlier request sit before this head's in the buffer, then go in a compaction.
  reader.reset(5);
  const buf1 = Buffer.concat([junk, Buffer.from(first, 'latin1')]);
  assert.equal(reader.feed(buf1, buf1.length).kind, 'more');
  reader.shift(5);
  const buf2 = Buffer.from(first + rest, 'latin1');
  const one = reader.feed(buf2, buf2.length);
  assert.ok(one.kind === 'head', JSON.stringify(one));
  assert.equal(one.head.target, '/1');
  reader.reset(one.end);
  const two = reader.feed(buf2, buf2.length);
  assert.ok(two.kind === 'head', JSON.stringify(two));
  assert.deepEqual(
    [two.head.method, two.head.target, two.head.chunked, two.end],
    ['POST', '/2', true, buf2.length],
  );
});

void test('request head: keep-alive by version and Connection, upgrade, Expect and framing fields', () => {
  assert.equal(headOf('GET / HTTP/1.1\r\nHost: x\r\n\r\n').keepAlive, true);
  assert.equal(headOf('GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n').keepAlive, false);
  assert.equal(headOf('GET / HTTP/1.0\r\n\r\n').keepAlive, false);
  assert.equal(headOf('GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n').keepAlive, true);
  assert.equal(headOf('GET / HTTP/1.1\r\nHost: x\r\nConnection: foo, close\r\n\r\n').keepAlive, false);
  const ws = headOf(
    'GET /ws HTTP/1.1\r\nHost: x\r\nConnection: keep-alive, Upgrade\r\nUpgrade: websocket\r\n\r\n',
  );
  assert.equal(ws.upgrade, true);
  assert.equal(
    headOf('GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\n\r\n').upgrade,
    false,
    'no Connection: upgrade',
  );
  assert.equal(headOf('PUT / HTTP/1.1\r\nHost: x\r\nExpect: 100-Continue\r\n\r\n').expectContinue, true);
  assert.equal(headOf('PUT / HTTP/1.0\r\nExpect: 100-continue\r\n\r\n').expectContinue, false, 'not on 1.0');
  assert.equal(refusalOf('PUT / HTTP/1.1\r\nHost: x\r\nExpect: 200-ok\r\n\r\n').status, 417);
  assert.equal(headOf('GET / HTTP/1.1\r\nHost: x\r\n\r\n').contentLength, -1);
  assert.equal(headOf('GET / HTTP/1.1\r\nHost: x\r\nContent-Length: 007\r\n\r\n').contentLength, 7);
  assert.equal(
    headOf('GET / HTTP/1.1\r\nHost: x\r\nContent-Length: 999999999999999\r\n\r\n').contentLength,
    999999999999999,
  );
  assert.match(
    refusalOf('GET / HTTP/1.1\r\nHost: x\r\nContent-Length: 1000000000000000\r\n\r\n').reason,
    /too large/,
  );
  assert.equal(headOf('GET / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: Chunked\r\n\r\n').chunked, true);
  for (const bad of [
    'Content-Length: 1\r\nTransfer-Encoding: chunked',
    'Content-Length: 1\r\nContent-Length: 1',
  ]) {
    assert.equal(refusalOf(`POST / HTTP/1.1\r\nHost: x\r\n${bad}\r\n\r\n`).status, 400, bad);
  }
});

/** Decode `text` as a chunked body fed in `step`-byte pieces: the data, and where it ended. */
function decode(text: string, step = Infinity): { data: string; end: number } | HeadRefusal {
  const bytes = Buffer.from(text, 'latin1');
  let data = '';
  const decoder = new ChunkedDecoder((buf, start, end) => (data += buf.toString('latin1', start, end)));
  for (let from = 0; from < bytes.length; from = Math.min(from + step, bytes.length)) {
    const to = Math.min(from + step, bytes.length);
    const at = decoder.feed(bytes, from, to);
    if (at < 0) return decoder.refusal as HeadRefusal;
    if (decoder.done) return { data, end: at };
    assert.equal(at, to, 'needs more: all it was given is read');
  }
  return { data, end: -1 };
}

void test('chunked body: data to the sink, the end after the last CRLF (the next request not read), the same in pieces', () => {
  const text = '5;a=b\r\nhello\r\n6;q="x;y"\r\n world\r\n0\r\nX-T: 1\r\n\r\nGET / HTTP/1.1\r\n';
  const whole = decode(text);
  assert.deepEqual(whole, { data: 'hello world', end: text.indexOf('GET') });
  assert.deepEqual(decode(text, 1), whole);
  assert.deepEqual(decode(text, 3), whole);
  assert.deepEqual(decode('0000000000000000005\r\nhello\r\n0\r\n\r\n'), { data: 'hello', end: 33 });
  assert.deepEqual(decode('3\r\nab'), { data: 'ab', end: -1 }, 'waits for the rest');
});

void test('chunked body: bad sizes, extensions, data ends and trailers are refused', () => {
  for (const bad of [
    '0x5\r\n',
    '-1\r\n',
    ' 5\r\n',
    '5 \r\n',
    '\r\n',
    'g\r\n',
    '1\nx\r\n0\r\n\r\n',
    '3\r\nabcd\r\n',
  ]) {
    const r = decode(bad);
    assert.ok('status' in r && r.status === 400, `${JSON.stringify(bad)}: ${JSON.stringify(r)}`);
  }
  assert.match(JSON.stringify(decode('10000000000000\r\n')), /too large/, '14 hex digits');
  assert.equal('status' in decode('1000000000000\r\n'), false, '13 hex digits are a size');
  assert.deepEqual(decode(`1;${'a'.repeat(MAX_EXTENSION_BYTES)}\r\n`), {
    status: 413,
    reason: `chunk extensions over ${MAX_EXTENSION_BYTES} bytes`,
  });
  for (const bad of ['1;\r\n', '1;a=\r\n', '1;=b\r\n', '1;a="b\r\n', '1;a=b"c"\r\n', '1; a\r\n']) {
    assert.ok('status' in decode(bad), bad);
  }
  for (const trailer of ['Content-Length: 1', 'Host: b', 'X-T: \x01', 'X T: 1', 'X-T: 1\n']) {
    assert.ok('status' in decode(`0\r\n${trailer}\r\n\r\n`), JSON.stringify(trailer));
  }
});

/** One request for each extra refusal, that llhttp reads and this parser refuses. */
const EXTRA_EXAMPLES: readonly string[] = [
  'CONNECT a:443 HTTP/1.1\r\nHost: a\r\n\r\n',
  'POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n',
  'POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n',
  'GET / HTTP/1.1\r\n\r\n',
  'GET * HTTP/1.1\r\nHost: a\r\n\r\n',
  `GET /${'a'.repeat(9000)} HTTP/1.1\r\nHost: a\r\n\r\n`,
  'GET / HTTP/1.1\r\nHost: a\r\nExpect: 200-ok\r\n\r\n',
  'GET /a\tb HTTP/1.1\r\nHost: a\r\n\r\n',
  'POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 1\t\r\n\r\nx',
  'GET /\r\n\r\n',
  'GET  / HTTP/1.1\r\nHost: a\r\n\r\n',
  'POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 1000000000000000\r\n\r\n',
  'POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n1;a=\r\nx\r\n0\r\n\r\n',
  'POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n0\r\nHost: b\r\n\r\n',
];

void test('extra refusals: each is reached by a request, and a refusal llhttp makes too is none of them', () => {
  const named = new Set<string>();
  for (const text of EXTRA_EXAMPLES) {
    const { end } = readRequests(Buffer.from(text, 'latin1'));
    assert.ok(end.kind === 'refused', `${JSON.stringify(text.slice(0, 60))}: ${JSON.stringify(end)}`);
    const extra = extraRefusal(end.refusal);
    assert.ok(extra !== undefined, `${JSON.stringify(text.slice(0, 60))}: ${end.refusal.reason}`);
    named.add(extra);
  }
  assert.deepEqual(
    EXTRA_REFUSALS.filter((e) => !named.has(e)),
    [],
    'every extra refusal has an example',
  );
  for (const text of [
    'GET / HTTP/1.1\nHost: a\r\n\r\n',
    'GET / HTTP/1.1\r\nHost: a\r\nX: a\r\n b\r\n\r\n',
    'POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n',
    'GET /\xe9 HTTP/1.1\r\nHost: a\r\n\r\n',
    'POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n0x1\r\nx\r\n0\r\n\r\n',
  ]) {
    const { end } = readRequests(Buffer.from(text, 'latin1'));
    assert.ok(end.kind === 'refused' && extraRefusal(end.refusal) === undefined, JSON.stringify(text));
  }
});
