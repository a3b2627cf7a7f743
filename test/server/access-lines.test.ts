/**
 * The logger's access lines, in a real child process writing to a pipe: the same text as an info
 * line through winston in both formats (with colour too), their order kept with the other lines
 * of stdout and stderr, none at LOG_LEVEL=warn, and none lost when the process exits in the same
 * turn: by process.exit, by an uncaught exception, or after close.
 */
import assert from 'node:assert/strict';
import path from 'node:path';
import { test } from 'node:test';
import { pathToFileURL } from 'node:url';
import { runCommand, type CommandResult } from '../../src/hosts/command.js';
import { ROOT } from '../helpers/processes.js';

const LOGGER = pathToFileURL(path.join(ROOT, 'src', 'logger.ts')).href;

/** The body of a module script with `logger` made from `settings`; stdout and stderr apart, or as one. */
function runLogging(settings: object, body: string, merged = false): Promise<CommandResult> {
  const script = `
    import { createLogger } from ${JSON.stringify(LOGGER)};
    const logger = createLogger(${JSON.stringify({ name: 'probe', ...settings })});
    ${body}
  `;
  const node = [process.execPath, '--import', 'tsx', '--input-type=module', '-e', script];
  if (!merged) return runCommand(node[0] ?? 'node', node.slice(1), { cwd: ROOT });
  // One pipe for both streams, as a terminal or `2>&1` shows them.
  return runCommand('/bin/sh', ['-c', 'exec "$@" 2>&1', 'sh', ...node], { cwd: ROOT });
}

/** The fields of a balancer's access line, with the characters JSON and a terminal care about. */
const FIELDS = {
  event: 'access',
  method: 'GET',
  url: '/caf\u00e9?q="a\\b"',
  upstream: null,
  status: 200,
  ms: 1.234,
  retries: 0,
  client: '127.0.0.1',
  bytes: 5120,
  host: 'localhost:8080',
  userAgent: 'curl/8.5 "x"',
  requestId: '3fa0c1-2b',
  skipped: undefined,
  nested: { b: [1, { d: 1, c: 2 }], a: 'x' },
};

const withoutTime = (line: string): string =>
  line.replace(/"timestamp":"[^"]+"/, '"timestamp":"T"').replace(/^\S+Z /, 'T ');

for (const settings of [
  { format: 'text', color: false },
  { format: 'text', color: true },
  { format: 'json', color: false },
] as const) {
  void test(`${settings.format}${settings.color ? ', coloured' : ''}: an access line reads exactly as the same info line through winston`, async () => {
    const run = await runLogging(
      { level: 'info', ...settings },
      `const fields = ${JSON.stringify(FIELDS)};
       logger.info('GET /caf\u00e9 -> balancer 200 1.2 ms', fields);
       logger.access('GET /caf\u00e9 -> balancer 200 1.2 ms', fields);
       await logger.close();`,
    );
    assert.equal(run.code, 0, run.stderr);
    const lines = run.stdout.split('\n');
    assert.equal(lines.length, 3, run.stdout);
    assert.equal(lines[2], '');
    assert.equal(withoutTime(lines[1] ?? ''), withoutTime(lines[0] ?? ''));
    if (settings.format === 'json') {
      const parsed = JSON.parse(lines[1] ?? '') as Record<string, unknown>;
      assert.equal(parsed.service, 'probe');
      assert.equal(parsed.level, 'info');
      assert.equal(parsed.url, FIELDS.url);
    } else {
      assert.match(
        lines[1] ?? '',
        /^\d{4}-\d\d-\d\dT[\d:.]+Z \S*INFO \S* ?\[probe\] GET \/caf\u00e9 -> balancer/,
      );
    }
  });
}

void test('access lines keep their order with the lines around them, on stdout and across to stderr', async () => {
  const run = await runLogging(
    { level: 'info', format: 'text' },
    `logger.access('a1', {});
     logger.access('a2', {});
     logger.info('info-1');
     logger.access('a3', {});
     logger.warn('warn-1');
     logger.access('a4', {});
     await new Promise((resolve) => setImmediate(resolve));
     logger.access('a5', {});
     logger.error('error-1');
     await logger.close();`,
    true,
  );
  assert.equal(run.code, 0, run.stdout);
  const order = [...run.stdout.matchAll(/\] (\S+)$/gm)].map((m) => m[1]);
  assert.deepEqual(order, ['a1', 'a2', 'info-1', 'a3', 'warn-1', 'a4', 'a5', 'error-1']);
});

void test('LOG_LEVEL=warn: no access line at all', async () => {
  const run = await runLogging(
    { level: 'warn', format: 'json' },
    `logger.access('a1', { event: 'access' });
     logger.warn('warn-1');
     await logger.close();`,
  );
  assert.equal(run.code, 0, run.stderr);
  assert.equal(run.stdout, '');
  assert.match(run.stderr, /warn-1/);
});

for (const [how, body, code] of [
  ['process.exit', `process.exit(3);`, 3],
  ['an uncaught exception', `throw new Error('crash in the same turn');`, 1],
  ['a rejected promise', `void Promise.reject(new Error('crash later'));`, 1],
] as const) {
  void test(`lines made in the turn the process exits by ${how} are written`, async () => {
    const run = await runLogging(
      { level: 'info', format: 'json' },
      `for (let i = 0; i < 300; i++) logger.access('line ' + i, { event: 'access', i });
       ${body}`,
    );
    assert.equal(run.code, code, run.stderr);
    const seen = run.stdout
      .trim()
      .split('\n')
      .map((l) => (JSON.parse(l) as { i: number }).i);
    assert.deepEqual(
      seen,
      Array.from({ length: 300 }, (_, i) => i),
    );
  });
}
