/**
 * The whole benchmark: check the targets (starting the PM2 fleet when needed), measure the load
 * client, measure every scenario, conclude, write the results, and stop what this run started.
 */
import { errorMessage } from '../../src/errors.js';
import type { BenchConfig } from './bench-config.js';
import type { Logger } from '../../src/logger.js';
import { formatInt } from '../../src/report/format.js';
import { CLIENT_BOUND_THRESHOLD, conclude } from './assemble.js';
import { measureClient } from './client-ceiling.js';
import { CLIENT_MODE_INFO } from './client-modes.js';
import { ClientPool } from './client-pool.js';
import { ensureFleetRunning, type FleetHandle } from './fleet.js';
import { checkTargets, waitForTargets, type TargetStatus } from './health.js';
import { describeMachine } from './machine.js';
import { measureScenario } from './measure-scenario.js';
import type { Progress } from './progress.js';
import type { BenchResults, CaseResult, ScenarioReport } from './results.js';
import { scenariosFor } from './scenarios.js';
import { startTrivialServer, type TrivialServer } from './trivial-server-process.js';
import { writeResults } from './write-results.js';

export interface BenchDeps {
  logger: Logger;
  progress: Progress;
  projectRoot: string;
  publicDir: string;
  /** The command line, as recorded in the results. */
  command: string;
}

async function findTargets(
  config: BenchConfig,
  deps: BenchDeps,
): Promise<{ targets: TargetStatus[]; fleet: FleetHandle | null }> {
  let targets = await checkTargets(config.targets);
  const fleetDown = targets.filter((t, i) => !t.up && config.targets[i]?.explicit === false);
  if (config.explicitTargetsOnly || fleetDown.length === 0) return { targets, fleet: null };
  deps.logger.info(
    `not answering: ${fleetDown.map((t) => t.name).join(', ')}; making sure the PM2 fleet runs`,
  );
  let fleet: FleetHandle | null = null;
  try {
    fleet = await ensureFleetRunning(config.portOffset, deps.logger, {
      logLevel: config.fleetLogLevel,
      timeoutMs: config.fleetTimeoutMs,
    });
    // ensureFleet waited for every app to be healthy; this only re-reads the targets' state.
    targets = await waitForTargets(config.targets, 5000);
  } catch (err) {
    deps.logger.error(
      `could not start the fleet: ${errorMessage(err)}; the targets that are down are reported as down`,
    );
  }
  return { targets, fleet };
}

export async function runBench(
  config: BenchConfig,
  deps: BenchDeps,
): Promise<{ results: BenchResults; files: string[] }> {
  const startedAt = new Date().toISOString();
  const machine = await describeMachine(deps.projectRoot);
  const { targets, fleet } = await findTargets(config, deps);
  for (const t of targets) {
    if (t.up) deps.logger.info(`target ${t.name} ${t.url}: ${t.detail}`);
    else
      deps.logger.warn(
        `target ${t.name} ${t.url} is DOWN (${t.detail}); it is reported as down, not measured`,
      );
  }
  let pool: ClientPool | null = null;
  let server: TrivialServer | null = null;
  try {
    pool = await ClientPool.start(config.clients);
    server = await startTrivialServer();
    const client = await measureClient(pool, server, config, deps.progress);
    deps.progress.line(
      `client: ${client.chosenMode} (${CLIENT_MODE_INFO[client.chosenMode].option}), ${client.reason}; ceiling ${formatInt(client.ceilingRps)} req/s with ${config.clients} process(es)${
        client.wrk === null ? '' : `, wrk ${formatInt(client.wrk.rps)} req/s`
      }`,
    );
    const scenarios: ScenarioReport[] = [];
    const cases: CaseResult[] = [];
    for (const scenario of scenariosFor(config.scenarios, config.path)) {
      const measured = await measureScenario(
        {
          pool,
          server,
          config,
          fallbackMode: client.chosenMode,
          progress: deps.progress,
          publicDir: deps.publicDir,
        },
        scenario,
        targets,
      );
      scenarios.push({
        ...measured.report,
        charts: { rps: `${scenario.name}-rps.svg`, p99: `${scenario.name}-p99.svg` },
      });
      cases.push(...measured.cases);
    }
    const results: BenchResults = {
      schema: 'supervised-balancer/bench-all@1',
      startedAt,
      finishedAt: new Date().toISOString(),
      command: deps.command,
      settings: config,
      machine,
      targets,
      fleetStartedByUs: fleet?.startedByUs ?? [],
      client,
      scenarios,
      cases,
      conclusion: scenarios.map((s) => conclude(s, cases, config.concurrency)),
      clientBoundThreshold: CLIENT_BOUND_THRESHOLD,
    };
    const files = await writeResults(config.outDir, results);
    return { results, files };
  } finally {
    await pool?.close();
    await server?.stop();
    if (fleet !== null) {
      try {
        await fleet.stop();
      } catch (err) {
        deps.logger.error(`could not stop the fleet this run started: ${errorMessage(err)}`);
      }
    }
  }
}
