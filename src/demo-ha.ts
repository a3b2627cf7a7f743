/**
 * `npm run demo:ha`: the front hosts under load through their virtual address while a backend is
 * drained through one front, the active front loses its link and crashes, and the address moves on
 * purpose and back. Exit 0 only when nothing failed outside the requests in flight at a fault; 1
 * otherwise; 2 on bad options. See src/demo/run-ha-demo.ts.
 */
import { loadConfigOrExit } from './config/load.js';
import { durationParser, intParser, numberParser, parseString, type OptionSpec } from './config/options.js';
import { exitWithDemo } from './demo/demo-exit.js';
import { runHaDemo } from './demo/run-ha-demo.js';
import { keepalivedBin } from './hosts/lab.js';
import { hostsSupportProblems } from './hosts/support.js';
import { createProcessLogger } from './logger.js';

const options = loadConfigOrExit('npm run demo:ha -- [options]', {
  rate: {
    flag: 'rate',
    description: 'Requests per second through the virtual address',
    default: 200,
    parse: intParser(10, 2000),
  },
  loops: {
    flag: 'loops',
    description: 'Client loops of each kind (keep-alive, Connection: close)',
    default: 4,
    parse: intParser(1, 32),
  },
  between: {
    flag: 'between',
    description: 'Steady load between two steps',
    default: 3000,
    parse: durationParser(500, 60_000),
  },
  advert: {
    flag: 'advert',
    description: "keepalived's advertisement interval, seconds (VRRPv3: 0.01 to 40)",
    default: 0.1,
    parse: numberParser(0.01, 40),
  },
  out: {
    flag: 'out',
    description: 'Where the report goes (default bench/results/demo-ha-<time>)',
    default: '',
    parse: parseString,
  },
} satisfies Record<string, OptionSpec<unknown>>);

const logger = createProcessLogger('demo-ha', { logLevel: 'info', logFormat: 'text' });
await exitWithDemo(logger, async (print, signal) => {
  const problems = await hostsSupportProblems({ etcd: true, fronts: { keepalived: keepalivedBin() } });
  if (problems.length > 0) {
    print(`demo:ha cannot build test hosts here:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    return false;
  }
  const result = await runHaDemo(
    {
      rate: options.rate,
      loops: options.loops,
      betweenMs: options.between,
      advertS: options.advert,
      outDir: options.out === '' ? null : options.out,
    },
    print,
    signal,
  );
  return result.passed;
});
