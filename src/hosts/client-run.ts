/**
 * The root namespace's handle on the lab's clients: starts the client program inside the client
 * host (src/hosts-client.ts, through `ip netns exec`) and collects its outcomes as they come, each
 * with the time it was sent on this process's clock, so faults started here line up with them.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import readline from 'node:readline';
import { PROJECT_ROOT } from '../config/common.js';
import type { ClientOutcome } from './client-loops.js';
import type { HostLink } from './network.js';

export interface ClientRunSettings {
  url: string;
  keepAlive: number;
  close: number;
  rate: number;
  durationMs: number;
  timeoutMs?: number;
}

/** An outcome with its send time on the caller's clock (Date.now() ms). */
export interface TimedOutcome extends ClientOutcome {
  at: number;
}

export class ClientRun {
  readonly outcomes: TimedOutcome[] = [];
  private readonly child: ChildProcess;
  private readonly done: Promise<number | null>;
  private started = 0;
  private stderr = '';

  constructor(host: HostLink, settings: ClientRunSettings) {
    this.child = spawn(
      'ip',
      [
        'netns',
        'exec',
        host.netns,
        process.execPath,
        path.join(PROJECT_ROOT, 'dist', 'src', 'hosts-client.js'),
        '--url',
        settings.url,
        '--keep-alive',
        String(settings.keepAlive),
        '--close',
        String(settings.close),
        '--rate',
        String(settings.rate),
        '--duration',
        `${settings.durationMs}ms`,
        '--timeout',
        `${settings.timeoutMs ?? 5000}ms`,
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    this.child.stderr?.setEncoding('utf8').on('data', (c: string) => (this.stderr += c));
    const lines = readline.createInterface({ input: this.child.stdout as NodeJS.ReadableStream });
    lines.on('line', (line) => {
      try {
        const outcome = JSON.parse(line) as ClientOutcome;
        // The program's clock starts when its loops start: the first line pins the two together.
        if (this.started === 0) this.started = Date.now() - outcome.t - outcome.ms;
        this.outcomes.push({ ...outcome, at: this.started + outcome.t });
      } catch {
        this.stderr += `${line}\n`;
      }
    });
    this.done = new Promise((resolve) => {
      this.child.on('close', (code) => resolve(code));
      this.child.on('error', (err) => {
        this.stderr += err.message;
        resolve(null);
      });
    });
  }

  /** Stop sending; resolves with every outcome once the requests in flight have theirs. */
  async stop(): Promise<TimedOutcome[]> {
    if (this.child.exitCode === null) this.child.kill('SIGTERM');
    const killer = setTimeout(() => this.child.kill('SIGKILL'), 15_000);
    await this.done;
    clearTimeout(killer);
    return this.outcomes;
  }

  /** Runs to the end of its duration. */
  async finished(): Promise<TimedOutcome[]> {
    await this.done;
    return this.outcomes;
  }

  get errors(): string {
    return this.stderr;
  }

  failures(): TimedOutcome[] {
    return this.outcomes.filter((o) => !o.ok);
  }
}
