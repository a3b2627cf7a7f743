/**
 * The option kit's parts every entry point shares: `--version`, and defaults in `--help` shown as
 * a person would type them (durations with their unit, lists comma-separated).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  durationParser,
  formatDurationMs,
  formatHelp,
  intParser,
  listParser,
  parseDurationMs,
  parseOptions,
  parseString,
  type OptionSpecs,
} from '../../src/config/options.js';

const specs = {
  grace: { flag: 'grace', description: 'Grace', default: 1000, parse: durationParser(0) },
  long: { flag: 'long', description: 'Long', default: 120_000, parse: durationParser(0) },
  odd: { flag: 'odd', description: 'Odd', default: 1500, parse: durationParser(0) },
  tiny: { flag: 'tiny', description: 'Tiny', default: 250, parse: durationParser(0) },
  count: { flag: 'count', description: 'Count', default: 1000, parse: intParser(0) },
  levels: { flag: 'levels', description: 'Levels', default: [1, 5, 10], parse: listParser(intParser(1)) },
  names: { flag: 'names', description: 'Names', default: ['a', 'b'], parse: listParser(parseString) },
} satisfies OptionSpecs;

void test('--version is recognised beside the options, and a bad option still fails', () => {
  const parsed = parseOptions(specs, { argv: ['--version'], env: {} });
  assert.ok(parsed.ok);
  assert.equal(parsed.version, true);
  assert.equal(parsed.help, false);
  const plain = parseOptions(specs, { argv: [], env: {} });
  assert.ok(plain.ok);
  assert.equal(plain.version, false);
  const bad = parseOptions(specs, { argv: ['--version', '--count', 'x'], env: {} });
  assert.equal(bad.ok, false);
});

void test('help shows duration defaults as durations, other numbers as numbers, lists comma-separated', () => {
  const help = formatHelp('t', specs);
  for (const [flag, shown] of [
    ['grace', '1s'],
    ['long', '2m'],
    ['odd', '1.5s'],
    ['tiny', '250ms'],
    ['count', '1000'],
    ['levels', '1,5,10'],
    ['names', 'a,b'],
  ] as const) {
    assert.match(help, new RegExp(`--${flag}\\n.*\\(default: ${shown.replace('.', '\\.')}\\)`), flag);
  }
  assert.match(help, /--version\n/);
});

void test('a duration shown in help reads back as the same duration', () => {
  for (const ms of [0, 1, 250, 999, 1000, 1500, 2000, 59_900, 60_000, 90_000, 120_000, 3_600_000]) {
    assert.equal(parseDurationMs(formatDurationMs(ms)), ms, formatDurationMs(ms));
  }
});
