/**
 * Number formatting for reports: fixed, locale-independent output (a report made on one machine
 * must read the same on another), thousands separated by commas.
 */

/** `12345.6` → `12,346`; `NaN` and infinities → `-`. */
export function formatInt(value: number): string {
  if (!Number.isFinite(value)) return '-';
  const rounded = Math.round(value);
  const sign = rounded < 0 ? '-' : '';
  return sign + grouped(String(Math.abs(rounded)));
}

/** Digits with a comma every three from the right; most numbers an access line shows have three or fewer. */
function grouped(digits: string): string {
  return digits.length <= 3 ? digits : digits.replace(/\B(?=(\d{3})+(?!\d))/g, ',');
}

/** Fixed decimals with separated thousands: `formatFixed(1234.567, 2)` → `1,234.57`. */
export function formatFixed(value: number, decimals: number): string {
  if (!Number.isFinite(value)) return '-';
  const fixed = Math.abs(value).toFixed(decimals);
  const dot = fixed.indexOf('.');
  const whole = grouped(dot === -1 ? fixed : fixed.slice(0, dot));
  const sign = value < 0 && Number(fixed) !== 0 ? '-' : '';
  return dot === -1 ? sign + whole : `${sign}${whole}${fixed.slice(dot)}`;
}

/**
 * About three significant digits, for values whose scale varies (latencies from 0.08 ms to 900 ms):
 * `0.0834` → `0.083`, `4.567` → `4.57`, `45.67` → `45.7`, `4567` → `4,567`.
 */
export function formatSignificant(value: number): string {
  if (!Number.isFinite(value)) return '-';
  const abs = Math.abs(value);
  if (abs === 0) return '0';
  if (abs >= 100) return formatInt(value);
  const decimals = Math.min(4, 2 - Math.floor(Math.log10(abs)));
  return formatFixed(value, decimals);
}

/** An axis tick: as few decimals as the value needs (`50`, `2.5`, `0.25`, `12,000`). */
export function formatTick(value: number): string {
  if (!Number.isFinite(value)) return '-';
  const rounded = Number(value.toPrecision(6));
  const decimals = Math.min(6, (String(rounded).split('.')[1] ?? '').length);
  return formatFixed(rounded, decimals);
}

/** A ratio as a percentage: `0.1234` → `12.3%`. */
export function formatPercent(ratio: number, decimals = 1): string {
  if (!Number.isFinite(ratio)) return '-';
  return `${formatFixed(ratio * 100, decimals)}%`;
}

/** A signed relative difference: `0.123` → `+12.3%`, `-0.05` → `-5.0%`. */
export function formatSignedPercent(ratio: number, decimals = 1): string {
  if (!Number.isFinite(ratio)) return '-';
  const text = formatPercent(ratio, decimals);
  return ratio > 0 && !text.startsWith('-') ? `+${text}` : text;
}

const BYTE_UNITS = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];

/** Binary units with three significant digits: `76800` → `75.0 KiB`. */
export function formatBytes(bytes: number): string {
  if (!Number.isFinite(bytes)) return '-';
  let value = Math.abs(bytes);
  let unit = 0;
  while (value >= 1024 && unit < BYTE_UNITS.length - 1) {
    value /= 1024;
    unit++;
  }
  const sign = bytes < 0 ? '-' : '';
  if (unit === 0) return `${sign}${Math.round(value)} B`;
  return `${sign}${value >= 100 ? Math.round(value) : value.toFixed(value >= 10 ? 1 : 2)} ${BYTE_UNITS[unit]}`;
}

/** Milliseconds, readable at any scale: `0.083 ms`, `12.4 ms`, `1.52 s`; `-` for none. */
export function formatMs(ms: number | null): string {
  if (ms === null || !Number.isFinite(ms)) return '-';
  if (Math.abs(ms) >= 1000) return `${formatSignificant(ms / 1000)} s`;
  return `${formatSignificant(ms)} ms`;
}
