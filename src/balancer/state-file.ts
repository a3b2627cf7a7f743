/**
 * Operators' decisions kept across restarts (what HAProxy needs `server-state-file` and a dump
 * before every reload for): one JSON file, written whole to a temporary name and renamed over the
 * old one on every change, so a crash leaves the old file or the new, never half of one; read at
 * start. Keyed by upstream name, so a decision holds for a backend that PM2 restarts or that
 * leaves the pool and comes back.
 */
import fs from 'node:fs';
import path from 'node:path';
import { errorMessage } from '../errors.js';
import type { Logger } from '../logger.js';
import type { AdminDecision } from './pool.js';
import { ADMIN_STATES, MAX_WEIGHT, type AdminState } from './zone.js';

export interface StateDocument {
  version: 1;
  /** By upstream name. */
  upstreams: Record<string, AdminDecision>;
}

/** The decisions in a state file's text; throws with what is wrong. */
export function parseState(text: string): Record<string, AdminDecision> {
  const raw = JSON.parse(text) as unknown;
  if (typeof raw !== 'object' || raw === null || (raw as { version?: unknown }).version !== 1) {
    throw new Error('not a version 1 state document');
  }
  const upstreams = (raw as { upstreams?: unknown }).upstreams;
  if (typeof upstreams !== 'object' || upstreams === null) throw new Error('no "upstreams" object');
  const out: Record<string, AdminDecision> = {};
  for (const [name, value] of Object.entries(upstreams)) {
    const d = value as { admin?: unknown; weight?: unknown };
    if (d.admin !== undefined && !ADMIN_STATES.includes(d.admin as AdminState)) {
      throw new Error(`${name}: admin ${JSON.stringify(d.admin)} is not one of ${ADMIN_STATES.join(', ')}`);
    }
    const weightOk =
      d.weight === undefined ||
      d.weight === null ||
      (Number.isInteger(d.weight) && (d.weight as number) >= 0 && (d.weight as number) <= MAX_WEIGHT);
    if (!weightOk)
      throw new Error(
        `${name}: weight ${JSON.stringify(d.weight)} is not a whole number from 0 to ${MAX_WEIGHT}`,
      );
    out[name] = {
      ...(d.admin === undefined ? {} : { admin: d.admin as AdminState }),
      ...(d.weight === undefined ? {} : { weight: d.weight as number | null }),
    };
  }
  return out;
}

export class StateFile {
  constructor(
    readonly file: string,
    private readonly logger: Logger,
  ) {}

  /** What the file holds; nothing (and a line saying why) when it is missing, unreadable or bad. */
  read(): Record<string, AdminDecision> {
    let text: string;
    try {
      text = fs.readFileSync(this.file, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') {
        this.logger.error(
          `state file ${this.file} cannot be read, every upstream starts ready: ${errorMessage(err)}`,
          {
            event: 'state-file-error',
          },
        );
      }
      return {};
    }
    try {
      const decisions = parseState(text);
      const count = Object.keys(decisions).length;
      if (count > 0) {
        this.logger.info(
          `state file ${this.file}: ${count} operator decision${count === 1 ? '' : 's'} to apply`,
          {
            event: 'state-file-read',
            decisions,
          },
        );
      }
      return decisions;
    } catch (err) {
      this.logger.error(
        `state file ${this.file} is not valid, every upstream starts ready: ${errorMessage(err)}`,
        {
          event: 'state-file-error',
        },
      );
      return {};
    }
  }

  /** Write the decisions in force, atomically; a failure is logged (the change itself holds). */
  write(decisions: Record<string, AdminDecision>): void {
    const doc: StateDocument = { version: 1, upstreams: decisions };
    const temporary = `${this.file}.${process.pid}.tmp`;
    try {
      fs.mkdirSync(path.dirname(this.file), { recursive: true });
      fs.writeFileSync(temporary, `${JSON.stringify(doc, null, 2)}\n`, { mode: 0o600 });
      fs.renameSync(temporary, this.file);
    } catch (err) {
      fs.rmSync(temporary, { force: true });
      this.logger.error(`state file ${this.file} could not be written: ${errorMessage(err)}`, {
        event: 'state-file-error',
      });
    }
  }
}
