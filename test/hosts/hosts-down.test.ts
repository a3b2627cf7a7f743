/**
 * `npm run hosts:down` removes the labs this checkout noted and leaves every other lab on the
 * machine alone (another checkout's, a running test's), naming it; `--tag` removes one anyway, and
 * a malformed tag exits 2 before anything is touched. The "other lab" here is a bare network (a
 * bridge and one namespace, no etcd), which is all hosts:down looks for.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { HostNetwork, labTags } from '../../src/hosts/network.js';
import { readAllLabNotes } from '../../src/hosts/lab-notes.js';
import { hostsSupportProblems } from '../../src/hosts/support.js';
import { runNode } from '../helpers/processes.js';

void test("hosts:down leaves a lab that is not this checkout's, and --tag removes it", async (t) => {
  const problems = await hostsSupportProblems({ etcd: false });
  if (problems.length > 0) throw new Error(`cannot build test hosts: ${problems.join('; ')}`);
  const tag = `t${Math.random().toString(36).slice(2, 5).padEnd(3, '0')}`;
  const network = await HostNetwork.create(tag, 1);
  t.after(() => network.destroy());

  const bad = await runNode('hosts-down', ['--tag', 'NOPE!']);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /--tag: "NOPE!" is not a lab tag/);
  assert.ok((await labTags()).includes(tag), 'a bad tag touched nothing');

  const plain = await runNode('hosts-down', [], {}, 60_000);
  assert.equal(plain.code, 0, plain.stderr);
  assert.match(plain.stdout, new RegExp(`left alone, not this checkout's: lab .*${tag}`));
  assert.ok((await labTags()).includes(tag), "another checkout's lab is still there");

  const asked = await runNode('hosts-down', ['--tag', tag], {}, 60_000);
  assert.equal(asked.code, 0, asked.stderr);
  assert.match(asked.stdout, new RegExp(`lab ${tag} removed`));
  assert.ok(!(await labTags()).includes(tag), 'the lab asked for is gone');
});

void test('hosts:up --fronts 2 with a keepalived that cannot run says why, exits 1 and builds nothing', async () => {
  const notesBefore = (await readAllLabNotes()).map((n) => n.tag);
  const up = await runNode('hosts-up', ['--hosts', '3', '--backends', '1', '--fronts', '2'], {
    KEEPALIVED_BIN: '/nonexistent/keepalived',
  });
  assert.equal(up.code, 1, up.stdout);
  assert.match(
    up.stderr,
    /keepalived cannot run here \(\/nonexistent\/keepalived: .*\); apt-get install keepalived/,
  );
  // It checks before it builds: no lab was started (each says `lab <tag>: ...` as it goes), none noted.
  assert.doesNotMatch(up.stdout, /^lab /m, 'no lab was started');
  assert.deepEqual(
    (await readAllLabNotes()).map((n) => n.tag),
    notesBefore,
  );
});
