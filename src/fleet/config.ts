/** The options of `npm start` (cli-start.ts): which fleet, how long to wait, what URLs to print. */
import {
  durationParser,
  parseBoolean,
  parseString,
  type OptionSpec,
  type OptionValues,
  type RawInput,
} from '../config/options.js';
import { buildConfig, type Validator } from '../config/load.js';
import { logOptions, portOffsetOption } from '../config/common.js';
import { pm2HomeOption } from '../supervisor/config.js';

/** `npm start`: start whatever part of the fleet is missing, wait until healthy, print the URLs. */
export const startSpecs = {
  portOffset: portOffsetOption,
  pm2Home: pm2HomeOption,
  timeoutMs: {
    flag: 'timeout',
    env: 'START_TIMEOUT',
    description: 'How long to wait for every app to be online and healthy',
    default: 60_000,
    defaultText: '60s',
    parse: durationParser(1000, 600_000),
  } satisfies OptionSpec<number>,
  publicHost: {
    flag: 'public-host',
    env: 'PUBLIC_HOST',
    description: 'Host name used in the URLs printed at the end',
    default: 'localhost',
    parse: parseString,
  } satisfies OptionSpec<string>,
  ...logOptions,
};

export type StartConfig = OptionValues<typeof startSpecs>;

/** `npm run reload` and `npm run reload:balancer`. */
export const reloadSpecs = {
  portOffset: portOffsetOption,
  pm2Home: pm2HomeOption,
  balancerOnly: {
    flag: 'balancer',
    description: 'Reload the balancer alone (SIGHUP: new workers, then the old ones drain)',
    default: false,
    boolean: true,
    parse: parseBoolean,
  } satisfies OptionSpec<boolean>,
  timeoutMs: {
    flag: 'timeout',
    env: 'RELOAD_TIMEOUT',
    description: 'How long one app may take to be back (in rotation, or healthy)',
    default: 30_000,
    defaultText: '30s',
    parse: durationParser(1000, 600_000),
  } satisfies OptionSpec<number>,
  ...logOptions,
};

/** `npm run status`: which daemon to ask. */
export const statusSpecs = {
  pm2Home: pm2HomeOption,
  ...logOptions,
};

/** `npm stop`: which daemon, and how long the fleet may take to stop (each app drains first). */
export const stopSpecs = {
  pm2Home: pm2HomeOption,
  timeoutMs: {
    flag: 'timeout',
    env: 'STOP_TIMEOUT',
    description: 'How long stopping and removing every app of the fleet may take',
    default: 120_000,
    parse: durationParser(1000, 600_000),
  } satisfies OptionSpec<number>,
  ...logOptions,
};

/** The offset must keep every port of the fleet valid (the highest default is 46000). */
export const validateStart: Validator<StartConfig> = (v) =>
  v.portOffset + 46_000 > 65_535 || v.portOffset + 9002 < 1
    ? [`PORT_OFFSET: ${v.portOffset} moves a fleet port outside 1..65535`]
    : [];

/** Pure: the typed `npm start` config from argv and env (throws ConfigError listing every problem). */
export function buildStartConfig(input: RawInput): { config: StartConfig; help: boolean } {
  const { value, help } = buildConfig(startSpecs, input, validateStart);
  return { config: value, help };
}
