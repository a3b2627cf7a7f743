/**
 * The last pool changes (an upstream leaving or rejoining rotation, and why), newest first, for the
 * dashboard. A fixed-size ring: old entries fall off, memory stays bounded however long it runs.
 */

export interface PoolChange {
  /** Epoch ms. */
  at: number;
  id: string;
  name: string;
  from: string;
  to: string;
  reason: string;
}

export class PoolChangeLog {
  private readonly entries: (PoolChange | undefined)[];
  private next = 0;
  private size = 0;

  constructor(readonly capacity = 20) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new RangeError(`capacity ${capacity}`);
    this.entries = new Array<PoolChange | undefined>(capacity);
  }

  add(change: PoolChange): void {
    this.entries[this.next] = change;
    this.next = (this.next + 1) % this.capacity;
    if (this.size < this.capacity) this.size++;
  }

  /** Newest first. */
  list(): PoolChange[] {
    const out: PoolChange[] = [];
    for (let k = 1; k <= this.size; k++) {
      const entry = this.entries[(this.next - k + this.capacity) % this.capacity];
      if (entry !== undefined) out.push(entry);
    }
    return out;
  }
}
