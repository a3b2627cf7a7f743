/** Parse, validate once, and on failure print every problem and exit 2. */
import { ConfigError } from '../errors.js';
import { formatHelp, parseOptions, type OptionSpecs, type OptionValues, type RawInput } from './options.js';
import { processInput } from './process-input.js';
import { PROJECT_VERSION } from './version.js';

/** Extra checks that need the parsed values (a folder exists, two ports differ); returns problems. */
export type Validator<T> = (values: T) => string[];

/** Pure: parse and validate, throwing a ConfigError that lists every problem. */
export function buildConfig<S extends OptionSpecs>(
  specs: S,
  input: RawInput,
  validate?: Validator<OptionValues<S>>,
): { value: OptionValues<S>; help: boolean; version: boolean } {
  const parsed = parseOptions(specs, input);
  if (!parsed.ok) throw new ConfigError(parsed.problems);
  const problems = validate?.(parsed.value) ?? [];
  if (problems.length > 0) throw new ConfigError(problems);
  return { value: parsed.value, help: parsed.help, version: parsed.version };
}

/**
 * For entry points: read this process's argv and env, print help, the version or every problem, and
 * exit (0 after help or the version, 2 on bad configuration) instead of returning a half-valid config.
 */
export function loadConfigOrExit<S extends OptionSpecs>(
  title: string,
  specs: S,
  validate?: Validator<OptionValues<S>>,
): OptionValues<S> {
  return orExit(title, () => {
    const { value, help, version } = buildConfig(specs, processInput(), validate);
    if (help) {
      process.stdout.write(`${formatHelp(title, specs)}\n`);
      process.exit(0);
    }
    if (version) {
      process.stdout.write(`${PROJECT_VERSION}\n`);
      process.exit(0);
    }
    return value;
  });
}

/** Run a config step of an entry point; a ConfigError prints every problem and exits 2. */
export function orExit<T>(title: string, step: () => T): T {
  try {
    return step();
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`${title}: ${err.message}\nRun with --help to see every option.\n`);
      process.exit(2);
    }
    throw err;
  }
}
