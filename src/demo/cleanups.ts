/**
 * What a demo started or changed, put back when it ends, also when it fails: last added first, and
 * every step runs even when one before it failed. A failing step is logged, not thrown, so the
 * demo's own error (if any) is the one reported.
 */
import { errorMessage } from '../errors.js';
import type { Logger } from '../logger.js';

export class Cleanups {
  private readonly steps: { what: string; run: () => Promise<void> }[] = [];

  constructor(private readonly logger: Logger) {}

  /** `what` finishes the sentence "could not ..." logged should the step fail. */
  add(what: string, run: () => Promise<void>): void {
    this.steps.push({ what, run });
  }

  async runAll(): Promise<void> {
    for (let step = this.steps.pop(); step !== undefined; step = this.steps.pop()) {
      try {
        await step.run();
      } catch (err) {
        this.logger.warn(`could not ${step.what}: ${errorMessage(err)}`);
      }
    }
  }
}
