/**
 * A strict reader of the Prometheus text exposition format (version 0.0.4), so tests can check that
 * `/metrics` is well-formed and read counters from it. prom-client only writes the format, it has no
 * parser. Pure; throws on the first line that is not valid, naming the line.
 */

export type MetricType = 'counter' | 'gauge' | 'histogram' | 'summary' | 'untyped';

export interface Sample {
  /** The sample's own name (`x_bucket`, `x_sum`, `x_count` for histograms). */
  name: string;
  labels: Readonly<Record<string, string>>;
  value: number;
}

export interface MetricFamily {
  name: string;
  type: MetricType;
  help: string;
  samples: Sample[];
}

const NAME = '[a-zA-Z_:][a-zA-Z0-9_:]*';
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;
const SAMPLE = new RegExp(`^(${NAME})(?:\\{(.*)\\})?[ \\t]+(\\S+)(?:[ \\t]+(-?\\d+))?$`);
const TYPES = new Set<MetricType>(['counter', 'gauge', 'histogram', 'summary', 'untyped']);
const SUFFIXES: Partial<Record<MetricType, readonly string[]>> = {
  histogram: ['_bucket', '_sum', '_count'],
  summary: ['_sum', '_count'],
};

export function parsePrometheusText(text: string): Map<string, MetricFamily> {
  const families = new Map<string, MetricFamily>();
  const lines = text.split('\n');
  lines.forEach((line, index) => {
    const where = `line ${index + 1} ("${line.length > 80 ? `${line.slice(0, 80)}...` : line}")`;
    if (line.trim() === '') return;
    if (line.startsWith('#')) {
      const meta = /^#\s+(HELP|TYPE)\s+(\S+)(?:\s(.*))?$/.exec(line);
      if (meta === null) return; // a plain comment
      const [, kind, name = '', rest = ''] = meta;
      if (!new RegExp(`^${NAME}$`).test(name)) throw new Error(`${where}: bad metric name`);
      const family = familyOf(families, name);
      if (kind === 'TYPE') {
        if (!TYPES.has(rest.trim() as MetricType)) throw new Error(`${where}: unknown type "${rest}"`);
        if (family.samples.length > 0) throw new Error(`${where}: TYPE after samples`);
        family.type = rest.trim() as MetricType;
      } else {
        family.help = unescapeHelp(rest);
      }
      return;
    }
    const m = SAMPLE.exec(line);
    if (m === null) throw new Error(`${where}: not a sample line`);
    const [, name = '', rawLabels, rawValue = ''] = m;
    const value = parseValue(rawValue);
    if (value === undefined) throw new Error(`${where}: bad value "${rawValue}"`);
    const labels = rawLabels === undefined ? {} : parseLabels(rawLabels, where);
    familyOf(families, familyName(families, name)).samples.push({ name, labels, value });
  });
  for (const family of families.values()) checkFamily(family);
  return families;
}

/** Sum of a family's samples named `sampleName` whose labels include every one in `match`. */
export function sumSamples(
  families: Map<string, MetricFamily>,
  sampleName: string,
  match: Record<string, string> = {},
): number {
  let total = 0;
  for (const family of families.values()) {
    for (const s of family.samples) {
      if (s.name !== sampleName) continue;
      if (Object.entries(match).every(([k, v]) => s.labels[k] === v)) total += s.value;
    }
  }
  return total;
}

function familyOf(families: Map<string, MetricFamily>, name: string): MetricFamily {
  let family = families.get(name);
  if (family === undefined) {
    family = { name, type: 'untyped', help: '', samples: [] };
    families.set(name, family);
  }
  return family;
}

/** `x_bucket` belongs to histogram `x` if `x` was declared one. */
function familyName(families: Map<string, MetricFamily>, sample: string): string {
  for (const [type, suffixes] of Object.entries(SUFFIXES)) {
    for (const suffix of suffixes) {
      if (!sample.endsWith(suffix)) continue;
      const base = sample.slice(0, -suffix.length);
      if (families.get(base)?.type === type) return base;
    }
  }
  return sample;
}

/** As Prometheus reads values (Go's ParseFloat): NaN and Inf in any case, e.g. prom-client's "Nan". */
function parseValue(raw: string): number | undefined {
  const special = /^([-+]?)(inf|infinity|nan)$/i.exec(raw);
  if (special !== null) {
    if (special[2]?.toLowerCase() === 'nan') return NaN;
    return special[1] === '-' ? -Infinity : Infinity;
  }
  if (!/^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(raw)) return undefined;
  return Number(raw);
}

function parseLabels(raw: string, where: string): Record<string, string> {
  const labels: Record<string, string> = {};
  let i = 0;
  while (i < raw.length) {
    const eq = raw.indexOf('=', i);
    if (eq < 0) throw new Error(`${where}: label without "="`);
    const name = raw.slice(i, eq).trim();
    if (!LABEL_NAME.test(name)) throw new Error(`${where}: bad label name "${name}"`);
    if (name in labels) throw new Error(`${where}: duplicate label "${name}"`);
    if (raw[eq + 1] !== '"') throw new Error(`${where}: label value not quoted`);
    let value = '';
    let j = eq + 2;
    for (;;) {
      const c = raw[j];
      if (c === undefined) throw new Error(`${where}: unterminated label value`);
      if (c === '"') break;
      if (c === '\\') {
        const next = raw[j + 1];
        if (next === 'n') value += '\n';
        else if (next === '\\' || next === '"') value += next;
        else throw new Error(`${where}: bad escape in label value`);
        j += 2;
      } else {
        value += c;
        j++;
      }
    }
    labels[name] = value;
    i = j + 1;
    if (raw[i] === ',') i++;
    else if (i < raw.length) throw new Error(`${where}: expected "," between labels`);
  }
  return labels;
}

function unescapeHelp(raw: string): string {
  return raw.replace(/\\(n|\\)/g, (_, c: string) => (c === 'n' ? '\n' : '\\'));
}

/** A histogram's buckets are cumulative and its +Inf bucket equals its count, per label set. */
function checkFamily(family: MetricFamily): void {
  if (family.type === 'counter') {
    for (const s of family.samples) {
      if (!(s.value >= 0)) throw new Error(`counter ${family.name} has value ${s.value}`);
    }
  }
  if (family.type !== 'histogram') return;
  const groups = new Map<string, { buckets: [number, number][]; count?: number }>();
  for (const s of family.samples) {
    const { le, ...rest } = s.labels;
    const key = JSON.stringify(Object.entries(rest).sort());
    let group = groups.get(key);
    if (group === undefined) groups.set(key, (group = { buckets: [] }));
    if (s.name.endsWith('_bucket')) {
      const bound = le === undefined ? undefined : parseValue(le);
      if (bound === undefined) throw new Error(`histogram ${family.name}: bucket without a valid le`);
      group.buckets.push([bound, s.value]);
    } else if (s.name.endsWith('_count')) {
      group.count = s.value;
    }
  }
  for (const group of groups.values()) {
    const sorted = group.buckets.sort((a, b) => a[0] - b[0]);
    for (let i = 1; i < sorted.length; i++) {
      if (sorted[i]![1] < sorted[i - 1]![1])
        throw new Error(`histogram ${family.name}: buckets not cumulative`);
    }
    const inf = sorted.at(-1);
    if (inf === undefined || inf[0] !== Infinity) throw new Error(`histogram ${family.name}: no +Inf bucket`);
    if (group.count !== inf[1]) throw new Error(`histogram ${family.name}: +Inf bucket differs from count`);
  }
}
