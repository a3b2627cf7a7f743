/**
 * keepalived's state as its notify hook writes it for the balancer (the hosts' side writes the
 * file, atomically: `<file>.tmp` renamed over `<file>`): one line `<STATE> <PRIORITY> <MS>\n`, as
 * `MASTER 150 1765000000000`. STATE is one of keepalived's notify states; MS is when the hook ran
 * (epoch ms). Pure: the states, the line's parser, and the words a log line uses.
 */

/** keepalived's notify states, and ours for "no file, or one that does not read". */
export const VRRP_STATES = ['MASTER', 'BACKUP', 'FAULT', 'STOP', 'unknown'] as const;
export type VrrpState = (typeof VRRP_STATES)[number];

/** The states keepalived itself writes (every one but `unknown`). */
const NOTIFY_STATES: ReadonlySet<string> = new Set(VRRP_STATES.filter((s) => s !== 'unknown'));

/** What the state file says now, or why it says nothing usable. */
export type VrrpReading =
  | { kind: 'state'; state: Exclude<VrrpState, 'unknown'>; priority: number; at: number }
  /** No file yet (keepalived has not started, or has not run its hook). */
  | { kind: 'missing' }
  /** A file that cannot be read, or does not hold one well-formed line. */
  | { kind: 'bad'; problem: string };

/** Larger than any line keepalived's hook writes: a file this long is not one. */
export const MAX_LINE_BYTES = 128;

/** A VRRP priority: 0 (the master is leaving) to 255 (the address owner). */
const MAX_PRIORITY = 255;

/** Parse the file's text (`<STATE> <PRIORITY> <MS>`, one line, the newline optional). */
export function parseVrrpLine(text: string): VrrpReading {
  const line = text.endsWith('\n') ? text.slice(0, -1) : text;
  if (line === '') return { kind: 'bad', problem: 'it is empty' };
  const shown = JSON.stringify(line.length > 60 ? `${line.slice(0, 60)}...` : line);
  if (line.includes('\n')) return { kind: 'bad', problem: `it has more than one line (${shown})` };
  const parts = line.split(' ');
  if (parts.length !== 3) {
    return { kind: 'bad', problem: `${shown} is not "<STATE> <PRIORITY> <MS_SINCE_EPOCH>"` };
  }
  const [state = '', rawPriority = '', rawAt = ''] = parts;
  if (!NOTIFY_STATES.has(state)) {
    return { kind: 'bad', problem: `${shown}: "${state}" is not MASTER, BACKUP, FAULT or STOP` };
  }
  if (!/^\d{1,3}$/.test(rawPriority) || Number(rawPriority) > MAX_PRIORITY) {
    return {
      kind: 'bad',
      problem: `${shown}: priority "${rawPriority}" is not a whole number from 0 to 255`,
    };
  }
  if (!/^\d{1,15}$/.test(rawAt)) {
    return { kind: 'bad', problem: `${shown}: "${rawAt}" is not milliseconds since the epoch` };
  }
  return {
    kind: 'state',
    state: state as Exclude<VrrpState, 'unknown'>,
    priority: Number(rawPriority),
    at: Number(rawAt),
  };
}

/** The state a reading stands for. */
export function stateOf(reading: VrrpReading): VrrpState {
  return reading.kind === 'state' ? reading.state : 'unknown';
}

/** `MASTER (priority 150)`, `unknown (no state file yet)`, `unknown (<file>: <problem>)`. */
export function describeReading(reading: VrrpReading, file: string): string {
  if (reading.kind === 'state') return `${reading.state} (priority ${reading.priority})`;
  if (reading.kind === 'missing') return `unknown (no state file ${file} yet)`;
  return `unknown (${file}: ${reading.problem})`;
}

/** Whether two readings differ in what a person is told (the hook's time alone does not count). */
export function sameReading(a: VrrpReading, b: VrrpReading): boolean {
  if (a.kind === 'state' && b.kind === 'state') return a.state === b.state && a.priority === b.priority;
  if (a.kind === 'bad' && b.kind === 'bad') return a.problem === b.problem;
  return a.kind === b.kind;
}

/**
 * One log line for a change: `vrrp: f1 is MASTER (priority 150), was BACKUP`; `before` null at
 * start (`vrrp: f1 is BACKUP (priority 100)`).
 */
export function vrrpChangeMessage(
  name: string,
  file: string,
  before: VrrpReading | null,
  after: VrrpReading,
): string {
  const now = `vrrp: ${name} is ${describeReading(after, file)}`;
  if (before === null) return now;
  if (before.kind === 'state' && after.kind === 'state' && before.state === after.state) {
    return `${now}, was priority ${before.priority}`;
  }
  if (before.kind === 'bad' && after.kind === 'bad') return `${now}, was unreadable another way`;
  return `${now}, was ${before.kind === 'state' ? before.state : stateOf(before)}`;
}
