/**
 * The shared upstream zone's layout and its one reader/writer (nginx's `upstream { zone }`,
 * HAProxy's one server table): 32-bit words that every process of one balancer reads and writes
 * in place with Atomics. The primary (or the single process) decides what is in each upstream's
 * slot: whether it may be selected (health, admin state, weight) and its weight. Every worker
 * takes tickets from one cursor (so round robin is one rotation across all of them) and counts
 * its in-flight requests in its own row, so the counts of a worker that dies can be cleared
 * without touching anyone else's. Pure: it works on any ArrayBuffer, shared (shared-memory.ts) or
 * private (a single process, a test).
 */

/** What an operator decided for an upstream (HAProxy's `set server state ready|drain|maint`). */
export type AdminState = 'ready' | 'drain' | 'maint';
export const ADMIN_STATES: readonly AdminState[] = ['ready', 'drain', 'maint'];

/** At most this many upstreams in one pool, and this many request-path processes at once. */
export const MAX_SLOTS = 64;
export const MAX_ROWS = 64;
export const MAX_WEIGHT = 256;

// Header words.
const MAGIC = 0;
const LAYOUT = 1;
const CURSOR = 2;
/** Bumped whenever a weight or the set of occupied slots changes: workers rebuild their schedule. */
const EPOCH = 3;
/** The pid of the worker that keeps the sockets for the next primary after its primary died. */
const RESCUER = 4;
/** One more than the highest row in use: readers sum rows below it only. */
const ROWS_USED = 5;
const HEADER_WORDS = 8;

// Per slot: whether it may be selected (0) or why not (bits), its weight, its admin state.
const SLOT_WORDS = 4;
const GATE = 0;
const WEIGHT = 1;
const ADMIN = 2;

/** Why a slot may not be selected; 0 means it may. */
export const GATE_DOWN = 1;
export const GATE_ADMIN = 2;
export const GATE_NO_WEIGHT = 4;
export const GATE_VACANT = 8;

// Per row: the owner's pid, then one in-flight count per slot.
const ROW_WORDS = 1 + MAX_SLOTS;

const SLOTS_AT = HEADER_WORDS;
const ROWS_AT = SLOTS_AT + MAX_SLOTS * SLOT_WORDS;
const TOTAL_WORDS = ROWS_AT + MAX_ROWS * ROW_WORDS;

/** "SBZ1": a zone this version laid out, not some other file handed over by mistake. */
const MAGIC_VALUE = 0x53425a31;

export const ZONE_BYTES = TOTAL_WORDS * 4;

export class Zone {
  private readonly words: Int32Array;

  /** Over a buffer of ZONE_BYTES; `fresh` lays it out (all slots vacant), else it must be laid out. */
  constructor(buffer: ArrayBuffer, fresh: boolean) {
    if (buffer.byteLength < ZONE_BYTES) throw new Error(`a zone needs ${ZONE_BYTES} bytes`);
    this.words = new Int32Array(buffer, 0, TOTAL_WORDS);
    if (fresh) {
      for (let slot = 0; slot < MAX_SLOTS; slot++) {
        Atomics.store(this.words, SLOTS_AT + slot * SLOT_WORDS + GATE, GATE_VACANT);
      }
      Atomics.store(this.words, LAYOUT, TOTAL_WORDS);
      Atomics.store(this.words, MAGIC, MAGIC_VALUE);
    } else if (
      Atomics.load(this.words, MAGIC) !== MAGIC_VALUE ||
      Atomics.load(this.words, LAYOUT) !== TOTAL_WORDS
    ) {
      throw new Error('the handed-over zone is not laid out by this version');
    }
  }

  /** A private zone, for a balancer in one process and for tests. */
  static private(): Zone {
    return new Zone(new ArrayBuffer(ZONE_BYTES), true);
  }

  // ---- the cursor and the epoch ----

  /** The next ticket of the one rotation every worker shares (wraps at 2^32). */
  ticket(): number {
    return Atomics.add(this.words, CURSOR, 1) >>> 0;
  }

  get epoch(): number {
    return Atomics.load(this.words, EPOCH);
  }

  private bumpEpoch(): void {
    Atomics.add(this.words, EPOCH, 1);
  }

  // ---- slots: what the primary decided ----

  /** Hot path: may this slot get a new request? */
  selectable(slot: number): boolean {
    return Atomics.load(this.words, SLOTS_AT + slot * SLOT_WORDS + GATE) === 0;
  }

  gate(slot: number): number {
    return Atomics.load(this.words, SLOTS_AT + slot * SLOT_WORDS + GATE);
  }

  weight(slot: number): number {
    return Atomics.load(this.words, SLOTS_AT + slot * SLOT_WORDS + WEIGHT);
  }

  admin(slot: number): AdminState {
    return ADMIN_STATES[Atomics.load(this.words, SLOTS_AT + slot * SLOT_WORDS + ADMIN)] ?? 'ready';
  }

  /** The primary's whole decision for a slot, written in place (the gate last, so readers see it whole). */
  decide(slot: number, decision: { down: boolean; admin: AdminState; weight: number }): void {
    const at = SLOTS_AT + slot * SLOT_WORDS;
    const weightChanged = Atomics.exchange(this.words, at + WEIGHT, decision.weight) !== decision.weight;
    Atomics.store(this.words, at + ADMIN, ADMIN_STATES.indexOf(decision.admin));
    const gate =
      (decision.down ? GATE_DOWN : 0) |
      (decision.admin === 'ready' ? 0 : GATE_ADMIN) |
      (decision.weight > 0 ? 0 : GATE_NO_WEIGHT);
    const before = Atomics.exchange(this.words, at + GATE, gate);
    if (weightChanged || (before & GATE_VACANT) !== 0) this.bumpEpoch();
  }

  /** A worker saw it fail while proxying: out for every worker at once, until the primary decides again. */
  markDown(slot: number): void {
    Atomics.or(this.words, SLOTS_AT + slot * SLOT_WORDS + GATE, GATE_DOWN);
  }

  /** The upstream left the pool: nobody selects it. */
  vacate(slot: number): void {
    Atomics.store(this.words, SLOTS_AT + slot * SLOT_WORDS + GATE, GATE_VACANT);
    this.bumpEpoch();
  }

  vacant(slot: number): boolean {
    return (this.gate(slot) & GATE_VACANT) !== 0;
  }

  // ---- rows: requests in flight, per process ----

  /** Take a row for process `pid` (the primary hands them out); -1 when every row is taken. */
  claimRow(pid: number): number {
    for (let row = 0; row < MAX_ROWS; row++) {
      if (Atomics.compareExchange(this.words, ROWS_AT + row * ROW_WORDS, 0, pid) === 0) {
        for (let slot = 0; slot < MAX_SLOTS; slot++) Atomics.store(this.words, this.cell(row, slot), 0);
        let used = Atomics.load(this.words, ROWS_USED);
        while (used < row + 1) {
          const seen = Atomics.compareExchange(this.words, ROWS_USED, used, row + 1);
          if (seen === used) break;
          used = seen;
        }
        return row;
      }
    }
    return -1;
  }

  /** The row's process is known now (it was claimed before the process existed). */
  ownRow(row: number, pid: number): void {
    Atomics.store(this.words, ROWS_AT + row * ROW_WORDS, pid);
  }

  /** The process of that row is gone: its requests are no longer in flight anywhere. */
  releaseRow(row: number): void {
    for (let slot = 0; slot < MAX_SLOTS; slot++) Atomics.store(this.words, this.cell(row, slot), 0);
    Atomics.store(this.words, ROWS_AT + row * ROW_WORDS, 0);
  }

  /** Every row in use, and whose it is. */
  rows(): { row: number; pid: number }[] {
    const out: { row: number; pid: number }[] = [];
    const used = Atomics.load(this.words, ROWS_USED);
    for (let row = 0; row < used; row++) {
      const pid = Atomics.load(this.words, ROWS_AT + row * ROW_WORDS);
      if (pid !== 0) out.push({ row, pid });
    }
    return out;
  }

  /** Hot path: one more (or one fewer) request in flight to `slot` from the process of `row`. */
  addInFlight(row: number, slot: number, delta: 1 | -1): void {
    Atomics.add(this.words, this.cell(row, slot), delta);
  }

  /** Requests in flight to `slot` from every process. */
  inFlight(slot: number): number {
    const used = Atomics.load(this.words, ROWS_USED);
    let sum = 0;
    for (let row = 0; row < used; row++) sum += Atomics.load(this.words, this.cell(row, slot));
    return sum;
  }

  /** A slot that left the pool is reused only once nothing is in flight to it any more. */
  idle(slot: number): boolean {
    return this.vacant(slot) && this.inFlight(slot) === 0;
  }

  // ---- the rescuer: who keeps the sockets when the primary died ----

  /** True for the one worker that wins the election; the others serve on. */
  electRescuer(pid: number): boolean {
    const seen = Atomics.compareExchange(this.words, RESCUER, 0, pid);
    return seen === 0 || seen === pid;
  }

  get rescuer(): number {
    return Atomics.load(this.words, RESCUER);
  }

  clearRescuer(): void {
    Atomics.store(this.words, RESCUER, 0);
  }

  private cell(row: number, slot: number): number {
    return ROWS_AT + row * ROW_WORDS + 1 + slot;
  }
}
