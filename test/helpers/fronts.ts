/**
 * Front balancers for tests: keepalived's state file written as its notify hook writes it, and a
 * balancer started as a front (its state file, name and VIP) on a real etcd. Every file and
 * process is removed by the test (t.after).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { TestContext } from 'node:test';
import type { FrontStatus } from '../../src/balancer/front/front-status.js';
import { startBalancer, startHttpServer, type Balancer } from './balancer-fleet.js';
import type { LocalEtcd } from './local-etcd.js';

/** The virtual IP of the tests' fronts (display only: nothing listens on it). */
export const TEST_VIP = '10.213.7.100';

export function stateDir(t: TestContext): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sb-vrrp-'));
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** What keepalived's notify hook does: the whole line to `<file>.tmp`, renamed over `<file>`. */
export function writeState(file: string, text: string): void {
  fs.writeFileSync(`${file}.tmp`, text);
  fs.renameSync(`${file}.tmp`, file);
}

/** The status's front part; throws when the balancer is no front. */
export async function frontOf(lb: Balancer): Promise<FrontStatus> {
  const f = (await lb.status()).balancer.front;
  if (f === null || f === undefined) throw new Error('the status has no front');
  return f;
}

export interface Front {
  lb: Balancer;
  /** Its keepalived state file. */
  file: string;
}

/** A front named `name` on etcd discovery at `prefix`, its state file saying `state` (`MASTER 150`). */
export async function startFront(
  t: TestContext,
  etcd: LocalEtcd,
  prefix: string,
  name: string,
  state: string,
): Promise<Front> {
  const file = path.join(stateDir(t), `${name}-state`);
  writeState(file, `${state} ${Date.now()}\n`);
  // The pool comes from etcd (empty here); --upstreams must still name one to parse.
  const unused = await startHttpServer(t, (_req, res) => res.end('ok'));
  const lb = await startBalancer(
    t,
    [unused.port],
    [
      '--discovery',
      'etcd',
      '--etcd-endpoints',
      etcd.endpoint,
      '--etcd-prefix',
      prefix,
      '--etcd-keepalive',
      '1s',
      '--etcd-timeout',
      '1s',
      '--vrrp-state-file',
      file,
      '--front-name',
      name,
      '--vip',
      TEST_VIP,
    ],
  );
  return { lb, file };
}
