/**
 * What `npm run lb` is asked to do: a command (status, drain, maint, ready, weight) with its
 * upstream, and the options that say which balancer to ask. Pure: argv and env in, a command and
 * a config out, or a ConfigError listing every problem (the entry point prints the usage and
 * exits 2). A control command is checked by the balancer's own path parser (upstream-control.ts),
 * so a weight this accepts is one the balancer accepts.
 */
import { DEFAULT_PORTS, logOptions, portOffsetOption } from '../config/common.js';
import { buildConfig } from '../config/load.js';
import {
  durationParser,
  formatHelp,
  parsePort,
  type OptionSpec,
  type OptionValues,
  type RawInput,
} from '../config/options.js';
import { ConfigError } from '../errors.js';
import { controlSpecs } from '../balancer/control-options.js';
import { parseControlPath, UPSTREAMS_PATH } from '../balancer/upstream-control.js';

export const LB_TITLE = "npm run lb: steer the fleet's balancer: take an upstream out, back, or weigh it";

export const LB_USAGE = `Usage: npm run lb -- <command> [options]

Commands:
  status                  every upstream: health, admin state, weight, in flight, served, failures
  drain <upstream>        no new requests or tunnels; those in flight finish
  maint <upstream>        out at once, health checks stop; kept across PM2 restarts of its process
  ready <upstream>        back, in rotation as soon as its health allows
  weight <upstream> <n>   its share of new requests, 0 to 256 (0: none)
  front-maint             a front behind a virtual address: Connection: close on every answer,
                          and once no connection is left, keepalived gives the address away
                          (drop new SYNs to it on this host first: docs/multi-host.md)
  front-ready             the front serves as before, a candidate for the address again

<upstream> is a name as status lists it, e.g. backend-9003.`;

export const lbSpecs = {
  portOffset: portOffsetOption,
  adminPort: {
    flag: 'admin-port',
    description:
      "The balancer's admin port (ADMIN_PORT is not read: the fleet and the balancer give it different meanings)",
    default: (p: Record<string, unknown>) => DEFAULT_PORTS.admin + Number(p.portOffset ?? 0),
    defaultText: `${DEFAULT_PORTS.admin} + PORT_OFFSET`,
    parse: parsePort,
  } satisfies OptionSpec<number>,
  // The balancer's own specs (the same flags and variables), saying what they mean to a client.
  adminHost: {
    ...controlSpecs.adminHost,
    description: "The address the balancer's admin listener is bound to",
  } satisfies OptionSpec<string>,
  adminTokenFile: {
    ...controlSpecs.adminTokenFile,
    description: "The balancer's --admin-token-file: its first line is sent as Authorization: Bearer <token>",
  } satisfies OptionSpec<string>,
  timeoutMs: {
    flag: 'timeout',
    env: 'LB_TIMEOUT',
    description: 'How long to wait for the balancer to answer',
    default: 5000,
    defaultText: '5s',
    parse: durationParser(100, 120_000),
  } satisfies OptionSpec<number>,
  ...logOptions,
};

export type LbConfig = OptionValues<typeof lbSpecs>;

export type LbCommand =
  | { kind: 'status' }
  /** `path` is the admin route to POST; `words` say what it asks ("drain", "weight 3"). */
  | { kind: 'control'; name: string; path: string; words: string }
  /** The front door (front-door.ts). */
  | { kind: 'front'; action: 'maint' | 'ready' };

export type LbInput =
  { help: true } | { help: false; version: true } | { help: false; command: LbCommand; config: LbConfig };

const CONTROLS = ['drain', 'maint', 'ready'];

/** The help text: what it is, the commands, then every option. */
export function lbHelp(): string {
  return `${formatHelp(`${LB_TITLE}\n\n${LB_USAGE}`, lbSpecs)}\n`;
}

/**
 * Options may come before, between or after the command's words; every option but --help takes
 * a value, so a word that follows a flag without `=` is that flag's value.
 */
function splitWords(argv: readonly string[]): { words: string[]; options: string[] } {
  const words: string[] = [];
  const options: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] ?? '';
    // A negative number is a word (a weight the balancer's rule then refuses), not an option.
    if (!arg.startsWith('-') || /^-\d/.test(arg)) {
      words.push(arg);
      continue;
    }
    options.push(arg);
    const takesValue = arg.startsWith('--') && !arg.includes('=') && arg !== '--help';
    const next = argv[i + 1];
    if (takesValue && next !== undefined && !next.startsWith('--')) {
      options.push(next);
      i++;
    }
  }
  return { words, options };
}

function controlCommand(action: string, name: string, value?: string): LbCommand | string {
  const path = `${UPSTREAMS_PATH}${encodeURIComponent(name)}/${action}${value === undefined ? '' : `/${value}`}`;
  const asked = parseControlPath(path);
  return asked.ok ? { kind: 'control', name, path, words: asked.words } : asked.reason;
}

/** The command the words name, or what is wrong with them. */
function parseWords(words: readonly string[]): LbCommand | string {
  const [verb, name = '', value, ...rest] = words;
  if (verb === undefined) return 'no command given';
  if (verb === 'status') return words.length > 1 ? 'status takes no argument' : { kind: 'status' };
  if (verb === 'front-maint' || verb === 'front-ready') {
    if (words.length > 1) return `${verb} takes no argument`;
    return { kind: 'front', action: verb === 'front-maint' ? 'maint' : 'ready' };
  }
  if (CONTROLS.includes(verb)) {
    if (name === '') return `${verb} needs the upstream's name: ${verb} <upstream>`;
    return words.length > 2 ? `${verb} takes one argument, the upstream's name` : controlCommand(verb, name);
  }
  if (verb === 'weight') {
    if (name === '' || value === undefined) return 'weight needs a name and a weight: weight <upstream> <n>';
    return rest.length > 0 ? 'weight takes two arguments' : controlCommand(verb, name, value);
  }
  return `"${verb}" is not a command: use status, drain, maint, ready, weight, front-maint or front-ready`;
}

/** Pure: the command and the config from argv and env; throws a ConfigError listing every problem. */
export function parseLbInput(input: RawInput): LbInput {
  const { words, options } = splitWords(input.argv);
  const problems: string[] = [];
  let config: LbConfig | null = null;
  let help = false;
  let version = false;
  try {
    const built = buildConfig(lbSpecs, { argv: options, env: input.env }, (v) =>
      v.adminPort === 0 ? ['--admin-port: 0 is not a port a balancer listens on'] : [],
    );
    config = built.value;
    help = built.help;
    version = built.version;
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    problems.push(...err.problems);
  }
  if (help && problems.length === 0) return { help: true };
  if (version && problems.length === 0) return { help: false, version: true };
  const command = parseWords(words);
  if (typeof command === 'string') problems.push(command);
  if (problems.length > 0 || config === null || typeof command === 'string') throw new ConfigError(problems);
  return { help: false, command, config };
}

/** `supervised-balancer lb (alice)`: the balancer's log line says who asked. Header-safe. */
export function lbUserAgent(user: string): string {
  const safe = user.replace(/[^\x20-\x7e]/g, '?').replace(/[()]/g, '');
  return `supervised-balancer lb (${safe === '' ? 'unknown' : safe})`;
}
