/**
 * The shared zone's layout and rules, on private memory (the same code runs over a shared
 * mapping), and one mapping shared by real processes: Atomics on it from several processes add up.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fork } from 'node:child_process';
import { createSharedMemory, mapSharedMemory } from '../../src/balancer/cluster/shared-memory.js';
import { MAX_ROWS, Zone, ZONE_BYTES } from '../../src/balancer/zone.js';
import { closeFd } from '../../src/balancer/handover/fd-passing.js';

void test('a fresh zone has every slot vacant; a decision makes one selectable, or says why not', () => {
  const zone = Zone.private();
  assert.equal(zone.selectable(0), false);
  assert.equal(zone.vacant(0), true);
  const epoch = zone.epoch;
  zone.decide(0, { down: false, admin: 'ready', weight: 2 });
  assert.equal(zone.selectable(0), true);
  assert.equal(zone.weight(0), 2);
  assert.ok(zone.epoch > epoch, 'a slot taken moves the epoch (workers rebuild their rotation)');
  for (const [decision, bit] of [
    [{ down: true, admin: 'ready', weight: 2 }, 'down'],
    [{ down: false, admin: 'drain', weight: 2 }, 'drain'],
    [{ down: false, admin: 'maint', weight: 2 }, 'maint'],
    [{ down: false, admin: 'ready', weight: 0 }, 'weight 0'],
  ] as const) {
    zone.decide(0, decision);
    assert.equal(zone.selectable(0), false, bit);
  }
  zone.decide(0, { down: false, admin: 'maint', weight: 2 });
  assert.equal(zone.admin(0), 'maint');
  zone.decide(0, { down: false, admin: 'ready', weight: 2 });
  zone.markDown(0);
  assert.equal(zone.selectable(0), false, "a worker's take-out holds for everyone");
  zone.vacate(0);
  assert.equal(zone.vacant(0), true);
});

void test('in-flight counts are per row and summed; a released row counts nothing; a slot is idle only once empty', () => {
  const zone = Zone.private();
  const a = zone.claimRow(101);
  const b = zone.claimRow(102);
  assert.notEqual(a, b);
  zone.addInFlight(a, 3, 1);
  zone.addInFlight(a, 3, 1);
  zone.addInFlight(b, 3, 1);
  assert.equal(zone.inFlight(3), 3);
  zone.addInFlight(b, 3, -1);
  assert.equal(zone.inFlight(3), 2);
  assert.deepEqual(zone.rows(), [
    { row: a, pid: 101 },
    { row: b, pid: 102 },
  ]);
  assert.equal(zone.idle(3), false, 'vacant but with requests in flight: not reused yet');
  zone.releaseRow(a);
  assert.equal(zone.inFlight(3), 0);
  assert.equal(zone.idle(3), true);
  assert.equal(zone.claimRow(103), a, 'a released row is taken again');
  assert.equal(zone.inFlight(3), 0, 'and starts at zero');
});

void test('every row taken: claimRow says so instead of sharing one', () => {
  const zone = Zone.private();
  for (let i = 0; i < MAX_ROWS; i++) assert.notEqual(zone.claimRow(1000 + i), -1);
  assert.equal(zone.claimRow(9999), -1);
});

void test('one rescuer is elected; the winner may ask again; cleared, the next election is open', () => {
  const zone = Zone.private();
  assert.equal(zone.electRescuer(11), true);
  assert.equal(zone.electRescuer(12), false);
  assert.equal(zone.electRescuer(11), true);
  assert.equal(zone.rescuer, 11);
  zone.clearRescuer();
  assert.equal(zone.electRescuer(12), true);
});

void test('a zone that another version laid out (or that is not a zone) is refused', () => {
  assert.throws(() => new Zone(new ArrayBuffer(ZONE_BYTES), false), /not laid out by this version/);
  assert.throws(() => new Zone(new ArrayBuffer(16), true), /needs/);
});

void test('two processes counting on one shared mapping: the tickets and counts add up exactly', async () => {
  const fd = createSharedMemory(ZONE_BYTES);
  try {
    const zone = new Zone(mapSharedMemory(fd), true);
    const child = `
      const { mapSharedMemory } = await import(${JSON.stringify(new URL('../../src/balancer/cluster/shared-memory.ts', import.meta.url).href)});
      const { Zone } = await import(${JSON.stringify(new URL('../../src/balancer/zone.ts', import.meta.url).href)});
      const zone = new Zone(mapSharedMemory(3), false);
      for (let i = 0; i < 20000; i++) { zone.ticket(); zone.addInFlight(Number(process.argv[1]), 5, 1); }
    `;
    const runs = [0, 1].map((row) => {
      zone.claimRow(100 + row);
      const p = fork('--input-type=module', [String(row)], {
        execArgv: ['--import', 'tsx', '-e', child],
        stdio: ['ignore', 'inherit', 'inherit', fd, 'ipc'],
      });
      return new Promise<number | null>((resolve) => p.on('exit', resolve));
    });
    assert.deepEqual(await Promise.all(runs), [0, 0]);
    assert.equal(zone.ticket(), 40000, 'every ticket of both processes was counted');
    assert.equal(zone.inFlight(5), 40000);
  } finally {
    closeFd(fd);
  }
});
