/**
 * Settings of the supervisor side: where PM2 keeps its daemon (PM2_HOME), which PM2 app this
 * process is (pm_id), and the options of `npm start` (src/supervisor/cli-start.ts). Pure except
 * for the two small readers at the bottom, which go through process-input.ts.
 */
import os from 'node:os';
import path from 'node:path';
import { durationParser, parseString, type OptionSpec, type OptionValues, type RawInput } from './options.js';
import { buildConfig, type Validator } from './load.js';
import { logOptions, portOffsetOption } from './common.js';
import { processEnv } from './process-input.js';

/** PM2's own rule: PM2_HOME if set, else `~/.pm2`. */
export function pm2HomeFrom(env: Readonly<Record<string, string | undefined>>): string {
  const fromEnv = env.PM2_HOME;
  return fromEnv !== undefined && fromEnv !== '' ? fromEnv : path.join(os.homedir(), '.pm2');
}

/** The pm_id PM2 gave this process, or null when PM2 did not start it. */
export function pm2IdFrom(env: Readonly<Record<string, string | undefined>>): number | null {
  const raw = env.pm_id;
  if (raw === undefined || !/^\d+$/.test(raw)) return null;
  return Number(raw);
}

export const pm2HomeOption = {
  flag: 'pm2-home',
  env: 'PM2_HOME',
  description: 'Folder of the PM2 daemon to talk to (its sockets, pid file and logs)',
  default: () => pm2HomeFrom({}),
  defaultText: '~/.pm2',
  parse: parseString,
} satisfies OptionSpec<string>;

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

/** `npm run status`: which daemon to ask. */
export const statusSpecs = {
  pm2Home: pm2HomeOption,
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

/** This process's PM2_HOME (for code that is not an entry point, such as the PM2 discovery). */
export function currentPm2Home(): string {
  return pm2HomeFrom(processEnv());
}

/** This process's pm_id, or null outside PM2. */
export function currentPm2Id(): number | null {
  return pm2IdFrom(processEnv());
}
