import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FramingError, ResponseFramer, type FramedResponse } from '../../bench/lib/response-framer.js';

const ok = (body: string, extra = '') =>
  `HTTP/1.1 200 OK\r\nContent-Length: ${Buffer.byteLength(body)}\r\nX-Served-By: a${extra}\r\n\r\n${body}`;

/** Feed `text` cut at the given offsets, collecting every response. */
function feed(framer: ResponseFramer, text: string | Buffer, cuts: number[] = []): FramedResponse[] {
  const bytes = Buffer.isBuffer(text) ? text : Buffer.from(text, 'latin1');
  const out: FramedResponse[] = [];
  let from = 0;
  for (const cut of [...cuts, bytes.length]) {
    out.push(...framer.push(bytes.subarray(from, cut)));
    from = cut;
  }
  return out;
}

void test('a Content-Length response is framed wherever the chunks are cut', () => {
  const text = ok('hello world') + ok('second!');
  for (let cut = 1; cut < text.length; cut++) {
    const framer = new ResponseFramer();
    const got = feed(framer, text, [cut]);
    assert.deepEqual(
      got.map((r) => [r.status, r.bodyBytes]),
      [
        [200, 11],
        [200, 7],
      ],
      `cut at ${cut}`,
    );
    assert.equal(framer.inResponse, false);
  }
});

void test('head bytes and the announced length are reported', () => {
  const [r] = feed(new ResponseFramer(), ok('abc'));
  assert.equal(r?.headBytes, ok('abc').length - 3);
  assert.equal(r?.contentLength, 3);
});

void test('a chunked body counts decoded bytes only, with extensions and trailers', () => {
  const text =
    'HTTP/1.1 404 Not Found\r\nTransfer-Encoding: chunked\r\n\r\n' +
    '5;ext=1\r\nhello\r\n' +
    'A\r\n0123456789\r\n' +
    '0\r\nX-Trailer: yes\r\n\r\n' +
    ok('z');
  for (let cut = 1; cut < text.length; cut += 3) {
    const got = feed(new ResponseFramer(), text, [cut]);
    assert.deepEqual(
      got.map((r) => [r.status, r.bodyBytes]),
      [
        [404, 15],
        [200, 1],
      ],
      `cut at ${cut}`,
    );
  }
});

void test('a body without length ends when the server closes the connection', () => {
  const framer = new ResponseFramer();
  assert.deepEqual(feed(framer, 'HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\n\r\nabcdef'), []);
  const last = framer.end();
  assert.equal(last?.bodyBytes, 6);
  assert.equal(framer.end(), null);
});

void test('a connection closed in the middle of a response is an error, not a short success', () => {
  const framer = new ResponseFramer();
  feed(framer, ok('0123456789').slice(0, -4));
  assert.equal(framer.inResponse, true);
  assert.throws(() => framer.end(), FramingError);
});

void test('interim 1xx responses are skipped and 204/304 have no body', () => {
  const text =
    'HTTP/1.1 100 Continue\r\n\r\n' +
    ok('x') +
    'HTTP/1.1 204 No Content\r\n\r\n' +
    'HTTP/1.1 304 Not Modified\r\nContent-Length: 50\r\n\r\n' +
    ok('yy');
  const got = feed(new ResponseFramer(), text);
  assert.deepEqual(
    got.map((r) => [r.status, r.bodyBytes]),
    [
      [200, 1],
      [204, 0],
      [304, 0],
      [200, 2],
    ],
  );
});

void test('bytes that are not HTTP fail, and keep failing', () => {
  const framer = new ResponseFramer();
  assert.throws(() => feed(framer, 'SSH-2.0-OpenSSH\r\n\r\n'), FramingError);
  assert.throws(() => feed(framer, ok('x')), FramingError);
  assert.throws(
    () => feed(new ResponseFramer(), 'HTTP/1.1 200 OK\r\nContent-Length: -3\r\n\r\n'),
    FramingError,
  );
  assert.throws(
    () => feed(new ResponseFramer(), 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n'),
    FramingError,
  );
});

void test('bodies are captured only when asked and only up to the limit', () => {
  const json = JSON.stringify({ ms: 5, digest: 'abc' });
  const [small] = feed(new ResponseFramer(1024), ok(json), [40]);
  assert.equal(small?.body?.toString(), json);
  const [none] = feed(new ResponseFramer(), ok(json));
  assert.equal(none?.body, undefined);
  const [tooBig] = feed(new ResponseFramer(4), ok(json));
  assert.equal(tooBig?.body, undefined);
  assert.equal(tooBig?.bodyBytes, json.length);
});
