/**
 * The access lines' batch writer over a real node Writable whose reader the test holds back: lines
 * held until the batch is full or its flush time has come, then one write; no write over the chunk
 * size or cut mid-line; one write in flight; the backlog bounded (lines beyond it dropped, counted,
 * reported when the reader catches up); `flushNow` and `close` writing what waits.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { LineBatch, PIPE_BUF, type DropReport } from '../../src/logging/line-batch.js';
import { waitFor } from '../helpers/wait.js';

/** A Writable that records each write and, while held, completes none. */
class HeldSink extends Writable {
  readonly writes: string[] = [];
  private held: (() => void)[] = [];
  holding = false;

  constructor() {
    super({ decodeStrings: false, highWaterMark: 1 });
  }

  override _write(chunk: string, _encoding: BufferEncoding, done: (err?: Error | null) => void): void {
    this.writes.push(chunk);
    if (this.holding) this.held.push(done);
    else done();
  }

  release(): void {
    this.holding = false;
    for (const done of this.held.splice(0)) done();
  }

  get text(): string {
    return this.writes.join('');
  }
}

function recorder(): DropReport & { events: string[] } {
  const events: string[] = [];
  return {
    events,
    dropping: (bytes) => events.push(`dropping ${bytes}`),
    dropped: (count, caughtUp) => events.push(`dropped ${count}${caughtUp ? '' : ', still behind'}`),
  };
}

const turn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));
const line = (i: number, width = 40): string => `${`line ${i} `.padEnd(width - 1, '.')}\n`;

void test('lines wait for the batch to fill or for its flush time, then go out in one write, in order', async (t) => {
  const sink = new HeldSink();
  const batch = new LineBatch({ sink, backlogBytes: 1 << 20, flushMs: 300, report: recorder() });
  t.after(() => batch.close());
  for (let i = 0; i < 10; i++) batch.add(line(i));
  await turn();
  assert.equal(sink.writes.length, 0, 'a batch that is not full waits for its flush time');
  await waitFor(() => sink.writes.length > 0, 'the flush');
  assert.equal(sink.writes.length, 1);
  assert.equal(sink.text, Array.from({ length: 10 }, (_, i) => line(i)).join(''));
});

void test('a burst bigger than a chunk is written in chunks that end at a line end and never exceed it', async (t) => {
  const sink = new HeldSink();
  const batch = new LineBatch({ sink, backlogBytes: 1 << 20, report: recorder() });
  t.after(() => batch.close());
  const lines = Array.from({ length: 1000 }, (_, i) => line(i, 30 + (i % 50)));
  for (const l of lines) batch.add(l);
  await waitFor(() => sink.text.length >= lines.join('').length, 'every line written');
  assert.equal(sink.text, lines.join(''), 'every line once, in order');
  assert.ok(sink.writes.length > 10, `${sink.writes.length} writes`);
  for (const chunk of sink.writes) {
    assert.ok(Buffer.byteLength(chunk) <= PIPE_BUF, `a write of ${Buffer.byteLength(chunk)} bytes`);
    assert.ok(chunk.endsWith('\n'));
  }
});

void test('one write in flight: the next waits for it, and the waiting ones are bounded by the backlog', async (t) => {
  const sink = new HeldSink();
  sink.holding = true;
  const report = recorder();
  const batch = new LineBatch({
    sink,
    backlogBytes: 8 * 1024,
    chunkBytes: 1024,
    flushMs: 10,
    reportEveryMs: 300,
    report,
  });
  t.after(() => batch.close());
  // 400 lines of 40 bytes: 16,000 bytes against a backlog of 8 KiB.
  for (let i = 0; i < 400; i++) batch.add(line(i));
  await turn();
  assert.equal(sink.writes.length, 1, 'the reader holds the first (full) batch; the rest wait');
  assert.ok(batch.backlog <= 8 * 1024, `backlog ${batch.backlog}`);
  const kept = Math.floor((8 * 1024) / 40);
  assert.deepEqual(report.events, [`dropping ${8 * 1024}`]);

  sink.release();
  await waitFor(() => report.events.length >= 2, 'the count of dropped lines');
  assert.deepEqual(report.events, [`dropping ${8 * 1024}`, `dropped ${400 - kept}`]);
  assert.equal(sink.text, Array.from({ length: kept }, (_, i) => line(i)).join(''), 'the first lines, whole');
  assert.equal(batch.backlog, 0);

  // Caught up: lines are taken again.
  batch.add(line(1000));
  await waitFor(() => sink.text.endsWith(line(1000)), 'a line after the reader caught up');
});

void test('flushNow hands every waiting line to the sink at once, ahead of what is written after it', (t) => {
  const sink = new HeldSink();
  const batch = new LineBatch({ sink, backlogBytes: 1 << 20, report: recorder() });
  t.after(() => batch.close());
  batch.add(line(1));
  batch.add(line(2));
  batch.flushNow();
  sink.write('another line\n');
  assert.equal(sink.text, `${line(1)}${line(2)}another line\n`);
});

void test('close writes what waits, reports a spell of drops that never ended, and resolves once written', async () => {
  const sink = new HeldSink();
  sink.holding = true;
  const report = recorder();
  const batch = new LineBatch({ sink, backlogBytes: 4096, chunkBytes: 1024, report });
  for (let i = 0; i < 200; i++) batch.add(line(i));
  let closed = false;
  const closing = batch.close().then(() => (closed = true));
  assert.equal(batch.backlog, 4080, 'every kept line is handed to the sink');
  assert.deepEqual(report.events, ['dropping 4096', `dropped ${200 - 102}, still behind`]);
  await turn();
  assert.equal(closed, false, 'the sink has not taken them yet');
  sink.release();
  await closing;
  assert.equal(sink.text, Array.from({ length: 102 }, (_, i) => line(i)).join(''));
  assert.equal(batch.backlog, 0);
  // A line after close is written alone, not lost.
  batch.add(line(500));
  assert.ok(sink.text.endsWith(line(500)));
});

void test('a reader that keeps falling behind: one notice, then one count a second for every spell in it', async (t) => {
  const sink = new HeldSink();
  const report = recorder();
  const batch = new LineBatch({ sink, backlogBytes: 4096, chunkBytes: 1024, flushMs: 10, report });
  t.after(() => batch.close());
  let sent = 0;
  for (let spell = 0; spell < 5; spell++) {
    sink.holding = true;
    for (let i = 0; i < 150; i++) batch.add(line(sent++));
    sink.release();
    await waitFor(() => batch.backlog === 0, 'the reader to catch up');
  }
  assert.deepEqual(report.events, ['dropping 4096'], 'five spells, one notice');
  await waitFor(() => report.events.length === 2, 'the count');
  const written = sink.text.split('\n').length - 1;
  assert.deepEqual(report.events, ['dropping 4096', `dropped ${sent - written}`]);
  assert.ok(sent - written > 0);
});
