/**
 * A file of `NAME=value` lines, the same names as the environment variables a program reads
 * (`# comments`, blank lines and optional `export ` allowed, values optionally quoted). The
 * balancer reads one at start and again at every reload, so a reload can change its settings
 * without touching the environment PM2 gave it. Pure: text in, variables out, every bad line named.
 */
import { ConfigError } from '../errors.js';

const LINE = /^(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.*)$/;

export function parseEnvFile(text: string, file: string): Record<string, string> {
  const vars: Record<string, string> = {};
  const problems: string[] = [];
  text.split(/\r?\n/).forEach((raw, i) => {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) return;
    const m = LINE.exec(line);
    if (m === null) {
      problems.push(`${file}:${i + 1}: "${line}" is not NAME=value`);
      return;
    }
    const [, name = '', rawValue = ''] = m;
    vars[name] = unquote(rawValue.trim());
  });
  if (problems.length > 0) throw new ConfigError(problems);
  return vars;
}

function unquote(value: string): string {
  const q = value[0];
  if ((q === '"' || q === "'") && value.length >= 2 && value.endsWith(q)) return value.slice(1, -1);
  return value;
}
