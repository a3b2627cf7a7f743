/**
 * Where the balancer's settings come from: argv and the environment, and the `--env-file` when
 * one is named, whose variables win over the environment (flags still win over both). Read at
 * start and again at every reload, so `npm run reload:balancer` applies an edited file, and a file
 * that does not validate is refused with the same messages as at start.
 */
import fs from 'node:fs';
import { ConfigError, errorMessage } from '../errors.js';
import { parseEnvFile } from '../config/env-file.js';
import type { RawInput } from '../config/options.js';
import { buildBalancerConfig, type BalancerConfig } from './config.js';

export interface BalancerSettings {
  config: BalancerConfig;
  /** The environment the config was built from (the file's variables merged in), for workers. */
  env: Record<string, string | undefined>;
}

export function readBalancerSettings(input: RawInput): BalancerSettings {
  const first = buildBalancerConfig(input);
  if (first.envFile === null) return { config: first, env: { ...input.env } };
  let text: string;
  try {
    text = fs.readFileSync(first.envFile, 'utf8');
  } catch (err) {
    throw new ConfigError([`--env-file ${first.envFile}: ${errorMessage(err)}`], { cause: err });
  }
  const env = { ...input.env, ...parseEnvFile(text, first.envFile) };
  return { config: buildBalancerConfig({ argv: input.argv, env }), env };
}
