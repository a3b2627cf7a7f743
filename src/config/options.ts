/**
 * A small declarative option parser, pure: it gets argv and env as values, never reads the process.
 * Each option has a flag, an optional environment variable, a default and a description (as PM2's
 * schema.json does), and parsing collects every problem before reporting, so a person fixes them all
 * at once. Flags win over environment variables, which win over defaults.
 */
import { isIP } from 'node:net';

export interface RawInput {
  /** Arguments after the script name. */
  argv: readonly string[];
  env: Readonly<Record<string, string | undefined>>;
}

export interface OptionSpec<T> {
  /** Flag name without dashes: `port` for `--port`. */
  flag: string;
  /** Environment variable that may set it. */
  env?: string;
  description: string;
  /** Default value, or a function of the values parsed before it (e.g. name from port). */
  default: T | ((parsed: Record<string, unknown>) => T);
  /** How the default is shown in help text, when the value itself would not read well. */
  defaultText?: string;
  /** Turn the raw text into a value or throw an Error whose message says what is wrong. */
  parse(raw: string): T;
  /** A boolean flag takes no value: `--keepalive` means true, `--no-keepalive` false. */
  boolean?: boolean;
  /** A repeatable flag: every occurrence is collected, in order (`--at ... --at ...`). */
  repeatable?: boolean;
}

export type OptionSpecs = Record<string, OptionSpec<unknown>>;
export type OptionValues<S extends OptionSpecs> = {
  [K in keyof S]: S[K] extends OptionSpec<infer T> ? T : never;
};

/** `help` and `version`: the person asked for the help text or the version instead of a run. */
export type ParseResult<T> =
  { ok: true; value: T; help: boolean; version: boolean } | { ok: false; problems: string[] };

// ---- value parsers (each throws an Error with a message a person can act on) ----

export function parsePort(raw: string): number {
  const n = Number(raw);
  if (!/^\d+$/.test(raw.trim()) || !Number.isInteger(n) || n < 0 || n > 65535) {
    throw new Error(`"${raw}" is not a port (a whole number from 0 to 65535)`);
  }
  return n;
}

export function intParser(min: number, max: number = Number.MAX_SAFE_INTEGER): (raw: string) => number {
  return (raw) => {
    const n = Number(raw);
    if (!/^-?\d+$/.test(raw.trim()) || n < min || n > max) {
      throw new Error(`"${raw}" is not a whole number from ${min} to ${max}`);
    }
    return n;
  };
}

export function numberParser(min: number, max: number = Number.MAX_VALUE): (raw: string) => number {
  return (raw) => {
    const n = Number(raw);
    if (raw.trim() === '' || !Number.isFinite(n) || n < min || n > max) {
      throw new Error(`"${raw}" is not a number from ${min} to ${max}`);
    }
    return n;
  };
}

const DURATION_UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000 };

/** A duration in milliseconds: `500`, `500ms`, `1.5s`, `2m`. */
export function parseDurationMs(raw: string): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m)?$/.exec(raw.trim());
  if (m === null) throw new Error(`"${raw}" is not a duration (examples: 500ms, 2s, 1m)`);
  return Math.round(Number(m[1]) * (DURATION_UNITS[m[2] ?? 'ms'] ?? 1));
}

/**
 * The parsers that read durations, so help shows their defaults as durations (`1s`, not `1000`)
 * without every spec restating its default as text.
 */
const DURATION_PARSERS = new WeakSet<(raw: string) => unknown>([parseDurationMs]);

export function durationParser(
  minMs: number,
  maxMs: number = Number.MAX_SAFE_INTEGER,
): (raw: string) => number {
  const parse = (raw: string): number => {
    const ms = parseDurationMs(raw);
    if (ms < minMs || ms > maxMs) throw new Error(`"${raw}" is outside ${minMs}ms..${maxMs}ms`);
    return ms;
  };
  DURATION_PARSERS.add(parse);
  return parse;
}

/** Milliseconds as a duration parseDurationMs reads back: `1s`, `1.5s`, `2m`, `250ms`. */
export function formatDurationMs(ms: number): string {
  if (ms >= 60_000 && ms % 60_000 === 0) return `${ms / 60_000}m`;
  if (ms >= 1000 && ms % 100 === 0) return `${ms / 1000}s`;
  return `${ms}ms`;
}

export function parseBoolean(raw: string): boolean {
  const v = raw.trim().toLowerCase();
  if (['1', 'true', 'yes', 'on'].includes(v)) return true;
  if (['0', 'false', 'no', 'off'].includes(v)) return false;
  throw new Error(`"${raw}" is not a boolean (true/false, 1/0, yes/no)`);
}

export function enumParser<T extends string>(choices: readonly T[]): (raw: string) => T {
  return (raw) => {
    if ((choices as readonly string[]).includes(raw)) return raw as T;
    throw new Error(`"${raw}" is not one of ${choices.join(', ')}`);
  };
}

export function listParser<T>(item: (raw: string) => T): (raw: string) => T[] {
  return (raw) => {
    const parts = raw
      .split(',')
      .map((p) => p.trim())
      .filter((p) => p !== '');
    if (parts.length === 0) throw new Error('the list is empty');
    return parts.map(item);
  };
}

/** An IP address or a host name (to listen on or to connect to). */
export function parseHost(raw: string): string {
  const host = raw.trim();
  if (isIP(host) === 0 && !/^[a-z0-9]([a-z0-9.-]*[a-z0-9])?$/i.test(host)) {
    throw new Error(`"${raw}" is not an IP address or host name`);
  }
  return host;
}

export function parseString(raw: string): string {
  if (raw.trim() === '') throw new Error('the value is empty');
  return raw;
}

// ---- the parser ----

function describe(spec: OptionSpec<unknown>): string {
  return spec.env === undefined ? `--${spec.flag}` : `--${spec.flag} (or ${spec.env})`;
}

/**
 * Parse argv and env against the specs. Unknown flags, missing values and bad values are all
 * reported together. `--help` and `--version` are recognised and reported in the result.
 */
export function parseOptions<S extends OptionSpecs>(specs: S, input: RawInput): ParseResult<OptionValues<S>> {
  const problems: string[] = [];
  const byFlag = new Map<string, [string, OptionSpec<unknown>]>();
  for (const [key, spec] of Object.entries(specs)) byFlag.set(spec.flag, [key, spec]);

  const fromArgv = new Map<string, string[]>();
  let help = false;
  let version = false;
  const args = [...input.argv];
  for (let i = 0; i < args.length; i++) {
    const arg = args[i] ?? '';
    if (arg === '--help' || arg === '-h') {
      help = true;
      continue;
    }
    if (arg === '--version') {
      version = true;
      continue;
    }
    if (!arg.startsWith('--')) {
      problems.push(`unexpected argument "${arg}" (options start with --; see --help)`);
      continue;
    }
    let name = arg.slice(2);
    let value: string | undefined;
    const eq = name.indexOf('=');
    if (eq >= 0) {
      value = name.slice(eq + 1);
      name = name.slice(0, eq);
    }
    let entry = byFlag.get(name);
    if (entry === undefined && name.startsWith('no-') && value === undefined) {
      const positive = byFlag.get(name.slice(3));
      if (positive?.[1].boolean === true) {
        entry = positive;
        value = 'false';
      }
    }
    if (entry === undefined) {
      problems.push(`unknown option --${name} (see --help)`);
      continue;
    }
    const [key, spec] = entry;
    if (value === undefined) {
      if (spec.boolean === true) {
        const next = args[i + 1];
        value = next !== undefined && /^(true|false|1|0|yes|no)$/i.test(next) ? (i++, next) : 'true';
      } else {
        const next = args[i + 1];
        if (next === undefined || (next.startsWith('--') && next.length > 2)) {
          problems.push(`--${name} needs a value`);
          continue;
        }
        value = next;
        i++;
      }
    }
    const list = fromArgv.get(key) ?? [];
    list.push(value);
    fromArgv.set(key, list);
  }

  const values: Record<string, unknown> = {};
  for (const [key, spec] of Object.entries(specs)) {
    const flagValues = fromArgv.get(key);
    const envValue = spec.env === undefined ? undefined : input.env[spec.env];
    try {
      if (spec.repeatable === true && flagValues !== undefined) {
        values[key] = flagValues.map((v) => spec.parse(v));
      } else if (flagValues !== undefined) {
        if (flagValues.length > 1) throw new Error(`given ${flagValues.length} times; give it once`);
        values[key] = spec.parse(flagValues[0] ?? '');
      } else if (envValue !== undefined && envValue !== '') {
        values[key] = spec.repeatable === true ? [spec.parse(envValue)] : spec.parse(envValue);
      } else {
        values[key] =
          typeof spec.default === 'function'
            ? (spec.default as (p: Record<string, unknown>) => unknown)(values)
            : spec.default;
      }
    } catch (err) {
      const source = flagValues !== undefined ? `--${spec.flag}` : (spec.env ?? `--${spec.flag}`);
      problems.push(`${source}: ${err instanceof Error ? err.message : String(err)}`);
    }
  }
  if (problems.length > 0) return { ok: false, problems };
  return { ok: true, value: values as OptionValues<S>, help, version };
}

/** A default as a person would type it: a duration with its unit, a list comma-separated. */
function defaultText(spec: OptionSpec<unknown>): string {
  const value = spec.default;
  if (typeof value === 'function') return 'computed';
  // Only compared by identity, never called here, so its `this` does not matter.
  // eslint-disable-next-line @typescript-eslint/unbound-method
  if (typeof value === 'number' && DURATION_PARSERS.has(spec.parse)) return formatDurationMs(value);
  if (Array.isArray(value) && value.every((v) => typeof v === 'string' || typeof v === 'number')) {
    return value.length === 0 ? 'none' : value.join(',');
  }
  return JSON.stringify(value) ?? 'none';
}

/** Help text listing every option with its variable, default and description. */
export function formatHelp(title: string, specs: OptionSpecs): string {
  const lines = [title, '', 'Options (flags win over environment variables):'];
  for (const spec of Object.values(specs)) {
    const dflt = spec.defaultText ?? defaultText(spec);
    lines.push(`  ${describe(spec)}`);
    lines.push(`      ${spec.description} (default: ${dflt})`);
  }
  lines.push('  --help', '      Print this help and exit.');
  lines.push('  --version', "      Print the project's version and exit.");
  return lines.join('\n');
}
