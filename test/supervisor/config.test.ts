import { test } from 'node:test';
import assert from 'node:assert/strict';
import os from 'node:os';
import path from 'node:path';
import { pm2HomeFrom, pm2IdFrom, pm2RestartsFrom } from '../../src/supervisor/config.js';

void test('PM2_HOME if set and not empty, else ~/.pm2, as PM2 itself decides', () => {
  assert.equal(pm2HomeFrom({ PM2_HOME: '/srv/pm2' }), '/srv/pm2');
  assert.equal(pm2HomeFrom({ PM2_HOME: '' }), path.join(os.homedir(), '.pm2'));
  assert.equal(pm2HomeFrom({}), path.join(os.homedir(), '.pm2'));
});

void test('pm_id and restart_time from the environment PM2 gives its processes', () => {
  assert.equal(pm2IdFrom({ pm_id: '3' }), 3);
  assert.equal(pm2IdFrom({ pm_id: 'x3' }), null);
  assert.equal(pm2IdFrom({}), null, 'not started by PM2');
  assert.equal(pm2RestartsFrom({ restart_time: '12' }), 12);
  assert.equal(pm2RestartsFrom({ restart_time: '-1' }), 0);
  assert.equal(pm2RestartsFrom({}), 0);
});
