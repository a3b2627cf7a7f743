/**
 * Operators' decisions (drain, maint, ready, weight) shared by every balancer on one etcd registry
 * (issue 28: two front balancers behind one address must not disagree about who is drained). The
 * keys are `<prefix>/decisions/<pool>/<name>` (discovery/etcd-decision-keys.ts); loaded only with
 * etcd discovery, since it brings the gRPC client.
 *
 * - An admin route's decision goes to etcd first; only when etcd took it does the route apply it
 *   here (a decision the other balancers would not see is not made). The watch's echo of it then
 *   changes nothing.
 * - At start every decision is read before the pool's first members are set, so before any
 *   traffic; etcd's win over the state file's. Unreachable at start, the state file's hold, with
 *   one warning, and a whole read replaces them when etcd answers.
 * - Then a watch from the revision read (nothing lost in between, as in etcd-source.ts); each put
 *   or delete goes through the pool, naming who asked first. The client resumes the watch after an
 *   outage from its last revision, so what was missed arrives; a watch etcd cancels (its revision
 *   compacted) is replaced by a whole read.
 */
import { DecisionError, errorMessage } from '../errors.js';
import type { Logger } from '../logger.js';
import type { EtcdSettings } from '../config/etcd-options.js';
import { createEtcdClient, watchPrefix, type Etcd3, type Watcher } from './discovery/etcd-client.js';
import {
  decisionAfter,
  decisionKey,
  decisionsPrefix,
  decodeDecision,
  decodeDecisionKey,
  describeDecision,
  encodeDecision,
  isReady,
  READY,
  stepsToMatch,
  type DecisionValue,
  type WholeDecision,
} from './discovery/etcd-decision-keys.js';
import type { AdminDecision, Pool } from './pool.js';
import type { DecisionsState } from './status.js';
import type { Upstream } from './upstream.js';

export interface EtcdDecisionsOptions {
  etcd: EtcdSettings;
  /** The pool's name (the key's segment), as discovery reads it. */
  poolName: string;
  pool: Pool;
  logger: Logger;
  /** This balancer, for the `by` other balancers log: "balancer on h1, admin port 44445". */
  via: () => string;
}

const RETRY_MS = 1000;

interface OwnWrite {
  value: string;
  /** The watch saw it: etcd took it, whatever the put's answer says. */
  echoed: boolean;
  deleting: boolean;
}

export class EtcdDecisions {
  private readonly client: Etcd3;
  private readonly base: string;
  private watcher: Watcher | null = null;
  private timer: NodeJS.Timeout | null = null;
  private stopped = false;
  private connected = false;
  /** A whole read has been applied: until then the state file's decisions hold. */
  private readWhole = false;
  private revision = 0;
  private lastError: string | null = null;
  private downSince: number | null = null;
  /** The problem last logged per refused key, so a key is reported once, not on every read. */
  private readonly refusedKeys = new Map<string, string>();
  /** This balancer's writes under way, by key: their echoes are the caller's to apply. */
  private readonly own = new Map<string, OwnWrite>();
  /** The admin API's decisions, one after the other. */
  private turn: Promise<unknown> = Promise.resolve();

  constructor(private readonly options: EtcdDecisionsOptions) {
    this.client = createEtcdClient(options.etcd);
    this.base = decisionsPrefix(options.etcd.prefix, options.poolName);
  }

  /**
   * Read every decision into the pool and watch from there; when etcd does not answer, what the
   * pool holds stays (the state file's) and a read is tried every second. Resolves either way.
   */
  async start(): Promise<void> {
    if (!(await this.sync())) this.retryLater();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer !== null) clearTimeout(this.timer);
    const watcher = this.watcher;
    this.watcher = null;
    await watcher?.cancel().catch(() => undefined);
    this.client.close();
  }

  state(): DecisionsState {
    return {
      source: 'etcd',
      connected: this.connected,
      revision: this.revision === 0 ? null : this.revision,
      lastError: this.lastError,
    };
  }

  /**
   * An operator's decision through the admin API: into etcd first, then into the pool here (one
   * line naming who asked); what changed, in words. Throws a DecisionError, with nothing changed,
   * when etcd did not take it. One at a time, so this balancer's pool ends as etcd does.
   */
  decideShared(upstream: Upstream, asked: AdminDecision, by: string): Promise<string> {
    const turn = this.turn.then(async () => {
      await this.publish(upstream, asked, by);
      return this.options.pool.decide(upstream, asked, by);
    });
    this.turn = turn.catch(() => undefined);
    return turn;
  }

  /**
   * Put what `asked` makes of `upstream`'s decision into etcd, saying who asked. Back to ready at
   * discovery's weight, the key is then deleted: the put first, so the other balancers' log lines
   * name who asked (a delete carries no value). Its own echo is not applied by the watch: the
   * caller applies it, with its own words.
   */
  private async publish(upstream: Upstream, asked: AdminDecision, by: string): Promise<void> {
    const decision = decisionAfter({ admin: upstream.admin, weight: upstream.adminWeight }, asked);
    const key = decisionKey(this.options.etcd.prefix, this.options.poolName, upstream.name);
    const value: DecisionValue = { ...decision, by: `${by} via ${this.options.via()}`, at: Date.now() };
    const own: OwnWrite = { value: encodeDecision(value), echoed: false, deleting: false };
    this.own.set(key, own);
    try {
      await this.client.put(key).value(own.value).exec();
    } catch (err) {
      // Its echo proves etcd took it (the answer was what got lost): the decision was made.
      // Otherwise, should etcd have taken it all the same, the watch applies it when it arrives.
      if (!own.echoed) {
        this.own.delete(key);
        throw new DecisionError(
          'ERR_DECISION_NOT_SHARED',
          `etcd unreachable: the decision was not made, since the other balancers would not see it (${errorMessage(err)})`,
          { cause: err },
        );
      }
    }
    try {
      if (!isReady(decision)) return;
      own.deleting = true;
      await this.client.delete().key(key).exec();
    } catch (err) {
      // The ready value left in the key says what no key says: the decision holds everywhere.
      this.options.logger.warn(
        `etcd key ${key} kept its ready value, not deleted: ${errorMessage(err)}; it means the same`,
        { event: 'etcd-decision-kept', key },
      );
    } finally {
      if (this.own.get(key) === own) this.own.delete(key);
    }
  }

  /** Read the whole prefix, make the pool's decisions those, and watch from the revision after. */
  private async sync(): Promise<boolean> {
    try {
      const response = await this.client.getAll().prefix(this.base).exec();
      if (this.stopped) return true;
      const revision = Number(response.header.revision);
      const read = new Map<string, DecisionValue>();
      const unreadable = new Set<string>();
      for (const kv of response.kvs) {
        const key = kv.key.toString();
        const decoded = decodeDecision(
          this.options.etcd.prefix,
          this.options.poolName,
          key,
          kv.value.toString(),
        );
        if (decoded.ok) read.set(decoded.name, decoded.value);
        else {
          this.refuse(key, decoded.problem);
          // A bad value leaves that upstream's decision as it is, as a bad put does.
          const named = decodeDecisionKey(this.options.etcd.prefix, this.options.poolName, key);
          if (named.ok) unreadable.add(named.name);
        }
      }
      this.revision = Math.max(this.revision, revision);
      this.applyWhole(read, unreadable, revision);
      await this.watchFrom(revision + 1);
      this.markUp();
      return true;
    } catch (err) {
      this.markDown(errorMessage(err));
      return false;
    }
  }

  /** Every decision read replaces what the pool holds; the members' changes log themselves. */
  private applyWhole(read: Map<string, DecisionValue>, unreadable: Set<string>, revision: number): void {
    const { pool, logger } = this.options;
    const before = pool.decisions();
    for (const name of unreadable) delete before[name];
    const memberNames = new Set(pool.members.map((u) => u.name));
    const replaced: string[] = [];
    for (const step of stepsToMatch(before, read, revision)) {
      // Kept for a name not in the pool yet (the state file's at start): its change logs nothing else.
      const was = before[step.name];
      if (was !== undefined && !memberNames.has(step.name)) {
        const [wasWords, nowWords] = [
          describeDecision(decisionAfter(READY, was)),
          describeDecision(step.decision),
        ];
        if (wasWords !== nowWords) replaced.push(`${step.name} ${wasWords} -> ${nowWords}`);
      }
      pool.decideLater({ [step.name]: step.decision }, step.by);
    }
    const listed = [...read].map(([name, v]) => `${name} ${describeDecision(v)}`);
    if (!this.readWhole || listed.length > 0 || replaced.length > 0) {
      logger.info(
        `operators' decisions from etcd at revision ${revision}: ${listed.join(', ') || 'none'}` +
          (replaced.length > 0 ? `; replacing those kept here: ${replaced.join(', ')}` : ''),
        { event: 'etcd-decisions-read', revision, decisions: Object.fromEntries(read) },
      );
    }
    this.readWhole = true;
  }

  private async watchFrom(revision: number): Promise<void> {
    const previous = this.watcher;
    this.watcher = null;
    await previous?.cancel().catch(() => undefined);
    const watcher = await watchPrefix(
      this.client,
      this.base,
      revision,
      {
        put: (key, value, rev) => this.onPut(key, value, rev),
        delete: (key, rev) => this.onDelete(key, rev),
        progress: (rev) => (this.revision = Math.max(this.revision, rev)),
        down: (why) => this.markDown(why),
        up: () => this.markUp(),
        cancelled: (why) => {
          this.markDown(`the watch was cancelled: ${why}`);
          this.watcher = null;
          this.retryLater();
        },
      },
      (w) => this.watcher === w && !this.stopped,
    );
    if (this.stopped) {
      await watcher.cancel().catch(() => undefined);
      return;
    }
    this.watcher = watcher;
  }

  private onPut(key: string, value: string, revision: number): void {
    this.revision = Math.max(this.revision, revision);
    const own = this.own.get(key);
    if (own?.value === value) {
      own.echoed = true;
      return;
    }
    const decoded = decodeDecision(this.options.etcd.prefix, this.options.poolName, key, value);
    if (!decoded.ok) {
      this.refuse(key, decoded.problem);
      return;
    }
    this.refusedKeys.delete(key);
    this.decide(decoded.name, decoded.value, `etcd: ${decoded.value.by}`);
  }

  private onDelete(key: string, revision: number): void {
    this.revision = Math.max(this.revision, revision);
    this.refusedKeys.delete(key);
    if (this.own.get(key)?.deleting === true) return;
    const named = decodeDecisionKey(this.options.etcd.prefix, this.options.poolName, key);
    // A balancer's `ready` put the value first (whose watch event named who asked): no change here.
    if (named.ok) this.decide(named.name, READY, 'etcd: its decision was deleted');
  }

  private decide(name: string, decision: WholeDecision, by: string): void {
    const { pool, logger } = this.options;
    pool.decideLater({ [name]: decision }, by);
    if (!pool.members.some((u) => u.name === name)) {
      logger.debug(`${name}: ${describeDecision(decision)} from etcd, kept until it is in the pool (${by})`, {
        event: 'admin-kept',
        upstream: name,
      });
    }
  }

  private refuse(key: string, problem: string): void {
    if (this.refusedKeys.get(key) === problem) return;
    this.refusedKeys.set(key, problem);
    this.options.logger.warn(`etcd key ${key} refused: ${problem}; the decision in it is not applied`, {
      event: 'etcd-decision-refused',
      key,
      problem,
    });
  }

  private retryLater(): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      this.timer = null;
      void this.sync().then((ok) => {
        if (!ok) this.retryLater();
      });
    }, RETRY_MS);
    this.timer.unref();
  }

  private markDown(reason: string): void {
    if (this.stopped) return;
    this.lastError = reason;
    if (this.downSince !== null) {
      this.options.logger.debug(`etcd still unreachable for decisions: ${reason}`, {
        event: 'etcd-retry',
        reason,
      });
      return;
    }
    this.downSince = Date.now();
    this.connected = false;
    const inForce = Object.keys(this.options.pool.decisions()).length;
    let keeping: string;
    if (this.readWhole) {
      keeping = `operators' decisions stay as they are (${inForce} in force); changes made meanwhile follow when it answers`;
    } else if (inForce === 0) {
      keeping = "no operator decision in force until etcd's can be read";
    } else {
      keeping = `keeping the state file's ${inForce} operator decision${inForce === 1 ? '' : 's'} until etcd's can be read`;
    }
    this.options.logger.warn(
      `etcd unreachable (${reason}): ${keeping}; a drain, maint or weight asked while it is away is refused`,
      {
        event: 'etcd-decisions-unreachable',
        reason,
        revision: this.revision,
      },
    );
  }

  private markUp(): void {
    if (this.connected) return;
    const wasDown = this.downSince;
    this.connected = true;
    this.downSince = null;
    if (wasDown === null) return;
    this.options.logger.info(
      `etcd reachable again after ${((Date.now() - wasDown) / 1000).toFixed(1)}s: operators' decisions followed from revision ${this.revision}`,
      { event: 'etcd-decisions-reachable', revision: this.revision },
    );
  }
}
