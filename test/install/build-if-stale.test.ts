/**
 * scripts/build-if-stale.js on a built tree without TypeScript (a production install): a tree whose
 * times say stale but whose compiled files are all there is used as built; one missing a compiled
 * file is refused with the file named; and a real `npm ci --omit=dev` of a touched copy of the
 * built tree succeeds (its `prepare` runs the script). Each in a temporary copy, removed after.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { test, type TestContext } from 'node:test';
import { promisify } from 'node:util';
import { ROOT, runNode } from '../helpers/processes.js';

const run = promisify(execFile);

/** What a built tree ships: sources, build output, settings, the native part's sources. */
const TREE = [
  'package.json',
  'package-lock.json',
  'tsconfig.json',
  'tsconfig.build.json',
  'binding.gyp',
  'ecosystem.config.cjs',
  'scripts',
  'native',
  'src',
  'bench',
  'types',
  'dist',
];

/** A copy of the built tree (no node_modules, so no TypeScript), every file with a fresh time. */
async function builtCopy(t: TestContext): Promise<string> {
  await fs.access(path.join(ROOT, 'dist', 'src', 'balancer.js')).catch(() => {
    throw new Error('dist/ is not built here: run `npm run build` first');
  });
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'built-tree-'));
  t.after(() => fs.rm(dir, { recursive: true, force: true }));
  for (const entry of TREE) {
    const filter = (source: string) => !source.includes(`${path.sep}results${path.sep}`);
    await fs.cp(path.join(ROOT, entry), path.join(dir, entry), { recursive: true, filter });
  }
  // Copied without times, then a settings file touched: every compiled file is older than it.
  const later = new Date(Date.now() + 60_000);
  await fs.utimes(path.join(dir, 'package.json'), later, later);
  return dir;
}

void test('a built tree that looks stale is used as built when TypeScript is not installed', async (t) => {
  const dir = await builtCopy(t);
  const result = await runNode(path.join(dir, 'scripts', 'build-if-stale.js'), []);
  assert.equal(result.code, 0, result.stderr);
  assert.match(result.stdout, /using dist\/ as built/);
});

void test('a tree missing a compiled file is refused, naming it, and nothing is written', async (t) => {
  const dir = await builtCopy(t);
  const gone = path.join(dir, 'dist', 'src', 'fleet', 'cli-start.js');
  await fs.rm(gone);
  const result = await runNode(path.join(dir, 'scripts', 'build-if-stale.js'), []);
  assert.equal(result.code, 1);
  assert.match(
    result.stderr,
    /dist\/ is not built \(1 of \d+ compiled files are missing, e\.g\. dist\/src\/fleet\/cli-start\.js\)/,
  );
  await assert.rejects(fs.access(gone));
});

void test('npm ci --omit=dev of a touched built tree succeeds and leaves a runnable fleet CLI', async (t) => {
  const dir = await builtCopy(t);
  await run('npm', ['ci', '--omit=dev', '--no-audit', '--no-fund'], {
    cwd: dir,
    timeout: 200_000,
    env: { ...process.env, npm_config_loglevel: 'error' },
  });
  await assert.rejects(fs.access(path.join(dir, 'node_modules', 'typescript')));
  const version = await run(process.execPath, [
    path.join(dir, 'dist', 'src', 'fleet', 'cli-status.js'),
    '--help',
  ]);
  assert.match(version.stdout, /npm run status/);
});
