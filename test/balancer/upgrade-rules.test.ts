import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  relayedResponseHead,
  switchingProtocolsHead,
  upgradeRefusal,
  upgradeRequestHeaders,
} from '../../src/balancer/upgrade-rules.js';
import { closeSchedule } from '../../src/balancer/close-spread.js';

const ws = ['Host', 'a', 'Connection', 'Upgrade', 'Upgrade', 'websocket', 'Sec-WebSocket-Key', 'k'];

void test('a WebSocket GET without a body is passed on', () => {
  assert.equal(upgradeRefusal({ method: 'GET', url: '/ws/echo', rawHeaders: ws }), undefined);
});

void test('h2c and h2 are never forwarded, in any case or list position', () => {
  for (const value of ['h2c', 'H2C', 'websocket, h2c', 'h2']) {
    const raw = ['Host', 'a', 'Connection', 'Upgrade', 'Upgrade', value];
    assert.match(upgradeRefusal({ method: 'GET', url: '/', rawHeaders: raw }) ?? '', /never forwarded/);
  }
});

void test('upgrades on other methods, with a body, or without a Host are refused with a reason', () => {
  assert.match(upgradeRefusal({ method: 'POST', url: '/', rawHeaders: ws }) ?? '', /must be a GET, not POST/);
  const withBody = [...ws, 'Content-Length', '3'];
  assert.match(
    upgradeRefusal({ method: 'GET', url: '/', rawHeaders: withBody }) ?? '',
    /must not carry a body/,
  );
  const chunked = [...ws, 'Transfer-Encoding', 'chunked'];
  assert.match(
    upgradeRefusal({ method: 'GET', url: '/', rawHeaders: chunked }) ?? '',
    /must not carry a body/,
  );
  assert.match(upgradeRefusal({ method: 'GET', url: '/', rawHeaders: ws.slice(2) }) ?? '', /no Host/);
  const noUpgrade = ['Host', 'a', 'Connection', 'Upgrade'];
  assert.match(
    upgradeRefusal({ method: 'GET', url: '/', rawHeaders: noUpgrade }) ?? '',
    /without an Upgrade/,
  );
});

void test('the upstream gets Connection: upgrade and the Upgrade token, the X-Forwarded trio replaced', () => {
  const raw = [...ws, 'X-Forwarded-For', '6.6.6.6', 'Keep-Alive', 'timeout=5'];
  const out = upgradeRequestHeaders(raw, '127.0.0.9', 'https');
  assert.deepEqual(out, [
    'Host',
    'a',
    'Sec-WebSocket-Key',
    'k',
    'X-Forwarded-For',
    '127.0.0.9',
    'X-Forwarded-Proto',
    'https',
    'X-Forwarded-Host',
    'a',
    'Connection',
    'upgrade',
    'Upgrade',
    'websocket',
  ]);
});

void test("the client's 101 keeps end-to-end headers and the upstream's Upgrade; other answers close", () => {
  const raw = [
    'Upgrade',
    'websocket',
    'Connection',
    'Upgrade',
    'Sec-WebSocket-Accept',
    'x',
    'Keep-Alive',
    'a',
  ];
  assert.equal(
    switchingProtocolsHead(raw),
    'HTTP/1.1 101 Switching Protocols\r\nSec-WebSocket-Accept: x\r\nConnection: upgrade\r\nUpgrade: websocket\r\n\r\n',
  );
  assert.equal(
    relayedResponseHead(404, 'Not Found', ['Content-Length', '3', 'Transfer-Encoding', 'chunked']),
    'HTTP/1.1 404 Not Found\r\nContent-Length: 3\r\nConnection: close\r\n\r\n',
  );
});

void test('closing is spread evenly over the window, the first at once and the last before it ends', () => {
  assert.deepEqual(closeSchedule(4, 1000), [0, 250, 500, 750]);
  assert.deepEqual(closeSchedule(1, 1000), [0]);
  assert.deepEqual(closeSchedule(0, 1000), []);
  assert.deepEqual(closeSchedule(3, 0), [0, 0, 0]);
});
