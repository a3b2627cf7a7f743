/** The settings a run uses, one line each with its flag, variable and whether it is the default. Pure. */
import type { OptionSpecs } from '../../src/config/options.js';

function show(value: unknown): string {
  if (Array.isArray(value)) return value.length === 0 ? '(none)' : value.map((v) => show(v)).join(',');
  if (typeof value === 'object' && value !== null) {
    return Object.values(value as Record<string, unknown>)
      .map((v) => String(v))
      .join('=');
  }
  return String(value);
}

export function settingsText(specs: OptionSpecs, values: Record<string, unknown>): string[] {
  return Object.entries(specs).map(([key, spec]) => {
    const value = values[key];
    const isDefault =
      typeof spec.default !== 'function' && JSON.stringify(spec.default) === JSON.stringify(value);
    const shown =
      isDefault && spec.defaultText !== undefined
        ? spec.defaultText
        : key.endsWith('Ms') && typeof value === 'number'
          ? `${value}ms`
          : show(value);
    const source = spec.env === undefined ? `--${spec.flag}` : `--${spec.flag} / ${spec.env}`;
    return `  ${source}: ${shown}${isDefault ? ' (default)' : ''}`;
  });
}
