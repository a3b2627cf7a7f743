/**
 * `npm run lb`: steer the running fleet's balancer through its admin listener (127.0.0.1:44445 +
 * PORT_OFFSET): take an upstream out (drain, maint), bring it back (ready), set its weight, or
 * list the pool (status). Exit 0 when done, 1 when the balancer is not there or says no, 2 on a
 * command it cannot understand (with the usage).
 *
 *   node dist/src/fleet/cli-lb.js drain backend-9003 [--admin-port N]   (--help lists all)
 */
import { loadAdminToken } from '../balancer/admin-token.js';
import { processInput, userName } from '../config/process-input.js';
import { PROJECT_VERSION } from '../config/version.js';
import { AdminApiError, ConfigError, errorMessage } from '../errors.js';
import { createProcessLogger } from '../logger.js';
import { frontMaint } from './front-maint.js';
import { fetchStatus, sendControl, sendDoor, type AdminTarget } from './lb-client.js';
import { lbHelp, lbUserAgent, LB_USAGE, parseLbInput } from './lb-command.js';
import { formatDoorReport, formatUpstreamLine, formatUpstreamTable } from './lb-table.js';

function readInput(): { input: ReturnType<typeof parseLbInput>; token: string | null } {
  try {
    const input = parseLbInput(processInput());
    const token = 'config' in input ? loadAdminToken(input.config.adminTokenFile || null) : null;
    return { input, token };
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    const problems = err.problems.map((p) => `npm run lb: ${p}\n`).join('');
    process.stderr.write(`${problems}\n${LB_USAGE}\nRun with --help to see every option.\n`);
    process.exit(2);
  }
}

const { input, token } = readInput();
if (input.help) {
  process.stdout.write(lbHelp());
  process.exit(0);
}
if ('version' in input) {
  process.stdout.write(`${PROJECT_VERSION}\n`);
  process.exit(0);
}
const { command, config } = input;
const logger = createProcessLogger('lb', config);
const target: AdminTarget = {
  host: config.adminHost,
  port: config.adminPort,
  token,
  userAgent: lbUserAgent(userName()),
  timeoutMs: config.timeoutMs,
};

try {
  if (command.kind === 'status') process.stdout.write(formatUpstreamTable(await fetchStatus(target)));
  else if (command.kind === 'front' && command.action === 'maint') {
    const say = (line: string) => process.stderr.write(`npm run lb: ${line}\n`);
    process.stdout.write(`${await frontMaint(target, say)}\n`);
  } else if (command.kind === 'front')
    process.stdout.write(`${formatDoorReport(await sendDoor(target, command.action))}\n`);
  else process.stdout.write(`${formatUpstreamLine(await sendControl(target, command.path))}\n`);
} catch (err) {
  // An AdminApiError's message is a sentence for the operator; anything else is a bug, code and all.
  if (err instanceof AdminApiError) logger.error(err.message, { event: 'lb-failed', code: err.code });
  else logger.error(errorMessage(err), { event: 'lb-failed' });
  process.exitCode = 1;
}
await logger.close();
