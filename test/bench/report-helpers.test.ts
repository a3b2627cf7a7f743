import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  formatBytes,
  formatMs,
  formatFixed,
  formatInt,
  formatPercent,
  formatSignedPercent,
  formatSignificant,
  formatTick,
} from '../../src/report/format.js';
import { escapeCell, markdownTable } from '../../src/report/markdown-table.js';
import { logTicks, makeScale, niceStep, niceTicks } from '../../src/report/scale.js';
import { escapeXml, renderLineChart } from '../../src/report/svg-line-chart.js';

void test('numbers are formatted the same on every machine', () => {
  assert.equal(formatInt(1234567.6), '1,234,568');
  assert.equal(formatInt(-1234), '-1,234');
  assert.equal(formatInt(Number.NaN), '-');
  assert.equal(formatFixed(1234.567, 2), '1,234.57');
  assert.equal(formatFixed(-0.001, 2), '0.00');
  assert.equal(formatSignificant(0.08346), '0.0835');
  assert.equal(formatSignificant(4.567), '4.57');
  assert.equal(formatSignificant(45.67), '45.7');
  assert.equal(formatSignificant(4567), '4,567');
  assert.equal(formatTick(50), '50');
  assert.equal(formatTick(2.5), '2.5');
  assert.equal(formatTick(12000), '12,000');
  assert.equal(formatPercent(0.1234), '12.3%');
  assert.equal(formatSignedPercent(0.05), '+5.0%');
  assert.equal(formatSignedPercent(-0.05), '-5.0%');
  assert.equal(formatBytes(512), '512 B');
  assert.equal(formatBytes(72751), '71.0 KiB');
  assert.equal(formatBytes(1048576), '1.00 MiB');
  assert.equal(formatMs(0.25), '0.250 ms');
  assert.equal(formatMs(1520), '1.52 s');
});

void test('markdown tables pad, align and escape', () => {
  const table = markdownTable(
    ['name', { header: 'req/s', align: 'right' }],
    [
      ['a|b', '1,000'],
      ['c', '5'],
    ],
  );
  assert.equal(
    table,
    ['| name | req/s |', '| ---- | ----: |', '| a\\|b | 1,000 |', '| c    |     5 |'].join('\n'),
  );
  assert.equal(escapeCell('x\ny'), 'x y');
  assert.throws(() => markdownTable(['one'], [['a', 'b']]), /2 cells but the table has 1 columns/);
  assert.match(markdownTable(['a', 'b'], [['only']]), /\| only \|\s+\|/);
});

void test('ticks are round numbers covering the data', () => {
  assert.equal(niceStep(0.37), 0.5);
  assert.equal(niceStep(1.7), 2);
  assert.equal(niceStep(230), 250);
  assert.deepEqual(niceTicks(0, 9000), [0, 2000, 4000, 6000, 8000, 10000]);
  const ticks = niceTicks(3, 3);
  assert.ok(ticks.length >= 2 && (ticks[0] ?? 9) <= 3 && (ticks.at(-1) ?? 0) >= 3);
  assert.deepEqual(logTicks(1, 100), [1, 2, 5, 10, 20, 50, 100]);
  const points = makeScale('points', [1, 5, 10, 100], 0, 100);
  assert.ok(points.map(1) < points.map(5) && points.map(5) < points.map(100));
  assert.ok(
    Math.abs(points.map(5) - points.map(1) - (points.map(100) - points.map(10))) < 1e-9,
    'evenly spaced',
  );
  const linear = makeScale('linear', [10, 90], 300, 0);
  assert.equal(linear.map(0), 300, 'y axis starts at zero, drawn upwards');
});

void test('the SVG chart has a line and markers per series, gaps, flagged points, markers and a legend', () => {
  const svg = renderLineChart({
    title: 'rps <page>',
    subtitle: 'median of 3',
    xLabel: 'concurrency',
    yLabel: 'req/s',
    xScale: 'points',
    series: [
      {
        name: 'async',
        points: [
          { x: 1, y: 100 },
          { x: 5, y: 300, flagged: true },
          { x: 10, y: 280 },
        ],
      },
      {
        name: 'threaded',
        points: [
          { x: 1, y: 50 },
          { x: 5, y: null },
          { x: 10, y: 90 },
        ],
      },
      {
        name: 'ceiling',
        dashed: true,
        points: [
          { x: 1, y: 400 },
          { x: 10, y: 500 },
        ],
      },
    ],
    markers: [{ x: 5, label: 'restart' }],
    flaggedLabel: 'client-bound',
  });
  assert.match(svg, /^<svg xmlns="http:\/\/www\.w3\.org\/2000\/svg"/);
  assert.ok(svg.trimEnd().endsWith('</svg>'));
  assert.ok(!/<script/i.test(svg));
  assert.match(svg, /<title>rps &lt;page&gt;<\/title>/);
  // async: one polyline of 3 points; threaded: the gap leaves no polyline of 2+ points; ceiling dashed.
  assert.equal((svg.match(/<polyline /g) ?? []).length, 2);
  assert.equal((svg.match(/<polyline [^>]*stroke-dasharray/g) ?? []).length, 1);
  assert.equal(
    (svg.match(/stroke-dasharray="2 1.5"/g) ?? []).length,
    2,
    'the flagged point and its legend entry',
  );
  assert.match(svg, />restart<\/text>/);
  for (const label of ['async', 'threaded', 'ceiling', 'client-bound'])
    assert.match(svg, new RegExp(`>${label}</text>`));
  assert.equal(escapeXml(`a&"'`), 'a&amp;&quot;&apos;');
});

void test('no flagged-point legend entry when nothing is flagged', () => {
  const svg = renderLineChart({
    title: 't',
    xLabel: 'x',
    yLabel: 'y',
    series: [
      {
        name: 'a',
        points: [
          { x: 0, y: 1 },
          { x: 1, y: 2 },
        ],
      },
    ],
    flaggedLabel: 'client-bound',
  });
  assert.ok(!svg.includes('client-bound'));
});
