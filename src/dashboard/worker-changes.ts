/**
 * What changed among the balancer's workers between two readings of its status: a reload starting
 * (a new generation appears) and done (the reload count went up), old workers drained and gone, a
 * worker lost (it exited while serving) and the one started in its place. The status only says
 * what is; the page also wants to say what happened, so the dashboard compares each reading with
 * the last. Pure: readings in, changes out.
 *
 * A reading comes with each frame (about once a second while someone watches), so a reload of idle
 * workers can start, finish and drain between two readings; the rules below read it right anyway:
 * a worker that is gone and older than the newest generation was drained, not lost.
 */
import type { WorkerChange, WorkerView } from './view.js';

export type { WorkerChange, WorkerChangeKind } from './view.js';

const plural = (n: number, word: string): string => `${n} ${word}${n === 1 ? '' : 's'}`;
const pids = (ws: readonly WorkerView[]): string =>
  `${ws.length === 1 ? 'pid' : 'pids'} ${ws.map((w) => w.pid).join(', ')}`;

function byGeneration(ws: readonly WorkerView[]): Map<number, WorkerView[]> {
  const groups = new Map<number, WorkerView[]>();
  for (const w of ws) groups.set(w.generation, [...(groups.get(w.generation) ?? []), w]);
  return new Map([...groups].sort(([a], [b]) => a - b));
}

export class WorkerChangeTracker {
  private last: Map<number, WorkerView> | null = null;
  private newest = 0;
  /** The newest generation that has had a ready worker. */
  private served = 0;
  private reloads = 0;

  /**
   * Compare this reading with the last one; the changes it shows, in the order they happened. The
   * first reading is the baseline: it shows no change.
   */
  observe(at: number, workers: readonly WorkerView[], reloads: number): WorkerChange[] {
    const now = new Map(workers.map((w) => [w.id, w]));
    const last = this.last;
    this.last = now;
    const newestBefore = this.newest;
    this.newest = Math.max(this.newest, ...workers.map((w) => w.generation));
    const reloadsBefore = this.reloads;
    this.reloads = reloads;
    const ready = workers.filter((w) => w.state === 'ready').map((w) => w.generation);
    this.served = Math.max(this.served, ...ready);
    if (last === null) return [];

    const out: WorkerChange[] = [];
    const fresh = workers.filter((w) => !last.has(w.id));
    for (const [generation, ws] of byGeneration(fresh.filter((w) => w.generation > newestBefore))) {
      out.push({
        at: Math.min(...ws.map((w) => w.startedAt)),
        kind: 'reload-start',
        generation,
        text: `reload: generation ${generation} starting, ${pids(ws)}`,
      });
    }
    for (const w of fresh.filter((f) => f.generation <= newestBefore)) {
      out.push({
        at: w.startedAt,
        kind: 'worker-started',
        generation: w.generation,
        text: `worker ${w.id} (pid ${w.pid}) started, generation ${w.generation}`,
      });
    }

    const gone = [...last.values()].filter((w) => !now.has(w.id));
    // A generation that never had a ready worker and went away with no reload counted: it failed.
    const failed = gone.filter((w) => w.generation > this.served && reloads === reloadsBefore);
    const drained = gone.filter(
      (w) => !failed.includes(w) && (w.state === 'draining' || w.generation < this.newest),
    );
    for (const w of gone.filter((g) => !drained.includes(g) && !failed.includes(g))) {
      out.push({
        at,
        kind: 'worker-lost',
        generation: w.generation,
        text: `worker ${w.id} (pid ${w.pid}) exited while serving`,
      });
    }

    if (reloads > reloadsBefore) {
      const serving = workers.filter((w) => w.generation === this.newest && w.state !== 'draining');
      out.push({
        at,
        kind: 'reload-done',
        generation: this.newest,
        text: `reload ${reloads} done: generation ${this.newest} serving (${plural(serving.length, 'worker')})`,
      });
    }

    for (const [generation, ws] of byGeneration(drained)) {
      out.push({
        at,
        kind: 'drained',
        generation,
        text: `generation ${generation} drained: ${pids(ws)} exited`,
      });
    }
    for (const [generation, ws] of byGeneration(failed)) {
      out.push({
        at,
        kind: 'reload-failed',
        generation,
        text: `reload to generation ${generation} failed (${pids(ws)} stopped); generation ${this.served} serves on`,
      });
    }
    // Starts carry the workers' own start time, which can be before the last reading.
    return out.sort((a, b) => a.at - b.at);
  }
}
