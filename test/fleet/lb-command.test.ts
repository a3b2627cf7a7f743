/** `npm run lb`'s words and options, parsed without a socket: commands, the default port, usage errors. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ConfigError } from '../../src/errors.js';
import { lbHelp, lbUserAgent, parseLbInput, type LbInput } from '../../src/fleet/lb-command.js';

const parse = (argv: string[], env: Record<string, string> = {}): LbInput => parseLbInput({ argv, env });

function run(argv: string[], env: Record<string, string> = {}) {
  const input = parse(argv, env);
  assert.ok('command' in input, 'not a help or version request');
  return input;
}

function problems(argv: string[], env: Record<string, string> = {}): string[] {
  try {
    parse(argv, env);
  } catch (err) {
    assert.ok(err instanceof ConfigError, `a ConfigError, not ${String(err)}`);
    return [...err.problems];
  }
  assert.fail(`${argv.join(' ')} was accepted`);
}

void test('each command becomes the admin route it asks for', () => {
  assert.deepEqual(run(['status']).command, { kind: 'status' });
  for (const state of ['drain', 'maint', 'ready']) {
    assert.deepEqual(run([state, 'backend-7003']).command, {
      kind: 'control',
      name: 'backend-7003',
      path: `/__lb/upstreams/backend-7003/${state}`,
      words: state,
    });
  }
  assert.deepEqual(run(['weight', 'backend-7003', '3']).command, {
    kind: 'control',
    name: 'backend-7003',
    path: '/__lb/upstreams/backend-7003/weight/3',
    words: 'weight 3',
  });
  // A name is one path segment whatever it holds.
  const odd = run(['drain', 'a/b c']).command;
  assert.equal(odd.kind === 'control' ? odd.path : '', '/__lb/upstreams/a%2Fb%20c/drain');
});

void test('options go before, between or after the words', () => {
  for (const argv of [
    ['--admin-port', '5000', 'weight', 'b1', '0'],
    ['weight', '--admin-port', '5000', 'b1', '0'],
    ['weight', 'b1', '0', '--admin-port=5000'],
  ]) {
    const { command, config } = run(argv);
    assert.equal(config.adminPort, 5000, argv.join(' '));
    assert.equal(
      command.kind === 'control' ? command.path : '',
      '/__lb/upstreams/b1/weight/0',
      argv.join(' '),
    );
  }
});

void test("the default admin port is the fleet's, 44445 + PORT_OFFSET; --admin-port wins", () => {
  assert.equal(run(['status']).config.adminPort, 44445);
  assert.equal(run(['status'], { PORT_OFFSET: '10000' }).config.adminPort, 54445);
  assert.equal(run(['status', '--port-offset', '-100']).config.adminPort, 44345);
  assert.equal(run(['status', '--admin-port', '6000'], { PORT_OFFSET: '10000' }).config.adminPort, 6000);
  // ADMIN_PORT is the fleet's base port to the ecosystem and the real one to the balancer: not read.
  assert.equal(run(['status'], { ADMIN_PORT: '7000' }).config.adminPort, 44445);
  const { config } = run(['status', '--admin-host', '::1', '--admin-token-file', '/t', '--timeout', '2s']);
  assert.deepEqual([config.adminHost, config.adminTokenFile, config.timeoutMs], ['::1', '/t', 2000]);
  assert.deepEqual(run(['status'], { ADMIN_HOST: '127.0.0.2' }).config.adminHost, '127.0.0.2');
});

void test('a bad command, name or weight is a usage error that says what is wrong', () => {
  assert.deepEqual(problems([]), ['no command given']);
  assert.deepEqual(problems(['frob']), [
    '"frob" is not a command: use status, drain, maint, ready, weight, front-maint or front-ready',
  ]);
  assert.deepEqual(problems(['drain']), ["drain needs the upstream's name: drain <upstream>"]);
  assert.deepEqual(problems(['drain', 'b1', 'b2']), ["drain takes one argument, the upstream's name"]);
  assert.deepEqual(problems(['status', 'b1']), ['status takes no argument']);
  assert.deepEqual(problems(['weight', 'b1']), ['weight needs a name and a weight: weight <upstream> <n>']);
  assert.deepEqual(problems(['weight', 'b1', '2', '3']), ['weight takes two arguments']);
  for (const weight of ['257', '-1', 'x', '1.5', '1000']) {
    assert.deepEqual(
      problems(['weight', 'b1', weight]),
      [`the weight must be a whole number from 0 to 256, not "${weight}"`],
      weight,
    );
  }
  // Every problem at once, the options' and the words'.
  assert.deepEqual(problems(['frob', '--admin-port', 'x', '--nope=1']), [
    'unknown option --nope (see --help)',
    '--admin-port: "x" is not a port (a whole number from 0 to 65535)',
    '"frob" is not a command: use status, drain, maint, ready, weight, front-maint or front-ready',
  ]);
  assert.deepEqual(problems(['status', '--admin-port', '0']), [
    '--admin-port: 0 is not a port a balancer listens on',
  ]);
});

void test('--help needs no command and lists the commands and every option', () => {
  assert.deepEqual(parse(['--help']), { help: true });
  assert.deepEqual(parse(['drain', '-h']), { help: true });
  const help = lbHelp();
  for (const word of [
    'status',
    'drain <upstream>',
    'weight <upstream> <n>',
    '--admin-port',
    '--admin-token-file',
  ]) {
    assert.ok(help.includes(word), `help mentions ${word}`);
  }
  assert.match(help, /44445 \+ PORT_OFFSET/);
});

void test('--version needs no command; with a bad option it is a usage error like any other', () => {
  assert.deepEqual(parse(['--version']), { help: false, version: true });
  assert.match(lbHelp(), /--version/);
  assert.ok(problems(['--version', '--nope']).includes('unknown option --nope (see --help)'));
});

void test('the User-Agent names the operator, and stays a valid header value', () => {
  assert.equal(lbUserAgent('alice'), 'supervised-balancer lb (alice)');
  assert.equal(lbUserAgent('zoë'), 'supervised-balancer lb (zo?)');
  assert.equal(lbUserAgent('a(b)\n'), 'supervised-balancer lb (ab?)');
  assert.equal(lbUserAgent(''), 'supervised-balancer lb (unknown)');
});
