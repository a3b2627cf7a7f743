/**
 * `npm run bench:all`: the three targets (async, threaded, balancer) compared with loadtest, every
 * response checked, the load client's own ceiling measured in the same run. Wiring only; the
 * parts live in bench/lib/.
 */
import { benchOptions, toBenchConfig, validateBench } from './lib/bench-config.js';
import { PROJECT_ROOT, PUBLIC_DIR } from '../src/config/common.js';
import { loadConfigOrExit } from '../src/config/load.js';
import { processInput } from '../src/config/process-input.js';
import { errorMessage } from '../src/errors.js';
import { createProcessLogger } from '../src/logger.js';
import { fleetTargetPorts } from './lib/fleet.js';
import { createProgress } from './lib/progress.js';
import { renderConsoleSummary } from './lib/report-markdown.js';
import { runBench } from './lib/run-bench.js';
import { settingsText } from './lib/settings-text.js';

const TITLE = 'bench:all - compare async, threaded and balancer with loadtest, every response checked';

const values = loadConfigOrExit(TITLE, benchOptions, validateBench);
const tty = process.stdout.isTTY === true;
const logger = createProcessLogger('bench', values);
const config = toBenchConfig(values, new Date(), fleetTargetPorts(values.portOffset, logger));
const progress = createProgress(process.stdout, tty);
const argv = processInput().argv;

progress.line(`${TITLE}\nSettings (flags, or the variables named; --help lists them):`);
progress.line(settingsText(benchOptions, values).join('\n'));
progress.line(`Targets: ${config.targets.map((t) => `${t.name} ${t.url}`).join(', ')}`);

try {
  const { results, files } = await runBench(config, {
    logger,
    progress,
    projectRoot: PROJECT_ROOT,
    publicDir: PUBLIC_DIR,
    command: ['npm run bench:all', ...(argv.length > 0 ? ['--', ...argv] : [])].join(' '),
  });
  progress.line(renderConsoleSummary(results));
  progress.line(`\nWritten:\n${files.map((f) => `  ${f}`).join('\n')}`);
  await logger.close();
} catch (err) {
  logger.error(`benchmark failed: ${errorMessage(err)}`);
  await logger.close();
  process.exitCode = 1;
}
