/**
 * PM2 hands out loosely shaped objects (`pm2 list` entries, bus packets). This file turns them into
 * small typed records, pure and defensive: a field PM2 leaves out becomes null or 0, never a crash.
 */

/** One PM2 app as `pm2 list` describes it. */
export interface Pm2App {
  pmId: number;
  name: string;
  /** PM2's namespace of the app ('default' unless its config names one); names are unique only within one. */
  namespace: string;
  /** online, launching, stopping, stopped, waiting restart, errored, one-launch-status. */
  status: string;
  /** OS pid, or null when the app is not running. */
  pid: number | null;
  /** Restarts PM2 counted (the ↺ column). */
  restarts: number;
  /** Milliseconds since PM2 last started it, or null when it is not online. */
  uptimeMs: number | null;
  memoryBytes: number;
  cpuPercent: number;
  /** The app's environment as PM2 keeps it (strings only). */
  env: Readonly<Record<string, string>>;
  /** Absolute paths of its stdout and stderr logs, when PM2 reports them. */
  outLogPath: string | null;
  errLogPath: string | null;
}

/** `process:event` on PM2's bus: a lifecycle step of one app. */
export interface Pm2ProcessEvent {
  /** start, online, exit, stop, restart, delete, restart overlimit, reload... */
  event: string;
  name: string;
  /** The app's PM2 namespace, or null when the packet does not say. */
  namespace: string | null;
  pmId: number | null;
  /** Status at the time of the event (PM2 sets it just after some events, e.g. launching for online). */
  status: string | null;
  restarts: number | null;
  exitCode: number | null;
  /** True when a person or a client asked for it (stop, restart, delete) rather than PM2 itself. */
  manually: boolean;
  env: Readonly<Record<string, string>>;
}

/** `process:msg` on PM2's bus: a message an app sent with `process.send()`. */
export interface Pm2ProcessMessage {
  name: string;
  pmId: number | null;
  /** `process.send('ready')` arrives as raw 'ready'. */
  raw: unknown;
  /** `process.send({ type: 'process:msg', data })` arrives as data. */
  data: unknown;
}

type Loose = Record<string, unknown>;

function isObject(value: unknown): value is Loose {
  return typeof value === 'object' && value !== null;
}

function num(value: unknown): number | null {
  if (typeof value === 'number' && Number.isFinite(value)) return value;
  if (typeof value === 'string' && /^-?\d+(\.\d+)?$/.test(value)) return Number(value);
  return null;
}

function str(value: unknown): string | null {
  return typeof value === 'string' ? value : null;
}

/**
 * PM2 keeps an app's environment twice: in `pm2_env.env` and, flattened, at the top of `pm2_env`
 * (bus packets only carry the flattened copy). Read both, `env` winning.
 */
function envOf(pm2Env: Loose): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [key, value] of Object.entries(pm2Env)) {
    if (typeof value === 'string') env[key] = value;
    else if (typeof value === 'number' && /^[A-Z][A-Z0-9_]*$/.test(key)) env[key] = String(value);
  }
  if (isObject(pm2Env.env)) {
    for (const [key, value] of Object.entries(pm2Env.env)) {
      if (typeof value === 'string') env[key] = value;
      else if (typeof value === 'number' || typeof value === 'boolean') env[key] = String(value);
    }
  }
  return env;
}

/** One `pm2 list` / `pm2 describe` entry, or null when it is not shaped like one. */
export function toPm2App(raw: unknown, now: number): Pm2App | null {
  if (!isObject(raw) || !isObject(raw.pm2_env)) return null;
  const pm2Env = raw.pm2_env;
  const name = str(raw.name) ?? str(pm2Env.name);
  const pmId = num(raw.pm_id) ?? num(pm2Env.pm_id);
  if (name === null || pmId === null) return null;
  const status = str(pm2Env.status) ?? 'unknown';
  const pid = num(raw.pid);
  const startedAt = num(pm2Env.pm_uptime);
  const monit = isObject(raw.monit) ? raw.monit : {};
  return {
    pmId,
    name,
    namespace: str(pm2Env.namespace) ?? 'default',
    status,
    pid: pid !== null && pid > 0 ? pid : null,
    restarts: num(pm2Env.restart_time) ?? 0,
    uptimeMs: status === 'online' && startedAt !== null ? Math.max(0, now - startedAt) : null,
    memoryBytes: num(monit.memory) ?? 0,
    cpuPercent: num(monit.cpu) ?? 0,
    env: envOf(pm2Env),
    outLogPath: str(pm2Env.pm_out_log_path),
    errLogPath: str(pm2Env.pm_err_log_path),
  };
}

/** Every well-formed entry of a `pm2 list` answer. */
export function toPm2Apps(raw: unknown, now: number): Pm2App[] {
  if (!Array.isArray(raw)) return [];
  const apps: Pm2App[] = [];
  for (const entry of raw) {
    const app = toPm2App(entry, now);
    if (app !== null) apps.push(app);
  }
  return apps;
}

/** A `process:event` packet, or null when it is not one. */
export function toProcessEvent(packet: unknown): Pm2ProcessEvent | null {
  if (!isObject(packet) || typeof packet.event !== 'string' || !isObject(packet.process)) return null;
  const proc = packet.process;
  const name = str(proc.name);
  if (name === null) return null;
  return {
    event: packet.event,
    name,
    namespace: str(proc.namespace),
    pmId: num(proc.pm_id),
    status: str(proc.status),
    restarts: num(proc.restart_time),
    exitCode: num(proc.exit_code),
    manually: packet.manually === true,
    env: envOf(proc),
  };
}

/** A `process:msg` packet, or null when it is not one. */
export function toProcessMessage(packet: unknown): Pm2ProcessMessage | null {
  if (!isObject(packet) || !isObject(packet.process)) return null;
  const name = str(packet.process.name);
  if (name === null) return null;
  return { name, pmId: num(packet.process.pm_id), raw: packet.raw, data: packet.data };
}
