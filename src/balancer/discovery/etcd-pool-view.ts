/**
 * The etcd discovery's state, pure: what the keys under one pool's prefix say, as a membership.
 * A full read replaces it, a watched put or delete changes one key. Each call says what changed and
 * which keys were refused (the source logs those), so the I/O in etcd-source.ts stays thin.
 */
import { decodeMember } from './etcd-keys.js';
import type { UpstreamSpec } from './types.js';

export interface KeyProblem {
  key: string;
  problem: string;
}

export interface ViewUpdate {
  /** The membership changed (someone joined, left, or moved): tell the pool. */
  changed: boolean;
  refused: KeyProblem[];
}

export class EtcdPoolView {
  private readonly byKey = new Map<string, UpstreamSpec>();
  private lastFingerprint = '';
  /** The store revision the view reflects. */
  revision = 0;

  constructor(
    private readonly prefix: string,
    private readonly pool: string,
  ) {}

  /** Members by name (`<host>/<app>`). */
  snapshot(): UpstreamSpec[] {
    return [...this.byKey.values()].sort((a, b) => a.name.localeCompare(b.name, 'en', { numeric: true }));
  }

  /** A full read of the prefix at `revision`: keys not in it are gone. */
  replace(kvs: readonly { key: string; value: string }[], revision: number): ViewUpdate {
    this.byKey.clear();
    const refused: KeyProblem[] = [];
    for (const kv of kvs) {
      const problem = this.accept(kv.key, kv.value);
      if (problem !== null) refused.push({ key: kv.key, problem });
    }
    this.revision = Math.max(this.revision, revision);
    return { changed: this.changed(), refused };
  }

  put(key: string, value: string, revision: number): ViewUpdate {
    this.byKey.delete(key);
    const problem = this.accept(key, value);
    this.revision = Math.max(this.revision, revision);
    return { changed: this.changed(), refused: problem === null ? [] : [{ key, problem }] };
  }

  delete(key: string, revision: number): ViewUpdate {
    this.byKey.delete(key);
    this.revision = Math.max(this.revision, revision);
    return { changed: this.changed(), refused: [] };
  }

  /** Take the key as a member, or say why not (a refused key is no member, even if it was one). */
  private accept(key: string, value: string): string | null {
    const decoded = decodeMember(this.prefix, this.pool, key, value);
    if (!decoded.ok) return decoded.problem;
    for (const [otherKey, other] of this.byKey) {
      if (other.id === decoded.spec.id) return `its address ${decoded.spec.id} is already ${otherKey}`;
    }
    this.byKey.set(key, decoded.spec);
    return null;
  }

  private changed(): boolean {
    const print = JSON.stringify(
      this.snapshot().map((m) => [m.id, m.name, m.weight, m.pm2?.status, m.pm2?.pid, m.pm2?.restarts]),
    );
    if (print === this.lastFingerprint) return false;
    this.lastFingerprint = print;
    return true;
  }
}
