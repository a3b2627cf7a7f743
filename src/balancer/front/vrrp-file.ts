/**
 * Follows keepalived's state file (vrrp-state.ts says what is in it). The hook replaces the file
 * by rename, so watching the file itself would lose it at the first change; it is read again
 * every 200 ms instead (a read of at most 129 bytes), and a change reaches the status within
 * about a quarter of a second. A file that is missing, unreadable or malformed is a reading of its
 * own (the state is unknown), never an exception.
 */
import { open } from 'node:fs/promises';
import { errorMessage } from '../../errors.js';
import { MAX_LINE_BYTES, parseVrrpLine, sameReading, type VrrpReading } from './vrrp-state.js';

export const VRRP_POLL_MS = 200;

/** Read the file once: its reading, whatever is wrong with it. */
export async function readVrrpFile(file: string): Promise<VrrpReading> {
  let handle;
  try {
    handle = await open(file, 'r');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { kind: 'missing' };
    return { kind: 'bad', problem: `it cannot be opened (${errorMessage(err)})` };
  }
  try {
    const buffer = Buffer.alloc(MAX_LINE_BYTES + 1);
    const { bytesRead } = await handle.read(buffer, 0, buffer.length, 0);
    if (bytesRead > MAX_LINE_BYTES)
      return { kind: 'bad', problem: `it is longer than ${MAX_LINE_BYTES} bytes` };
    const text = buffer.subarray(0, bytesRead).toString('latin1');
    // eslint-disable-next-line no-control-regex -- control bytes are what it refuses
    if (/[\x00-\x09\x0b-\x1f\x7f-\xff]/.test(text))
      return { kind: 'bad', problem: 'it is not one line of text' };
    return parseVrrpLine(text);
  } catch (err) {
    return { kind: 'bad', problem: `it cannot be read (${errorMessage(err)})` };
  } finally {
    await handle.close().catch(() => undefined);
  }
}

export class VrrpFileFollower {
  reading: VrrpReading = { kind: 'missing' };
  private timer: NodeJS.Timeout | null = null;
  private busy = false;

  constructor(
    readonly file: string,
    /** A reading that differs from the last in what a person is told (not the hook's time alone). */
    private readonly onChange: (after: VrrpReading, before: VrrpReading | null) => void,
    private readonly pollMs = VRRP_POLL_MS,
  ) {}

  /** Read it now (the first reading is reported with `before` null), then every poll. */
  async start(): Promise<void> {
    this.reading = await readVrrpFile(this.file);
    this.onChange(this.reading, null);
    this.timer = setInterval(() => void this.poll(), this.pollMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer !== null) clearInterval(this.timer);
    this.timer = null;
  }

  private async poll(): Promise<void> {
    if (this.busy) return;
    this.busy = true;
    try {
      const next = await readVrrpFile(this.file);
      if (this.timer === null) return;
      const before = this.reading;
      this.reading = next;
      if (!sameReading(before, next)) this.onChange(next, before);
    } finally {
      this.busy = false;
    }
  }
}
