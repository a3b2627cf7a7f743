/**
 * Runs in a worker thread (pm2-list-thread.ts): the periodic `pm2 list` of PM2 discovery. PM2
 * answers with every app's whole process description, its environment included, and decoding it
 * took the balancer's event loop for milliseconds every reconcile (issue 12, tail latency). Here
 * it is decoded off the request path, and only what membership needs is posted back.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { errorMessage } from '../../errors.js';
import { Pm2Client } from '../../supervisor/pm2-client.js';
import type { Pm2App } from '../../supervisor/pm2-app.js';
import { MEMBERSHIP_ENV_KEYS } from './pool-tracker.js';
import type { ListReply, ListRequest, ListWorkerData } from './pm2-list-thread.js';

const { pm2Home, timeoutMs } = workerData as ListWorkerData;
let client: Pm2Client | null = null;

function slim(app: Pm2App): Pm2App {
  const env: Record<string, string> = {};
  for (const key of MEMBERSHIP_ENV_KEYS) {
    const value = app.env[key];
    if (value !== undefined) env[key] = value;
  }
  return { ...app, env };
}

async function list(): Promise<Pm2App[]> {
  client ??= await Pm2Client.connect({ pm2Home, launchDaemon: false, timeoutMs });
  try {
    return (await client.list()).map(slim);
  } catch (err) {
    const lost = client;
    client = null;
    await lost.disconnect().catch(() => undefined);
    throw err;
  }
}

parentPort?.on('message', (request: ListRequest) => {
  if (request.type === 'close') {
    void (client?.disconnect() ?? Promise.resolve()).finally(() => process.exit(0));
    return;
  }
  list().then(
    (apps) => parentPort?.postMessage({ id: request.id, apps } satisfies ListReply),
    (err: unknown) =>
      parentPort?.postMessage({ id: request.id, error: errorMessage(err) } satisfies ListReply),
  );
});
