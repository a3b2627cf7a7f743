/**
 * The logger's streams, in a real child process: info and debug on stdout, warn and error on
 * stderr (what PM2 files under <app>.out.log and <app>.err.log), in both formats.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import path from 'node:path';
import { test } from 'node:test';
import { pathToFileURL } from 'node:url';
import { ROOT } from '../helpers/processes.js';

const LOGGER = pathToFileURL(path.join(ROOT, 'src', 'logger.ts')).href;

/** Run a tiny script that logs one line per level; its stdout and stderr, apart. */
function logEveryLevel(
  format: 'text' | 'json',
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const script = `
    import { createLogger } from ${JSON.stringify(LOGGER)};
    const logger = createLogger({ name: 'probe', level: 'debug', format: ${JSON.stringify(format)} });
    logger.debug('line-debug');
    logger.info('line-info');
    logger.warn('line-warn');
    logger.error('line-error');
    await logger.close();
  `;
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (c: string) => (stdout += c));
    child.stderr.setEncoding('utf8').on('data', (c: string) => (stderr += c));
    const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
    child.on('error', reject);
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

const messages = (text: string) => [...text.matchAll(/line-(\w+)/g)].map((m) => m[1]);

for (const format of ['text', 'json'] as const) {
  void test(`LOG_FORMAT=${format}: info and debug on stdout, warn and error on stderr`, async () => {
    const run = await logEveryLevel(format);
    assert.equal(run.code, 0, run.stderr);
    assert.deepEqual(messages(run.stdout), ['debug', 'info'], run.stdout);
    assert.deepEqual(messages(run.stderr), ['warn', 'error'], run.stderr);
    if (format === 'json') {
      const levels = run.stderr
        .trim()
        .split('\n')
        .map((l) => (JSON.parse(l) as { level: string }).level);
      assert.deepEqual(levels, ['warn', 'error']);
    } else {
      assert.match(run.stderr, /ERROR \[probe\] line-error/);
    }
  });
}
