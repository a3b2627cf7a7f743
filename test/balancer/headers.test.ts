import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { IncomingHttpHeaders } from 'node:http';
import {
  forwardRequestHeaders,
  forwardResponseHeaders,
  hasRequestBody,
  prepareForwardHeaders,
  requestFramingProblem,
  sameName,
} from '../../src/balancer/headers.js';

void test('hop-by-hop request headers and those named in Connection are not passed on', () => {
  const headers: IncomingHttpHeaders = {
    host: 'example.test',
    connection: 'keep-alive, X-Secret, Content-Length',
    'keep-alive': 'timeout=5',
    'proxy-connection': 'keep-alive',
    'proxy-authorization': 'Basic abc',
    te: 'trailers',
    trailer: 'x',
    upgrade: 'websocket',
    expect: '100-continue',
    'x-secret': 'drop me',
    'content-length': '3',
    accept: 'text/html',
  };
  prepareForwardHeaders(headers, '127.0.0.9', 'http');
  assert.deepEqual(headers, {
    host: 'example.test',
    'content-length': '3',
    accept: 'text/html',
    'x-forwarded-for': '127.0.0.9',
    'x-forwarded-proto': 'http',
    'x-forwarded-host': 'example.test',
  });
});

void test('X-Forwarded headers from the client are replaced, never trusted', () => {
  const headers: IncomingHttpHeaders = {
    host: 'a.test',
    'x-forwarded-for': '6.6.6.6',
    'x-forwarded-proto': 'https',
    'x-forwarded-host': 'evil.test',
  };
  prepareForwardHeaders(headers, '127.0.0.1', 'http');
  assert.equal(headers['x-forwarded-for'], '127.0.0.1');
  assert.equal(headers['x-forwarded-proto'], 'http');
  assert.equal(headers['x-forwarded-host'], 'a.test');

  const noHost: IncomingHttpHeaders = { 'x-forwarded-host': 'evil.test' };
  prepareForwardHeaders(noHost, '127.0.0.1', 'http');
  assert.equal(noHost['x-forwarded-host'], undefined);
});

void test('a request body is either a positive Content-Length or chunked', () => {
  assert.equal(hasRequestBody([]), false);
  assert.equal(hasRequestBody(['Host', 'a', 'Content-Length', '0']), false);
  assert.equal(hasRequestBody(['content-length', '12']), true);
  assert.equal(hasRequestBody(['Transfer-Encoding', 'chunked']), true);
});

/** A raw header list as the header object node:http would make of it (lower-case names). */
function asObject(raw: readonly string[]): IncomingHttpHeaders {
  const out: Record<string, string> = {};
  for (let i = 0; i < raw.length; i += 2) out[(raw[i] ?? '').toLowerCase()] = raw[i + 1] ?? '';
  return out;
}

void test('the raw-list form drops and sets the same request headers as the object form, keeping case and order', () => {
  const raw = [
    'Host',
    'example.test',
    'Connection',
    'keep-alive, X-Secret, Content-Length',
    'Keep-Alive',
    'timeout=5',
    'Proxy-Connection',
    'keep-alive',
    'Proxy-Authorization',
    'Basic abc',
    'TE',
    'trailers',
    'Trailer',
    'x',
    'Upgrade',
    'websocket',
    'Expect',
    '100-continue',
    'X-Secret',
    'drop me',
    'X-Forwarded-For',
    '6.6.6.6',
    'X-Forwarded-Proto',
    'https',
    'X-Forwarded-Host',
    'evil.test',
    'Content-Length',
    '3',
    'Accept',
    'text/html',
  ];
  const forwarded = forwardRequestHeaders(raw, '127.0.0.9', 'http');
  assert.deepEqual(forwarded, [
    'Host',
    'example.test',
    'Content-Length',
    '3',
    'Accept',
    'text/html',
    'X-Forwarded-For',
    '127.0.0.9',
    'X-Forwarded-Proto',
    'http',
    'X-Forwarded-Host',
    'example.test',
  ]);
  const object = asObject(raw);
  prepareForwardHeaders(object, '127.0.0.9', 'http');
  assert.deepEqual(asObject(forwarded), object);
});

void test('the raw-list form also drops Transfer-Encoding: the engine that takes it frames the body itself', () => {
  const forwarded = forwardRequestHeaders(['Host', 'a', 'Transfer-Encoding', 'chunked'], undefined, 'http');
  assert.deepEqual(forwarded, [
    'Host',
    'a',
    'X-Forwarded-For',
    '',
    'X-Forwarded-Proto',
    'http',
    'X-Forwarded-Host',
    'a',
  ]);
  const noHost = forwardRequestHeaders(['X-Forwarded-Host', 'evil.test'], '127.0.0.1', 'http');
  assert.deepEqual(noHost, ['X-Forwarded-For', '127.0.0.1', 'X-Forwarded-Proto', 'http']);
});

void test('several Host headers and transfer codings other than chunked are refused', () => {
  assert.equal(requestFramingProblem(['Host', 'a', 'Accept', '*/*']), undefined);
  assert.match(requestFramingProblem(['Host', 'a', 'host', 'b']) ?? '', /more than one Host/);
  assert.equal(requestFramingProblem(['Host', 'a', 'Transfer-Encoding', 'chunked']), undefined);
  assert.equal(requestFramingProblem(['Host', 'a', 'transfer-encoding', ' Chunked ']), undefined);
  assert.match(requestFramingProblem(['Host', 'a', 'Transfer-Encoding', 'gzip']) ?? '', /not supported/);
  assert.match(
    requestFramingProblem(['Host', 'a', 'Transfer-Encoding', 'gzip, chunked']) ?? '',
    /not supported/,
  );
  assert.match(requestFramingProblem(['Accept', '*/*']) ?? '', /no Host/);
  assert.equal(requestFramingProblem(['Accept', '*/*'], false), undefined, 'HTTP/1.0 may leave Host out');
});

void test('hop-by-hop response headers are dropped, the rest kept in order with their case', () => {
  const raw = [
    'Content-Type',
    'text/html',
    'Connection',
    'keep-alive, X-Internal',
    'Keep-Alive',
    'timeout=5',
    'Transfer-Encoding',
    'chunked',
    'X-Internal',
    'secret',
    'X-Served-By',
    'b1',
    'Set-Cookie',
    'a=1',
    'Set-Cookie',
    'b=2',
    'Proxy-Authenticate',
    'Basic',
  ];
  const copy = [...raw];
  assert.deepEqual(forwardResponseHeaders(raw), [
    'Content-Type',
    'text/html',
    'X-Served-By',
    'b1',
    'Set-Cookie',
    'a=1',
    'Set-Cookie',
    'b=2',
  ]);
  assert.deepEqual(raw, copy, 'the upstream response keeps its own headers (node:http reads them again)');
});

void test('a Connection header cannot remove the headers that frame the response', () => {
  assert.deepEqual(forwardResponseHeaders(['Connection', 'Content-Length', 'Content-Length', '5']), [
    'Content-Length',
    '5',
  ]);
});

void test('header names compare without regard to case', () => {
  assert.equal(sameName('Keep-Alive', 'keep-alive'), true);
  assert.equal(sameName('KEEP-ALIVE', 'keep-alive'), true);
  assert.equal(sameName('keep-alivf', 'keep-alive'), false);
  assert.equal(sameName('Keep-Alive2', 'keep-alive'), false);
  assert.equal(sameName('Keep\rAlive', 'keep-alive'), false);
  assert.equal(sameName('', ''), true);
});
