/**
 * docs/architecture.md cannot drift from the code: every file under src/balancer/ and every entry
 * point is named in it (in backticks), and every source file it names exists. A file added,
 * moved or removed without the page following fails here.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { PROJECT_ROOT } from '../../src/config/common.js';

const SRC = path.join(PROJECT_ROOT, 'src');
const BALANCER = path.join(SRC, 'balancer');
const page = fs.readFileSync(path.join(PROJECT_ROOT, 'docs', 'architecture.md'), 'utf8');

/** Everything the page writes in backticks, split at commas and spaces (a cell may list several). */
const named = new Set(
  [...page.matchAll(/`([^`\n]+)`/g)].flatMap((m) => (m[1] ?? '').split(/[\s,]+/)).filter(Boolean),
);

function sourcesUnder(dir: string): string[] {
  return fs.readdirSync(dir, { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('.ts'));
}

/** The programs: src/*.ts, and the fleet's command-line scripts (npm start, status, reload). */
function entryPoints(): string[] {
  const top = fs
    .readdirSync(SRC)
    .filter((f) => f.endsWith('.ts') && f !== 'errors.ts' && f !== 'logger.ts')
    .map((f) => `src/${f}`);
  const cli = fs
    .readdirSync(path.join(SRC, 'fleet'))
    .filter((f) => f.startsWith('cli-'))
    .map((f) => `src/fleet/${f}`);
  return [...top, ...cli];
}

void test('every file under src/balancer/ is named in docs/architecture.md, by its path from there', () => {
  const files = sourcesUnder(BALANCER);
  assert.ok(files.length > 40, 'the balancer has its files');
  const missing = files.filter((f) => !named.has(f));
  assert.deepEqual(missing, [], `name these in docs/architecture.md: ${missing.join(', ')}`);
});

void test('every entry point is named in docs/architecture.md', () => {
  const missing = entryPoints().filter((f) => !named.has(f));
  assert.deepEqual(missing, [], `name these in docs/architecture.md: ${missing.join(', ')}`);
});

void test('every source file docs/architecture.md names exists', () => {
  const exists = (name: string): boolean =>
    [PROJECT_ROOT, SRC, BALANCER].some((root) => fs.existsSync(path.join(root, name)));
  const stale = [...named].filter((n) => /^[\w./-]+\.(ts|c|cjs)$/.test(n) && !exists(n));
  assert.deepEqual(stale, [], `docs/architecture.md names files that are gone: ${stale.join(', ')}`);
});
