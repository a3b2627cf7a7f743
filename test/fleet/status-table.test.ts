/** `npm run status` shows the fleet's namespace alone, and says how many other apps it left out. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Pm2App } from '../../src/supervisor/pm2-app.js';
import { formatStatusTable } from '../../src/fleet/status-table.js';

function app(pmId: number, name: string, namespace: string, extra: Partial<Pm2App> = {}): Pm2App {
  return {
    pmId,
    name,
    namespace,
    status: 'online',
    pid: 4000 + pmId,
    restarts: 0,
    uptimeMs: 1500,
    memoryBytes: 50 * 1024 * 1024,
    cpuPercent: 1,
    env: {},
    outLogPath: null,
    errLogPath: null,
    ...extra,
  };
}

void test('the namespace as a table, in pm_id order, with the other namespaces counted', () => {
  const text = formatStatusTable('fleet', [
    app(2, 'balancer', 'fleet', { status: 'stopped', pid: null, uptimeMs: null, restarts: 3 }),
    app(0, 'balancer', 'other'),
    app(1, 'web-member-1', 'fleet'),
  ]);
  assert.equal(
    text,
    [
      'PM2 namespace fleet (1 app of other namespaces not shown):',
      'id  name          status   pid   uptime  restarts  cpu  memory',
      '1   web-member-1  online   4001  1.50 s  0         1%   50.0 MiB',
      '2   balancer      stopped  -     -       3         1%   50.0 MiB',
      '',
    ].join('\n'),
  );
});

void test('no app of the namespace: one line saying so', () => {
  assert.equal(formatStatusTable('fleet', []), 'PM2 runs no app in namespace fleet.\n');
  assert.equal(
    formatStatusTable('fleet', [app(0, 'x', 'a'), app(1, 'y', 'b')]),
    'PM2 runs no app in namespace fleet (2 apps of other namespaces not shown).\n',
  );
});
