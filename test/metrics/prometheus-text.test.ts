import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parsePrometheusText, sumSamples } from '../helpers/prometheus-text.js';

const GOOD = `# HELP reqs_total Requests answered
# TYPE reqs_total counter
reqs_total{upstream="a",status="200"} 3
reqs_total{upstream="b",status="200"} 4
reqs_total{upstream="b",status="502"} 1
# TYPE lat histogram
lat_bucket{le="0.1"} 1
lat_bucket{le="1"} 3
lat_bucket{le="+Inf"} 4
lat_sum 2.5
lat_count 4
# a plain comment
odd{path="a \\"quoted\\" \\\\ back\\nslash"} NaN 1700000000000
`;

void test('a well-formed exposition parses into families with their samples', () => {
  const families = parsePrometheusText(GOOD);
  assert.equal(families.get('reqs_total')?.type, 'counter');
  assert.equal(families.get('reqs_total')?.help, 'Requests answered');
  assert.equal(families.get('reqs_total')?.samples.length, 3);
  assert.equal(families.get('lat')?.type, 'histogram');
  assert.equal(families.get('lat')?.samples.length, 5);
  assert.equal(families.get('odd')?.samples[0]?.labels.path, 'a "quoted" \\ back\nslash');
  assert.ok(Number.isNaN(families.get('odd')?.samples[0]?.value));
});

void test('samples are summed over the label sets that match', () => {
  const families = parsePrometheusText(GOOD);
  assert.equal(sumSamples(families, 'reqs_total'), 8);
  assert.equal(sumSamples(families, 'reqs_total', { upstream: 'b' }), 5);
  assert.equal(sumSamples(families, 'reqs_total', { status: '200' }), 7);
  assert.equal(sumSamples(families, 'lat_count'), 4);
  assert.equal(sumSamples(families, 'missing'), 0);
});

void test('malformed text is rejected with the line that is wrong', () => {
  const bad: [string, RegExp][] = [
    ['x{a="1"} one', /line 1 .*bad value/],
    ['x{a=1} 1', /not quoted/],
    ['x{a="1",a="2"} 1', /duplicate label/],
    ['x{1a="1"} 1', /bad label name/],
    ['x{a="1" b="2"} 1', /expected ","/],
    ['x{a="1} 1', /unterminated|not a sample/],
    ['x 1\n# TYPE x counter', /TYPE after samples/],
    ['# TYPE x wobbly', /unknown type/],
    ['1x 2', /not a sample line/],
    ['# TYPE c counter\nc -1', /counter c has value -1/],
    ['# TYPE h histogram\nh_bucket{le="1"} 2\nh_bucket{le="+Inf"} 1\nh_count 1', /not cumulative/],
    ['# TYPE h histogram\nh_bucket{le="1"} 1\nh_count 1', /no \+Inf bucket/],
    ['# TYPE h histogram\nh_bucket{le="+Inf"} 2\nh_count 3', /differs from count/],
  ];
  for (const [text, expected] of bad) {
    assert.throws(() => parsePrometheusText(text), expected, text);
  }
});
