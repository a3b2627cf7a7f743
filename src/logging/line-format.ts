/**
 * A log line as text, without winston: the readable layout and the JSON layout the logger's
 * winston formats produce (src/logger.ts builds its readable lines with `readableLine` too), so a
 * line formatted here cannot be told from one that went through winston. The access line takes
 * this road: winston costs about 10 µs a line (an info object merged, a chain of formats, a
 * stream in object mode), which at 20,000 requests a second is a fifth of a core. Pure.
 */
/** Extra fields for a line; printed in JSON mode, left out of the readable line. */
export type LogFields = Record<string, unknown>;

/** `2026-12-07T04:09:12.291Z INFO  [balancer] GET / -> b1 200 1.2 ms`, as `pm2 logs` shows it. */
export function readableLine(timestamp: string, label: string, name: string, message: string): string {
  return `${timestamp} ${label} [${name}] ${message}`;
}

/** The level as the readable line shows it, before any colour: upper case, five wide. */
export function plainLevelLabel(level: string): string {
  return level.toUpperCase().padEnd(5);
}

/**
 * JSON with every object's keys sorted, as winston's json format writes it (safe-stable-stringify
 * in its default, deterministic mode): a bigint as a string, and the rest as JSON.stringify has it
 * (`undefined` and functions left out of objects, `toJSON` honoured). For plain data: a cycle is
 * not looked for (the access line's fields are flat).
 */
export function sortedJson(value: unknown): string {
  return JSON.stringify(sortedCopy(value)) ?? 'null';
}

function sortedCopy(value: unknown): unknown {
  if (typeof value === 'bigint') return value.toString();
  if (typeof value !== 'object' || value === null) return value;
  if (Array.isArray(value)) return value.map(sortedCopy);
  if (typeof (value as { toJSON?: unknown }).toJSON === 'function') return value;
  const record = value as Record<string, unknown>;
  const copy: Record<string, unknown> = {};
  for (const key of Object.keys(record).sort()) copy[key] = sortedCopy(record[key]);
  return copy;
}

/** One value of a flat record as JSON; undefined when JSON leaves it out. */
function valueJson(value: unknown): string | undefined {
  switch (typeof value) {
    case 'string':
      return JSON.stringify(value);
    case 'number':
      return Number.isFinite(value) ? String(value) : 'null';
    case 'boolean':
      return value ? 'true' : 'false';
    case 'undefined':
    case 'function':
    case 'symbol':
      return undefined;
    default:
      return sortedJson(value);
  }
}

/** The four keys the logger adds to the caller's fields, over any of the same name. */
const OWN_KEYS = ['level', 'message', 'timestamp', 'service'] as const;
type OwnKey = (typeof OWN_KEYS)[number];

/** How a record of one set of keys is written: each key quoted once, in sorted order. */
interface Plan {
  /** The caller's keys in their own order, to recognise the next record of this shape. */
  keys: string[];
  steps: { prefix: string; own: OwnKey | null; key: string }[];
}

/** Shapes kept; a program logs access lines of two or three. */
const MAX_PLANS = 16;

/**
 * The JSON line winston writes for `logger.<level>(message, fields)`: the fields, then `level`,
 * `message`, the timestamp and the process's name as `service` over them (winston's order of
 * precedence; a field named `message` it would append to the message, so callers use none), keys
 * sorted, flat values written one by one. Sorting the keys is most of the work,
 * so it is done once for each set of keys a caller uses (an access line's fields are one object
 * literal, so one or two shapes) and kept.
 */
export class JsonLines {
  private readonly plans: Plan[] = [];

  line(level: string, message: string, fields: LogFields, timestamp: string, service: string): string {
    const plan = this.planFor(Object.keys(fields));
    let out = '';
    for (const step of plan.steps) {
      const value =
        step.own === null
          ? fields[step.key]
          : step.own === 'level'
            ? level
            : step.own === 'message'
              ? message
              : step.own === 'timestamp'
                ? timestamp
                : service;
      const json = valueJson(value);
      if (json === undefined) continue;
      out += out === '' ? `{${step.prefix}${json}` : `,${step.prefix}${json}`;
    }
    return `${out}}`;
  }

  private planFor(keys: string[]): Plan {
    for (const plan of this.plans) if (sameKeys(plan.keys, keys)) return plan;
    const own = new Set<string>(OWN_KEYS);
    const all = [...keys.filter((k) => !own.has(k)), ...OWN_KEYS].sort();
    const plan: Plan = {
      keys,
      steps: all.map((key) => ({
        prefix: `${JSON.stringify(key)}:`,
        own: own.has(key) ? (key as OwnKey) : null,
        key,
      })),
    };
    if (this.plans.length === MAX_PLANS) this.plans.shift();
    this.plans.push(plan);
    return plan;
  }
}

function sameKeys(a: readonly string[], b: readonly string[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/**
 * `new Date().toISOString()` (winston's timestamp), made at most once a millisecond: under load many
 * lines share one, and a Date and its string per line are most of what a line would cost.
 */
export class IsoClock {
  private lastMs = Number.NaN;
  private lastIso = '';

  constructor(private readonly nowMs: () => number = Date.now) {}

  now(): string {
    const ms = this.nowMs();
    if (ms !== this.lastMs) {
      this.lastMs = ms;
      this.lastIso = new Date(ms).toISOString();
    }
    return this.lastIso;
  }
}
