import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import net from 'node:net';
import { canListen, describeHolders, findPortHolders, parseSsHolders } from '../../src/fleet/port-holder.js';

const SS = [
  'LISTEN    0      511        127.0.0.1:31444      0.0.0.0:*     users:(("nginx",pid=4242,fd=6),("nginx",pid=4243,fd=6))',
  'TIME-WAIT 0      0          127.0.0.1:31444      127.0.0.1:31002',
  'TIME-WAIT 0      0          127.0.0.1:31444      127.0.0.1:31003',
  'ESTAB     0      0          127.0.0.1:31555      127.0.0.1:31004  users:(("node",pid=1,fd=3))',
].join('\n');

void test('the holders of a port are read from ss: listeners by pid and name, other sockets by state', () => {
  const h = parseSsHolders(SS, 31444);
  assert.deepEqual(h, { listeners: ['pid 4242 (nginx)', 'pid 4243 (nginx)'], others: { 'TIME-WAIT': 2 } });
  assert.equal(
    describeHolders(h),
    'listened on by pid 4242 (nginx), pid 4243 (nginx); held by 2 sockets in TIME-WAIT',
  );
  assert.equal(describeHolders(parseSsHolders(SS, 1)), null);
});

void test('a port this test listens on is reported as taken, by this process', async (t) => {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(() => server.close());
  const port = (server.address() as net.AddressInfo).port;
  assert.equal(await canListen(port, '127.0.0.1'), false);
  const holders = await findPortHolders(port);
  // The process's name as the kernel has it: `node`, or `node-MainThread` on newer Node lines.
  const name = fs.readFileSync('/proc/self/comm', 'utf8').trim();
  assert.deepEqual(holders.listeners, [`pid ${process.pid} (${name})`]);
});
