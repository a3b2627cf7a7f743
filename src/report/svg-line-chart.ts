/**
 * A self-contained SVG line chart: several series, x and y axes with ticks and grid, a legend,
 * optional vertical markers with labels (events such as "backend restarted"), and per-point
 * flagging (hollow, dashed markers, e.g. results the load client itself limited). Plain SVG with
 * inline attributes and no script or external font, so it reads in any viewer and on GitHub. Pure.
 */
import { formatTick } from './format.js';
import { makeScale, type ScaleKind } from './scale.js';

export interface ChartPoint {
  x: number;
  /** null leaves a gap (no data: a target that was down). */
  y: number | null;
  /** Draw this point hollow with a dashed outline; what that means is the spec's `flaggedLabel`. */
  flagged?: boolean;
}

export interface ChartSeries {
  name: string;
  points: readonly ChartPoint[];
  /** CSS colour; defaults to a colour-blind-safe palette in series order. */
  color?: string;
  /** Draw the line dashed (a reference series, such as a ceiling). */
  dashed?: boolean;
}

export interface ChartMarker {
  x: number;
  label: string;
  color?: string;
}

export interface LineChartSpec {
  title: string;
  subtitle?: string;
  xLabel: string;
  yLabel: string;
  series: readonly ChartSeries[];
  /** Default `linear`; `points` spaces distinct x values evenly; `log` needs x > 0. */
  xScale?: ScaleKind;
  /** Explicit x ticks (default: every distinct x for `points`, nice values otherwise). */
  xTicks?: readonly number[];
  /** Fixed y range; by default from 0 to a nice value above the data. */
  yMin?: number;
  yMax?: number;
  markers?: readonly ChartMarker[];
  /** Legend text explaining flagged points; the entry appears only when some point is flagged. */
  flaggedLabel?: string;
  width?: number;
  height?: number;
  formatX?: (value: number) => string;
  formatY?: (value: number) => string;
}

/** Okabe-Ito colours: distinguishable with the common colour-vision deficiencies. */
export const PALETTE = [
  '#0072B2',
  '#D55E00',
  '#009E73',
  '#CC79A7',
  '#E69F00',
  '#56B4E9',
  '#000000',
  '#F0E442',
];
/** Each series also gets its own marker shape, so the chart still reads in greyscale. */
const SHAPES = ['circle', 'square', 'triangle', 'diamond'] as const;
type Shape = (typeof SHAPES)[number];

const FONT = 'font-family="Helvetica, Arial, sans-serif"';
const CHAR_WIDTH = 6.6; // rough width of a 12px sans-serif character, for layout only

export function escapeXml(text: string): string {
  return text
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&apos;');
}

const num = (v: number): string => String(Math.round(v * 10) / 10);

function marker(shape: Shape, x: number, y: number, color: string, flagged: boolean): string {
  const fill = flagged ? '#ffffff' : color;
  const stroke = `stroke="${color}" stroke-width="${flagged ? 1.6 : 1}"${flagged ? ' stroke-dasharray="2 1.5"' : ''}`;
  const r = 4;
  switch (shape) {
    case 'square':
      return `<rect x="${num(x - r)}" y="${num(y - r)}" width="${r * 2}" height="${r * 2}" fill="${fill}" ${stroke}/>`;
    case 'triangle':
      return `<polygon points="${num(x)},${num(y - r - 1)} ${num(x + r + 1)},${num(y + r)} ${num(x - r - 1)},${num(y + r)}" fill="${fill}" ${stroke}/>`;
    case 'diamond':
      return `<polygon points="${num(x)},${num(y - r - 1)} ${num(x + r + 1)},${num(y)} ${num(x)},${num(y + r + 1)} ${num(x - r - 1)},${num(y)}" fill="${fill}" ${stroke}/>`;
    default:
      return `<circle cx="${num(x)}" cy="${num(y)}" r="${r}" fill="${fill}" ${stroke}/>`;
  }
}

interface LegendItem {
  label: string;
  draw: (x: number, y: number) => string;
  width: number;
}

/** Lay legend items out left to right, wrapping; returns the SVG and the height used. */
function legend(
  items: LegendItem[],
  left: number,
  top: number,
  maxWidth: number,
): { svg: string; height: number } {
  const rowHeight = 18;
  let x = left;
  let y = top;
  const parts: string[] = [];
  for (const item of items) {
    if (x > left && x + item.width > left + maxWidth) {
      x = left;
      y += rowHeight;
    }
    parts.push(item.draw(x, y));
    x += item.width + 18;
  }
  return { svg: parts.join(''), height: items.length === 0 ? 0 : y - top + rowHeight };
}

export function renderLineChart(spec: LineChartSpec): string {
  const width = spec.width ?? 760;
  const height = spec.height ?? 420;
  const formatX = spec.formatX ?? formatTick;
  const formatY = spec.formatY ?? formatTick;
  const colors = spec.series.map((s, i) => s.color ?? PALETTE[i % PALETTE.length] ?? '#000000');
  const shapes = spec.series.map((_, i) => SHAPES[i % SHAPES.length] ?? 'circle');
  const anyFlagged = spec.series.some((s) => s.points.some((p) => p.flagged === true && p.y !== null));

  // Legend first: its height decides where the plot starts.
  const items: LegendItem[] = spec.series.map((s, i) => {
    const color = colors[i] ?? '#000000';
    const label = escapeXml(s.name);
    return {
      label,
      width: 34 + s.name.length * CHAR_WIDTH,
      draw: (x, y) =>
        `<line x1="${x}" y1="${y}" x2="${x + 24}" y2="${y}" stroke="${color}" stroke-width="2"${s.dashed === true ? ' stroke-dasharray="6 4"' : ''}/>` +
        marker(shapes[i] ?? 'circle', x + 12, y, color, false) +
        `<text x="${x + 30}" y="${y + 4}" font-size="12" ${FONT} fill="#222">${label}</text>`,
    };
  });
  if (anyFlagged && spec.flaggedLabel !== undefined) {
    const label = escapeXml(spec.flaggedLabel);
    items.push({
      label,
      width: 24 + spec.flaggedLabel.length * CHAR_WIDTH,
      draw: (x, y) =>
        marker('circle', x + 8, y, '#555555', true) +
        `<text x="${x + 20}" y="${y + 4}" font-size="12" ${FONT} fill="#222">${label}</text>`,
    });
  }
  const left = 78;
  const right = 24;
  const titleHeight = spec.subtitle === undefined ? 34 : 52;
  const legendBlock = legend(items, left, titleHeight + 6, width - left - right);
  const top = titleHeight + legendBlock.height + 14;
  const bottom = 52;
  const plotW = width - left - right;
  const plotH = Math.max(60, height - top - bottom);

  const xs = spec.series.flatMap((s) => s.points.map((p) => p.x));
  const markerXs = (spec.markers ?? []).map((m) => m.x);
  const ys = spec.series.flatMap((s) => s.points.flatMap((p) => (p.y === null ? [] : [p.y])));
  const xScale = makeScale(spec.xScale ?? 'linear', [...xs, ...markerXs], left, left + plotW, {
    zero: false,
    ...(spec.xTicks ? { ticks: spec.xTicks } : {}),
  });
  const yScale = makeScale('linear', ys, top + plotH, top, {
    ...(spec.yMin !== undefined ? { min: spec.yMin } : {}),
    ...(spec.yMax !== undefined ? { max: spec.yMax } : {}),
  });

  const out: string[] = [];
  out.push(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" role="img">`,
    `<title>${escapeXml(spec.title)}</title>`,
    `<rect x="0" y="0" width="${width}" height="${height}" fill="#ffffff"/>`,
    `<text x="${left}" y="22" font-size="16" font-weight="bold" ${FONT} fill="#111">${escapeXml(spec.title)}</text>`,
  );
  if (spec.subtitle !== undefined) {
    out.push(
      `<text x="${left}" y="40" font-size="12" ${FONT} fill="#555">${escapeXml(spec.subtitle)}</text>`,
    );
  }
  out.push(legendBlock.svg);

  // Grid and y ticks.
  for (const t of yScale.ticks) {
    const y = yScale.map(t);
    out.push(
      `<line x1="${left}" y1="${num(y)}" x2="${left + plotW}" y2="${num(y)}" stroke="#e3e3e3" stroke-width="1"/>`,
      `<text x="${left - 8}" y="${num(y + 4)}" font-size="11" ${FONT} fill="#444" text-anchor="end">${escapeXml(formatY(t))}</text>`,
    );
  }
  // x ticks.
  for (const t of xScale.ticks) {
    const x = xScale.map(t);
    out.push(
      `<line x1="${num(x)}" y1="${top + plotH}" x2="${num(x)}" y2="${top + plotH + 5}" stroke="#444" stroke-width="1"/>`,
      `<text x="${num(x)}" y="${top + plotH + 18}" font-size="11" ${FONT} fill="#444" text-anchor="middle">${escapeXml(formatX(t))}</text>`,
    );
  }
  // Axes.
  out.push(
    `<line x1="${left}" y1="${top}" x2="${left}" y2="${top + plotH}" stroke="#444" stroke-width="1"/>`,
    `<line x1="${left}" y1="${top + plotH}" x2="${left + plotW}" y2="${top + plotH}" stroke="#444" stroke-width="1"/>`,
    `<text x="${left + plotW / 2}" y="${height - 12}" font-size="12" ${FONT} fill="#222" text-anchor="middle">${escapeXml(spec.xLabel)}</text>`,
    `<text x="16" y="${top + plotH / 2}" font-size="12" ${FONT} fill="#222" text-anchor="middle" transform="rotate(-90 16 ${top + plotH / 2})">${escapeXml(spec.yLabel)}</text>`,
  );
  // Vertical markers, labels staggered so neighbours do not overlap.
  (spec.markers ?? []).forEach((m, i) => {
    const x = xScale.map(m.x);
    const color = m.color ?? '#777777';
    const labelY = top + 12 + (i % 3) * 13;
    out.push(
      `<line x1="${num(x)}" y1="${top}" x2="${num(x)}" y2="${top + plotH}" stroke="${color}" stroke-width="1" stroke-dasharray="4 3"/>`,
      `<text x="${num(x + 4)}" y="${labelY}" font-size="11" ${FONT} fill="${color}">${escapeXml(m.label)}</text>`,
    );
  });
  // Series: a polyline per run of consecutive points with data, then the markers on top.
  // Dashed (reference) series first, so the measured points are drawn over them.
  const order = spec.series
    .map((s, i) => ({ s, i }))
    .sort((a, b) => Number(b.s.dashed === true) - Number(a.s.dashed === true));
  order.forEach(({ s, i }) => {
    const color = colors[i] ?? '#000000';
    const sorted = [...s.points].sort((a, b) => a.x - b.x);
    let run: string[] = [];
    const flush = () => {
      if (run.length > 1) {
        out.push(
          `<polyline points="${run.join(' ')}" fill="none" stroke="${color}" stroke-width="2"${s.dashed === true ? ' stroke-dasharray="6 4"' : ''}/>`,
        );
      }
      run = [];
    };
    for (const p of sorted) {
      if (p.y === null) {
        flush();
        continue;
      }
      run.push(`${num(xScale.map(p.x))},${num(yScale.map(p.y))}`);
    }
    flush();
    for (const p of sorted) {
      if (p.y === null) continue;
      out.push(marker(shapes[i] ?? 'circle', xScale.map(p.x), yScale.map(p.y), color, p.flagged === true));
    }
  });
  out.push('</svg>');
  return `${out.join('\n')}\n`;
}
