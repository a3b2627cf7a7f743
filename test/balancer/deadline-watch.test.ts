import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ACTIVE_NOW, DeadlineWatch, type Watched } from '../../src/balancer/deadline-watch.js';
import { keepAliveHintMs, reuseForMs } from '../../src/balancer/engines/upstream-agent.js';

interface Item extends Watched {
  name: string;
  clientBusy: boolean;
  responded: boolean;
}

function setup(timeoutMs = 1000, headMs = timeoutMs) {
  let now = 0;
  const expired: string[] = [];
  const why: string[] = [];
  const watch = new DeadlineWatch<Item>(
    { silenceMs: timeoutMs, headMs },
    (item, reason) => {
      expired.push(item.name);
      why.push(reason);
    },
    () => now,
  );
  const at = (ms: number): void => {
    now = ms;
    watch.tick();
  };
  return { watch, expired, why, at };
}

/** An attempt whose upstream has answered (only silence counts), unless `responded` is false. */
const item = (name: string, responded = true): Item => ({
  name,
  lastActivity: 0,
  headSince: 0,
  responded,
  clientBusy: false,
  watchPrev: null,
  watchNext: null,
});

void test('an attempt silent for the timeout expires once; others are left alone', () => {
  const { watch, expired, at } = setup(1000);
  const a = item('a');
  const b = item('b');
  watch.watch(a);
  at(600);
  watch.watch(b);
  at(999);
  assert.deepEqual(expired, []);
  at(1000);
  assert.deepEqual(expired, ['a']);
  at(1500);
  assert.deepEqual(expired, ['a']);
  at(1600);
  assert.deepEqual(expired, ['a', 'b']);
  at(5000);
  assert.deepEqual(expired, ['a', 'b'], 'expired items leave the watch');
  assert.equal(watch.size, 0);
});

void test('relayed bytes (ACTIVE_NOW) restart the count at the next tick', () => {
  const { watch, expired, at } = setup(1000);
  const a = item('a');
  watch.watch(a);
  at(900);
  a.lastActivity = ACTIVE_NOW;
  at(1000);
  at(1899);
  assert.deepEqual(expired, []);
  at(2000);
  assert.deepEqual(expired, ['a']);
});

void test('a busy client (uploading, or not reading) is not the upstream being slow', () => {
  const { watch, expired, at } = setup(1000);
  const a = item('a');
  a.clientBusy = true;
  watch.watch(a);
  at(5000);
  assert.deepEqual(expired, []);
  a.clientBusy = false;
  at(5999);
  assert.deepEqual(expired, []);
  at(6000);
  assert.deepEqual(expired, ['a']);
});

void test('an unwatched attempt never expires, whatever its place in the list', () => {
  const { watch, expired, at } = setup(1000);
  const [a, b, c] = [item('a'), item('b'), item('c')];
  watch.watch(a);
  watch.watch(b);
  watch.watch(c);
  watch.watch(c);
  assert.equal(watch.size, 3, 'watching twice links once');
  watch.unwatch(b);
  watch.unwatch(b);
  assert.equal(watch.size, 2);
  at(10_000);
  assert.deepEqual(expired.sort(), ['a', 'c']);
  watch.watch(b);
  watch.unwatch(b);
  at(20_000);
  assert.deepEqual(expired.sort(), ['a', 'c']);
  assert.equal(watch.size, 0);
});

void test('an attempt expired and retried in the same tick is watched again, not expired twice', () => {
  let now = 0;
  const expired: string[] = [];
  const watch: DeadlineWatch<Item> = new DeadlineWatch<Item>(
    { silenceMs: 1000, headMs: 1000 },
    (it) => {
      expired.push(it.name);
      watch.watch(it); // the retry's attempt
    },
    () => now,
  );
  const a = item('a');
  watch.watch(a);
  now = 1000;
  watch.tick();
  assert.deepEqual(expired, ['a']);
  assert.equal(watch.size, 1);
  now = 1500;
  watch.tick();
  assert.deepEqual(expired, ['a']);
});

void test('a response head trickling in expires at the head timeout from the start, however lively; a complete head stops that clock', () => {
  const { watch, expired, why, at } = setup(2000, 1000);
  const trickling = item('trickling', false);
  const answered = item('answered', false);
  watch.watch(trickling);
  watch.watch(answered);
  for (let ms = 100; ms < 1000; ms += 100) {
    trickling.lastActivity = ACTIVE_NOW; // a header byte every 100 ms
    at(ms);
  }
  answered.responded = true;
  assert.deepEqual(expired, []);
  trickling.lastActivity = ACTIVE_NOW;
  at(1000);
  assert.deepEqual(expired, ['trickling']);
  assert.deepEqual(why, ['head']);
  at(1999);
  assert.deepEqual(expired, ['trickling'], 'an answered attempt is held to the proxy timeout only');
  at(2000);
  assert.deepEqual(why, ['head', 'silence']);
});

void test('a silent upstream whose head is also late is reported as silent; a client still sending holds the head clock', () => {
  const { watch, expired, why, at } = setup(1000, 1000);
  const silent = item('silent', false);
  const uploading = item('uploading', false);
  uploading.clientBusy = true;
  watch.watch(silent);
  watch.watch(uploading);
  at(3000);
  assert.deepEqual(expired, ['silent']);
  assert.deepEqual(why, ['silence']);
  uploading.clientBusy = false;
  at(3999);
  assert.deepEqual(expired, ['silent']);
  uploading.lastActivity = ACTIVE_NOW;
  at(4000);
  assert.deepEqual(expired, ['silent', 'uploading']);
  assert.deepEqual(why, ['silence', 'head']);
});

void test('a head timeout longer than the proxy timeout is cut to it (the config refuses one anyway)', () => {
  const { watch, why, at } = setup(1000, 5000);
  const a = item('a', false);
  watch.watch(a);
  a.lastActivity = ACTIVE_NOW;
  at(500);
  a.lastActivity = ACTIVE_NOW;
  at(999);
  assert.deepEqual(why, []);
  a.lastActivity = ACTIVE_NOW;
  at(1000);
  assert.deepEqual(why, ['head']);
});

void test("the upstream's keep-alive hint is read from the raw headers", () => {
  assert.equal(keepAliveHintMs(['Content-Type', 'text/html', 'Keep-Alive', 'timeout=5']), 5000);
  assert.equal(keepAliveHintMs(['keep-alive', 'max=100, timeout=2']), 2000);
  assert.equal(keepAliveHintMs(['Keep-Alive', 'max=100']), undefined);
  assert.equal(keepAliveHintMs(['Connection', 'keep-alive']), undefined);
  assert.equal(keepAliveHintMs([]), undefined);
});

void test('an idle upstream connection is kept a second less than the upstream announces, or not at all', () => {
  assert.equal(reuseForMs([], 4000), 4000);
  assert.equal(reuseForMs(['Keep-Alive', 'timeout=10'], 4000), 4000);
  assert.equal(reuseForMs(['Keep-Alive', 'timeout=3'], 4000), 2000);
  assert.equal(reuseForMs(['Keep-Alive', 'timeout=1'], 4000), undefined);
});
