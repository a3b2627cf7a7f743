/**
 * A demo as the process it runs in (npm run demo:restart, npm run demo:hosts): its lines on
 * stdout, Ctrl-C or SIGTERM interrupting it (it still reports and puts back what it changed; a
 * second Ctrl-C kills), and its verdict as the exit code: 0 passed, 1 failed or could not run.
 */
import { errorMessage } from '../errors.js';
import type { Logger } from '../logger.js';

export async function exitWithDemo(
  logger: Logger,
  run: (print: (line: string) => void, signal: AbortSignal) => Promise<boolean>,
): Promise<never> {
  const interrupted = new AbortController();
  for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => interrupted.abort());
  let code = 1;
  try {
    const passed = await run((line) => process.stdout.write(`${line}\n`), interrupted.signal);
    code = passed ? 0 : 1;
  } catch (err) {
    logger.error(`the demo could not run: ${errorMessage(err)}`);
  }
  await logger.close();
  // loadtest and PM2 may keep timers and sockets; the demo is over, so leave now.
  process.exit(code);
}
