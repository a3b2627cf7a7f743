/**
 * The logger's streams, in a real child process: info and debug on stdout, warn and error on
 * stderr (what PM2 files under <app>.out.log and <app>.err.log), in both formats.
 */
import assert from 'node:assert/strict';
import path from 'node:path';
import { test } from 'node:test';
import { pathToFileURL } from 'node:url';
import { runCommand, type CommandResult } from '../../src/hosts/command.js';
import { ROOT } from '../helpers/processes.js';

const LOGGER = pathToFileURL(path.join(ROOT, 'src', 'logger.ts')).href;

/** Run a tiny script that logs one line per level; its stdout and stderr, apart. */
function logEveryLevel(format: 'text' | 'json'): Promise<CommandResult> {
  const script = `
    import { createLogger } from ${JSON.stringify(LOGGER)};
    const logger = createLogger({ name: 'probe', level: 'debug', format: ${JSON.stringify(format)} });
    logger.debug('line-debug');
    logger.info('line-info');
    logger.warn('line-warn');
    logger.error('line-error');
    await logger.close();
  `;
  return runCommand(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
    cwd: ROOT,
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
