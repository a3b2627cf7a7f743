/** Axis arithmetic for charts: "nice" tick values and value-to-pixel mappings. Pure. */

/** Round a raw step up to 1, 2, 2.5 or 5 times a power of ten, so tick labels read well. */
export function niceStep(rawStep: number): number {
  if (!(rawStep > 0) || !Number.isFinite(rawStep)) return 1;
  const power = 10 ** Math.floor(Math.log10(rawStep));
  const fraction = rawStep / power;
  const nice = fraction <= 1 ? 1 : fraction <= 2 ? 2 : fraction <= 2.5 ? 2.5 : fraction <= 5 ? 5 : 10;
  return nice * power;
}

/**
 * About `count` evenly spaced round values covering [min, max]. The first tick is at or below min
 * and the last at or above max, so every data point lies inside the axis.
 */
export function niceTicks(min: number, max: number, count = 5): number[] {
  if (!Number.isFinite(min) || !Number.isFinite(max)) return [0, 1];
  if (max < min) [min, max] = [max, min];
  if (max === min) {
    const span = min === 0 ? 1 : Math.abs(min) * 0.1;
    min -= span;
    max += span;
    if (min < 0 && max - span * 2 >= 0) min = 0;
  }
  const step = niceStep((max - min) / Math.max(1, count));
  const first = Math.floor(min / step + 1e-9) * step;
  const ticks: number[] = [];
  for (let v = first; v < max + step * 0.999; v += step) {
    ticks.push(Number(v.toPrecision(12)));
    if (ticks.length > 100) break;
  }
  if (ticks.length < 2) ticks.push(Number((first + step).toPrecision(12)));
  return ticks;
}

/** Ticks for a log axis: 1, 2, 5 times powers of ten inside [min, max] (both > 0). */
export function logTicks(min: number, max: number): number[] {
  if (!(min > 0) || !(max > 0)) return [1];
  const ticks: number[] = [];
  for (let p = Math.floor(Math.log10(min)); p <= Math.ceil(Math.log10(max)); p++) {
    for (const m of [1, 2, 5]) {
      const v = m * 10 ** p;
      if (v >= min * 0.999 && v <= max * 1.001) ticks.push(Number(v.toPrecision(12)));
    }
  }
  return ticks.length > 0 ? ticks : [min];
}

export type ScaleKind = 'linear' | 'log' | 'points';

/** Maps a data value to a pixel position between `from` and `to`. */
export interface Scale {
  kind: ScaleKind;
  map(value: number): number;
  ticks: number[];
}

/**
 * Build a scale. `linear` spans nice ticks over the values (from 0 when `zero`), `log` spans the
 * values on a log axis, `points` spaces the distinct values evenly (concurrency levels 1, 5, 10,
 * 15, 50, 100 read better that way than on either continuous axis).
 */
export function makeScale(
  kind: ScaleKind,
  values: readonly number[],
  from: number,
  to: number,
  options: { zero?: boolean; ticks?: readonly number[]; min?: number; max?: number } = {},
): Scale {
  const finite = values.filter((v) => Number.isFinite(v));
  if (kind === 'points') {
    const distinct = [...new Set([...finite, ...(options.ticks ?? [])])].sort((a, b) => a - b);
    const index = new Map(distinct.map((v, i) => [v, i]));
    // Keep the outermost points off the axis lines.
    const inset = (to - from) * 0.04;
    const a = from + inset;
    const b = to - inset;
    return {
      kind,
      ticks: options.ticks ? [...options.ticks] : distinct,
      map: (v) =>
        distinct.length <= 1 ? (from + to) / 2 : a + ((index.get(v) ?? 0) / (distinct.length - 1)) * (b - a),
    };
  }
  if (kind === 'log') {
    const positive = finite.filter((v) => v > 0);
    const lo = options.min ?? Math.min(...(positive.length > 0 ? positive : [1]));
    const hi = options.max ?? Math.max(...(positive.length > 0 ? positive : [10]));
    const ticks = options.ticks ? [...options.ticks] : logTicks(lo, hi);
    const a = Math.log10(Math.min(lo, ...ticks));
    const b = Math.log10(Math.max(hi, ...ticks));
    const span = b - a || 1;
    return { kind, ticks, map: (v) => from + ((Math.log10(Math.max(v, 1e-12)) - a) / span) * (to - from) };
  }
  let lo = options.min ?? Math.min(...(finite.length > 0 ? finite : [0]));
  let hi = options.max ?? Math.max(...(finite.length > 0 ? finite : [1]));
  if (options.zero !== false && options.min === undefined) lo = Math.min(0, lo);
  if (hi === lo) hi = lo + 1;
  const ticks = options.ticks ? [...options.ticks] : niceTicks(lo, hi);
  const a = Math.min(lo, ...ticks);
  const b = Math.max(hi, ...ticks);
  const span = b - a || 1;
  return { kind, ticks, map: (v) => from + ((v - a) / span) * (to - from) };
}
