/**
 * The front hosts' client, run inside the lab's client namespace (`ip netns exec`): loops that GET
 * a page through the virtual address (src/hosts/client-loops.ts), one JSON line per request on
 * stdout for whoever started it. Stops at the end of its duration, or on SIGTERM/SIGINT once the
 * requests in flight have their outcome.
 */
import { loadConfigOrExit } from './config/load.js';
import { durationParser, intParser, parseString, type OptionSpec } from './config/options.js';
import { runLoops } from './hosts/client-loops.js';

const options = loadConfigOrExit('node dist/src/hosts-client.js [options]', {
  url: {
    flag: 'url',
    description: 'What to GET (through the virtual address)',
    default: '',
    parse: parseString,
  },
  keepAlive: {
    flag: 'keep-alive',
    description: 'Loops on one kept-alive connection each',
    default: 2,
    parse: intParser(0, 64),
  },
  close: {
    flag: 'close',
    description: 'Loops opening a connection per request (Connection: close)',
    default: 2,
    parse: intParser(0, 64),
  },
  rate: {
    flag: 'rate',
    description: 'Requests per second over all loops',
    default: 100,
    parse: intParser(1, 5000),
  },
  duration: {
    flag: 'duration',
    description: 'How long to send requests',
    default: 30_000,
    parse: durationParser(100, 3_600_000),
  },
  timeout: {
    flag: 'timeout',
    description: 'Longest wait for an answer (a failure after it)',
    default: 5000,
    parse: durationParser(100, 60_000),
  },
} satisfies Record<string, OptionSpec<unknown>>);

if (options.url === '') {
  process.stderr.write('hosts-client: --url is required\n');
  process.exit(2);
}
let stop = false;
process.on('SIGTERM', () => (stop = true));
process.on('SIGINT', () => (stop = true));
await runLoops(
  {
    url: options.url,
    keepAlive: options.keepAlive,
    close: options.close,
    rate: options.rate,
    durationMs: options.duration,
    timeoutMs: options.timeout,
  },
  (outcome) => process.stdout.write(`${JSON.stringify(outcome)}\n`),
  () => stop,
);
process.exit(0);
