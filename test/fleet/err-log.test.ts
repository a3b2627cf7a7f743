/**
 * Under PM2, an app's errors land in its .err.log (and so in `pm2 logs --err`), not in .out.log:
 * a backend started on a port that is already taken logs its EADDRINUSE there.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { test } from 'node:test';
import { createPm2Home } from '../helpers/pm2-home.js';
import { DIST } from '../helpers/processes.js';
import { waitFor } from '../helpers/wait.js';

const read = (file: string) => (fs.existsSync(file) ? fs.readFileSync(file, 'utf8') : '');

void test('a backend on a taken port: the ERROR line is in <app>.err.log, not in .out.log', async (t) => {
  const holder = net.createServer();
  await new Promise<void>((resolve) => holder.listen(0, '127.0.0.1', resolve));
  t.after(() => new Promise<void>((resolve) => holder.close(() => resolve())));
  const port = (holder.address() as net.AddressInfo).port;

  const pm2 = await createPm2Home(t);
  const out = path.join(pm2.home, 'taken.out.log');
  const err = path.join(pm2.home, 'taken.err.log');
  const started = await pm2.pm2(
    [
      'start',
      path.join(DIST, 'backend.js'),
      '--name',
      'taken',
      '--no-autorestart',
      '--no-pmx',
      '--merge-logs',
      '--output',
      out,
      '--error',
      err,
    ],
    { PORT: String(port), HOST: '127.0.0.1', NAME: 'taken', LOG_FORMAT: 'text', LOG_LEVEL: 'info' },
  );
  for (const entry of await pm2.jlist()) pm2.track(entry.pid);
  assert.equal(started.code, 0, `pm2 start failed:\n${started.stdout}\n${started.stderr}`);

  const line = await waitFor(
    () =>
      read(err)
        .split('\n')
        .find((l) => / ERROR .*EADDRINUSE/.test(l)),
    'the EADDRINUSE line in the err log',
    { timeoutMs: 20_000 },
  );
  assert.match(line, new RegExp(`\\[taken\\] cannot listen on 127\\.0\\.0\\.1:${port}`));
  assert.doesNotMatch(read(out), /EADDRINUSE/);
});
