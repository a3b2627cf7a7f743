/**
 * What every response of a scenario must be: status 200 and, for a file, exactly the file's size
 * as it is on disk now (never a number written in the code); for anything else, what one good
 * warm-up response shows (a JSON object's shape, or a length).
 */
import { stat } from 'node:fs/promises';
import path from 'node:path';
import { describeBodyCheck, learnBodyCheck } from './body-check.js';
import { describeOutcome, getWithDeadline } from '../../src/net/http-get.js';
import type { Scenario } from './scenarios.js';
import type { Expectation } from './types.js';

export interface ResolvedExpectation {
  expect: Expectation;
  /** A body length typical of the scenario, for sizing the trivial server's answers. */
  typicalBytes: number;
}

export async function expectationFor(
  scenario: Scenario,
  publicDir: string,
  sampleUrl: string | null,
  timeoutMs: number,
): Promise<ResolvedExpectation> {
  if (scenario.file !== null) {
    const file = path.join(publicDir, scenario.file);
    try {
      const info = await stat(file);
      if (info.isFile()) {
        return {
          expect: {
            status: 200,
            body: { kind: 'length', bytes: info.size },
            source: `size of public/${scenario.file}`,
          },
          typicalBytes: info.size,
        };
      }
    } catch {
      // not on disk: learn from the server below, and say so
    }
  }
  const onDisk = scenario.file === null ? '' : `public/${scenario.file} is not on disk; `;
  if (sampleUrl === null) {
    return {
      expect: { status: 200, body: { kind: 'none' }, source: `${onDisk}no target up to learn from` },
      typicalBytes: 0,
    };
  }
  const sample = await getWithDeadline(`${sampleUrl}${scenario.path}`, timeoutMs);
  if (sample.kind !== 'answered') {
    return {
      expect: {
        status: 200,
        body: { kind: 'none' },
        source: `${onDisk}warm-up sample failed: ${describeOutcome(sample)}`,
      },
      typicalBytes: 0,
    };
  }
  if (sample.status !== 200) {
    return {
      expect: {
        status: 200,
        body: { kind: 'none' },
        source: `${onDisk}the warm-up sample answered ${sample.status}, so only the status is checked`,
      },
      typicalBytes: sample.body.length,
    };
  }
  const body = learnBodyCheck(sample.body);
  return {
    expect: {
      status: 200,
      body,
      source: `${onDisk}learned from one warm-up response: ${describeBodyCheck(body)}`,
    },
    typicalBytes: sample.body.length,
  };
}
