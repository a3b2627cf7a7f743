/**
 * What the shared zone costs a request on its own, apart from everything else a request does:
 * the zone work of one round-robin pick and one attempt (a ticket from the shared cursor, the
 * epoch, the picked slot's gate, in-flight up and down in the process's row) timed in a loop, in
 * one process and then in two processes at once on the same shared memory, where the cursor's
 * cache line moves between the cores on every ticket (the worst case: two workers picking flat
 * out). `npm run bench:zone` prints ns per request-worth of zone work for each.
 */
import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { createSharedMemory, mapSharedMemory } from '../src/balancer/cluster/shared-memory.js';
import { Zone, ZONE_BYTES } from '../src/balancer/zone.js';

const ITERATIONS = 5_000_000;
const SLOTS = 4;

/** ns per iteration of one request's zone work on `zone`, from `row`. */
function spin(zone: Zone, row: number): number {
  let sink = 0;
  const started = process.hrtime.bigint();
  for (let i = 0; i < ITERATIONS; i++) {
    const slot = zone.ticket() % SLOTS;
    sink += zone.epoch;
    if (zone.selectable(slot)) {
      zone.addInFlight(row, slot, 1);
      zone.addInFlight(row, slot, -1);
    }
  }
  const ns = Number(process.hrtime.bigint() - started) / ITERATIONS;
  return sink === -1 ? -1 : ns;
}

function prepare(zone: Zone): void {
  for (let slot = 0; slot < SLOTS; slot++) zone.decide(slot, { down: false, admin: 'ready', weight: 1 });
}

if (process.argv[2] === 'child') {
  const zone = new Zone(mapSharedMemory(Number(process.argv[3])), false);
  const row = Number(process.argv[4]);
  process.send?.(spin(zone, row));
  process.exit(0);
} else {
  const fd = createSharedMemory(ZONE_BYTES);
  const zone = new Zone(mapSharedMemory(fd), true);
  prepare(zone);
  const rows = [zone.claimRow(1), zone.claimRow(2)];
  spin(zone, rows[0] ?? 0); // warm-up
  const one = spin(zone, rows[0] ?? 0);
  const self = fileURLToPath(import.meta.url);
  const runs = await Promise.all(
    rows.map(
      (row) =>
        new Promise<number>((resolve, reject) => {
          const child = fork(self, ['child', '4', String(row)], {
            stdio: ['ignore', 'inherit', 'inherit', 'ipc', fd],
          });
          child.on('message', (ns) => resolve(Number(ns)));
          child.on('error', reject);
        }),
    ),
  );
  const private_ = Zone.private();
  prepare(private_);
  const privateNs = spin(private_, private_.claimRow(1));
  const fmt = (n: number) => n.toFixed(0).padStart(5);
  console.log(
    `zone work per request (ticket, epoch, gate, in-flight up and down), ${ITERATIONS} iterations:`,
  );
  console.log(`  private zone (one process, --workers 1):      ${fmt(privateNs)} ns`);
  console.log(`  shared zone, one process picking:             ${fmt(one)} ns`);
  console.log(
    `  shared zone, two processes picking at once:   ${fmt(runs[0] ?? 0)} ns and ${fmt(runs[1] ?? 0)} ns`,
  );
}
