import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  LeastRequest,
  RoundRobin,
  SmoothWeightedRoundRobin,
  localTickets,
  policyFor,
  smoothSequence,
  type Candidate,
  type SelectionPolicy,
} from '../../src/balancer/selection.js';

interface Host extends Candidate {
  name: string;
  available: boolean;
  weight: number;
  load: number;
}

const host = (name: string, weight = 1): Host => ({ name, available: true, weight, load: 0 });

function picks(policy: SelectionPolicy<Host>, pool: Host[], n: number, exclude?: Host[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < n; i++) out.push(policy.select(pool, exclude)?.name ?? '-');
  return out;
}

void test('round robin visits every host in turn, per request', () => {
  const pool = [host('a'), host('b'), host('c'), host('d')];
  assert.deepEqual(picks(new RoundRobin(), pool, 8), ['a', 'b', 'c', 'd', 'a', 'b', 'c', 'd']);
});

void test('round robin skips unavailable hosts and keeps the order of the others', () => {
  const pool = [host('a'), host('b'), host('c'), host('d')];
  const rr = new RoundRobin<Host>();
  assert.deepEqual(picks(rr, pool, 2), ['a', 'b']);
  pool[2]!.available = false;
  assert.deepEqual(picks(rr, pool, 4), ['d', 'a', 'b', 'd']);
  pool[2]!.available = true;
  assert.deepEqual(picks(rr, pool, 4), ['a', 'b', 'c', 'd']);
});

void test('round robin gives none when every host is unavailable, and resumes after', () => {
  const pool = [host('a'), host('b')];
  const rr = new RoundRobin<Host>();
  for (const h of pool) h.available = false;
  assert.equal(rr.select(pool), undefined);
  pool[1]!.available = true;
  assert.deepEqual(picks(rr, pool, 2), ['b', 'b']);
});

void test('round robin never picks a host the request already tried', () => {
  const pool = [host('a'), host('b'), host('c')];
  const rr = new RoundRobin<Host>();
  assert.deepEqual(picks(rr, pool, 3, [pool[0]!]), ['b', 'c', 'b']);
  assert.equal(rr.select(pool, pool), undefined);
});

void test('round robin on an empty pool gives none', () => {
  assert.equal(new RoundRobin<Host>().select([]), undefined);
});

void test('smooth weighted round robin spreads the heavy host out (nginx order)', () => {
  const pool = [host('a', 5), host('b'), host('c')];
  assert.deepEqual(picks(new SmoothWeightedRoundRobin(), pool, 7), ['a', 'a', 'b', 'a', 'c', 'a', 'a']);
});

void test('smooth weighted round robin gives each host its share over a cycle', () => {
  const pool = [host('a', 3), host('b', 2), host('c', 1)];
  const counts = new Map<string, number>();
  for (const name of picks(new SmoothWeightedRoundRobin(), pool, 60))
    counts.set(name, (counts.get(name) ?? 0) + 1);
  assert.deepEqual(Object.fromEntries(counts), { a: 30, b: 20, c: 10 });
});

void test('smooth weighted round robin skips unavailable and tried hosts', () => {
  const pool = [host('a', 5), host('b'), host('c')];
  pool[0]!.available = false;
  assert.deepEqual(picks(new SmoothWeightedRoundRobin(), pool, 4), ['b', 'c', 'b', 'c']);
  assert.deepEqual(picks(new SmoothWeightedRoundRobin(), pool, 2, [pool[1]!]), ['c', 'c']);
  pool[2]!.available = false;
  assert.equal(new SmoothWeightedRoundRobin<Host>().select(pool, [pool[1]!]), undefined);
});

void test('equal weights get plain round robin, unequal ones the weighted policy', () => {
  assert.equal(policyFor([host('a'), host('b')]).name, 'round-robin');
  assert.equal(policyFor([host('a', 2), host('b')]).name, 'weighted-round-robin');
  assert.equal(policyFor<Host>([]).name, 'round-robin');
});

void test('round robin takes its turn from a shared ticket source: two pickers make one rotation', () => {
  const pool = [host('a'), host('b'), host('c')];
  let next = 0;
  const shared = { ticket: () => next++, epoch: 0 };
  const one = new RoundRobin<Host>(shared);
  const two = new RoundRobin<Host>(shared);
  const order = [one, two, two, one, two, one].map((p) => p.select(pool)?.name);
  assert.deepEqual(order, ['a', 'b', 'c', 'a', 'b', 'c']);
});

void test('the smooth sequence leaves out hosts of weight 0 and follows a new weight when the epoch moves', () => {
  assert.deepEqual(
    smoothSequence([host('a', 3), host('b', 0), host('c', 1)]).map((h) => h.name),
    ['a', 'a', 'c', 'a'],
  );
  const pool = [host('a'), host('b')];
  const tickets = { next: 0, epoch: 0, ticket: () => tickets.next++ };
  const rr = new RoundRobin<Host>(tickets);
  assert.equal(rr.name, 'round-robin');
  assert.deepEqual(picks(rr, pool, 4), ['a', 'b', 'a', 'b']);
  pool[0]!.weight = 3;
  assert.deepEqual(picks(rr, pool, 4), ['a', 'b', 'a', 'b'], 'the old sequence until the epoch moves');
  tickets.epoch++;
  tickets.next = 0;
  assert.deepEqual(picks(rr, pool, 8), ['a', 'a', 'b', 'a', 'a', 'a', 'b', 'a']);
  assert.equal(rr.name, 'weighted-round-robin');
});

void test('least request: the one in turn unless the other has fewer in flight per unit of weight; a tie stays in turn', () => {
  const pool = [host('a'), host('b'), host('c')];
  const lr = new LeastRequest<Host>(localTickets(), () => 0.5); // the random pick starts at b
  assert.deepEqual(picks(lr, pool, 3), ['a', 'b', 'c'], 'an idle pool is served in rotation');
  pool[0]!.load = 3;
  assert.equal(lr.select(pool)?.name, 'b', "a's turn, but b has fewer in flight");
  assert.equal(lr.select(pool)?.name, 'b', "b's turn, against c: a tie stays with b");
  pool[1]!.load = 2;
  pool[1]!.weight = 4;
  assert.equal(lr.select(pool)?.name, 'b', "c's turn, but b has 3/4 per unit of weight against c's 1");
  assert.equal(lr.select(pool, [pool[1]!])?.name, 'c', 'never one the request tried');
  for (const h of pool) h.available = false;
  assert.equal(lr.select(pool), undefined);
  assert.equal(new LeastRequest<Host>().select([]), undefined);
});

void test('policyFor gives the policy of each kind', () => {
  assert.equal(policyFor([host('a')], 'least-request').name, 'least-request');
  assert.equal(policyFor([host('a')], 'round-robin').name, 'round-robin');
});

void test('round robin finds the one host left even when other pickers take every other ticket', () => {
  const pool = [host('a'), host('b')];
  let next = 0;
  // Another worker takes a ticket between each of ours: ours all land on a, which was tried.
  const interleaved = {
    ticket: () => {
      const mine = next;
      next += 2;
      return mine;
    },
    epoch: 0,
  };
  const rr = new RoundRobin<Host>(interleaved);
  assert.equal(rr.select(pool, [pool[0]!])?.name, 'b');
  const lr = new LeastRequest<Host>(interleaved, () => 0);
  assert.equal(lr.select(pool, [pool[0]!])?.name, 'b');
});
