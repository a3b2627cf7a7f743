import { test } from 'node:test';
import assert from 'node:assert/strict';
import { noPrimaryWillCome } from '../../src/balancer/handover/holder-verdict.js';

// What `pm2 describe` shows, turn by turn, through a restart and a stop of an app PM2 had
// restarted 4 times when this primary started (seen by polling a real daemon).
const restart = [
  { status: 'online', restarts: 4 },
  { status: 'stopping', restarts: 4 },
  { status: 'stopped', restarts: 5 }, // the restart is counted; the next process is not listed yet
  { status: 'online', restarts: 5 },
];

void test('a restart under way is never taken for a stop, even in its stopped moment', () => {
  for (const app of restart) assert.equal(noPrimaryWillCome(app, 4), null, JSON.stringify(app));
});

void test('a stop, a kill that timed out, and a delete each mean no primary will come', () => {
  assert.equal(noPrimaryWillCome({ status: 'stopped', restarts: 4 }, 4), 'PM2 says the app is stopped');
  assert.equal(noPrimaryWillCome({ status: 'errored', restarts: 4 }, 4), 'PM2 says the app is errored');
  assert.equal(noPrimaryWillCome(undefined, 4), 'PM2 deleted the app');
});

void test('a restart whose kill timed out (errored, counted) is still a restart', () => {
  assert.equal(noPrimaryWillCome({ status: 'errored', restarts: 5 }, 4), null);
});

void test('a count that went back (pm2 reset) is not taken for a stop; the deadline covers it', () => {
  assert.equal(noPrimaryWillCome({ status: 'stopped', restarts: 0 }, 4), null);
});
