/**
 * A prom-client Counter for the request path: each label set gets a slot, bound once and kept by
 * the caller, and counting is `slot.pending++` (prom-client's own `inc` hashes the labels on every
 * call). Slots are added to the counter when Prometheus scrapes, through the counter's `collect`
 * hook, so the exposition is prom-client's and the numbers are exact at every scrape.
 */
import { Counter, type Registry } from 'prom-client';

export interface CounterSlot {
  pending: number;
}

interface BoundSlot extends CounterSlot {
  child: { inc(value: number): void };
}

export class DeferredCounter<L extends string> {
  readonly counter: Counter<L>;
  private readonly slots: BoundSlot[] = [];

  constructor(config: { name: string; help: string; labelNames: readonly L[]; registers: Registry[] }) {
    const slots = this.slots;
    this.counter = new Counter<L>({
      ...config,
      collect() {
        for (const slot of slots) {
          if (slot.pending > 0) {
            slot.child.inc(slot.pending);
            slot.pending = 0;
          }
        }
      },
    });
  }

  /**
   * The slot for one set of label values, in the order of `labelNames`. Call once per set. Its
   * series is exported from now on, at 0 until counted (prom-client adds it only on an inc).
   */
  slot(...values: string[]): CounterSlot {
    const child = this.counter.labels(...values);
    child.inc(0);
    const slot: BoundSlot = { pending: 0, child };
    this.slots.push(slot);
    return slot;
  }
}
