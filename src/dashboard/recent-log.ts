/**
 * The last N entries of something, newest first, for the dashboard (pool changes, worker changes).
 * A fixed-size ring: old entries fall off, memory stays bounded however long the balancer runs.
 */
export class RecentLog<T> {
  private readonly entries: (T | undefined)[];
  private next = 0;
  private size = 0;

  constructor(readonly capacity = 20) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new RangeError(`capacity ${capacity}`);
    this.entries = new Array<T | undefined>(capacity);
  }

  add(entry: T): void {
    this.entries[this.next] = entry;
    this.next = (this.next + 1) % this.capacity;
    if (this.size < this.capacity) this.size++;
  }

  /** Newest first. */
  list(): T[] {
    const out: T[] = [];
    for (let k = 1; k <= this.size; k++) {
      const entry = this.entries[(this.next - k + this.capacity) % this.capacity];
      if (entry !== undefined) out.push(entry);
    }
    return out;
  }
}
