/**
 * `--version` on every entry point a person runs (src/*.ts, the fleet's CLIs, the benchmarks'
 * entry points): the package's version on stdout, exit 0, nothing started.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { DIST, ROOT, runNode } from '../helpers/processes.js';

const version = (JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { version: string })
  .version;

/** Started by the balancer, never by hand, or not entry points at all. */
const NOT_ENTRY_POINTS = new Set(['balancer-holder', 'errors', 'logger']);

const entryPoints = [
  ...fs
    .readdirSync(path.join(ROOT, 'src'))
    .filter((f) => f.endsWith('.ts'))
    .map((f) => f.slice(0, -3))
    .filter((name) => !NOT_ENTRY_POINTS.has(name)),
  ...fs
    .readdirSync(path.join(ROOT, 'src', 'fleet'))
    .filter((f) => /^cli-.*\.ts$/.test(f))
    .map((f) => `fleet/${f.slice(0, -3)}`),
].map((name) => path.join(DIST, `${name}.js`));
const benchEntryPoints = ['bench-all', 'hosts-bench', 'fuzz-h1-parser', 'latency-load', 'ws-echo-load'].map(
  (name) => path.join(ROOT, 'dist', 'bench', `${name}.js`),
);

void test('every entry point prints the version for --version and exits 0', async () => {
  for (const file of [...entryPoints, ...benchEntryPoints]) {
    const result = await runNode(file, ['--version'], { PM2_HOME: '/nonexistent-pm2-home' });
    assert.equal(result.code, 0, `${file}: ${result.stderr}`);
    assert.equal(result.stdout, `${version}\n`, file);
  }
});

void test('bench:hosts and fuzz:h1 print their help instead of running', async () => {
  for (const name of ['hosts-bench', 'fuzz-h1-parser']) {
    const result = await runNode(path.join(ROOT, 'dist', 'bench', `${name}.js`), ['--help']);
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /Options \(flags win over environment variables\)/);
    assert.doesNotMatch(result.stdout, /lab |cases from seed/);
  }
});
