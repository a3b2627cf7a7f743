/**
 * One etcd member on loopback, for tests that need a real etcd but not test hosts (no namespaces,
 * no PM2): ports picked free, a data folder of its own, started as src/hosts/etcd-cluster.ts starts
 * a lab's member, and stopped and removed by the test (t.after) whatever happens.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { TestContext } from 'node:test';
import { runCommand } from '../../src/hosts/command.js';
import { stopChild } from '../../src/hosts/stop-child.js';
import { freePort } from '../../src/net/free-port.js';
import { waitFor } from './wait.js';

export interface LocalEtcd {
  endpoint: string;
  /** etcdctl against it; its stdout, or a thrown error with its stderr. */
  ctl(args: readonly string[]): Promise<string>;
}

export async function startLocalEtcd(t: TestContext): Promise<LocalEtcd> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sb-etcd-'));
  const clientPort = await freePort();
  const peerPort = await freePort();
  const endpoint = `http://127.0.0.1:${clientPort}`;
  const peer = `http://127.0.0.1:${peerPort}`;
  const log = fs.openSync(path.join(dir, 'etcd.log'), 'a');
  const child = spawn(
    'etcd',
    [
      '--name',
      'e1',
      '--data-dir',
      path.join(dir, 'e1'),
      '--listen-client-urls',
      endpoint,
      '--advertise-client-urls',
      endpoint,
      '--listen-peer-urls',
      peer,
      '--initial-advertise-peer-urls',
      peer,
      '--initial-cluster',
      `e1=${peer}`,
      '--initial-cluster-state',
      'new',
      '--heartbeat-interval',
      '100',
      '--election-timeout',
      '1000',
      '--grpc-keepalive-min-time',
      '500ms',
      '--logger',
      'zap',
      '--log-level',
      'warn',
    ],
    { stdio: ['ignore', log, log] },
  );
  fs.closeSync(log);
  child.on('error', () => undefined);
  t.after(async () => {
    await stopChild(child, 2000, 'SIGTERM');
    fs.rmSync(dir, { recursive: true, force: true });
  });
  const ctl = async (args: readonly string[]): Promise<string> => {
    const run = await runCommand('etcdctl', ['--endpoints', endpoint, '--command-timeout', '2s', ...args], {
      timeoutMs: 10_000,
    });
    if (run.code !== 0) throw new Error(`etcdctl ${args.join(' ')}: ${run.stderr.trim()}`);
    return run.stdout;
  };
  await waitFor(
    async () => {
      if (child.exitCode !== null) {
        throw new Error(
          `etcd exited (${child.exitCode}): ${fs.readFileSync(path.join(dir, 'etcd.log'), 'utf8')}`,
        );
      }
      // etcdctl says "is healthy" on stderr; its exit code is what counts.
      return await ctl(['endpoint', 'health']).then(
        () => true,
        () => false,
      );
    },
    'the local etcd to be healthy',
    { timeoutMs: 20_000 },
  );
  return { endpoint, ctl };
}
