/** The shape of results.json: every setting, every figure, the machine, and the verdicts. */
import type { BenchConfig } from './bench-config.js';
import type { AbResult, WrkResult } from './external-tools.js';
import type { TargetStatus } from './health.js';
import type { MachineInfo } from './machine.js';
import type { Aggregate, ClientMode, Expectation, Figures, RawRun } from './types.js';
import type { ScenarioVerdicts } from './conclusion.js';

/** One client mode measured against the trivial server. */
export interface ModeTrial {
  mode: ClientMode;
  clients: number;
  concurrency: number;
  /** Body size of the trivial server's answers in this trial. */
  bodyBytes: number;
  requests: number;
  rps: number;
  ok: number;
  failed: number;
  /** Every response checked good and the count right. */
  correct: boolean;
  /** Compatible with the keep-alive setting, so eligible to be chosen. */
  eligible: boolean;
  error?: string;
}

export interface ScenarioClient {
  mode: ClientMode;
  reason: string;
  /** The eligible modes against the trivial server with this scenario's body size (none when forced). */
  trials: ModeTrial[];
}

export interface ClientReport {
  /** The trivial server's body for these trials: a few bytes, like a hello-world. */
  trivialBodyBytes: number;
  wrk: WrkResult | null;
  wrkSkipped: string | null;
  trials: ModeTrial[];
  chosenMode: ClientMode;
  /** Why that mode: measured fastest, or forced with --client-mode. */
  reason: string;
  clients: number;
  /** The chosen mode with all client processes, c=10 (the figure to hold against wrk's). */
  ceilingRps: number;
}

export interface MeasuredRun {
  figures: Figures;
  raw: RawRun;
}

export interface CaseResult {
  scenario: string;
  target: string;
  concurrency: number;
  status: 'measured' | 'down' | 'error';
  error: string | null;
  runs: MeasuredRun[];
  aggregate: Aggregate | null;
  /** Median rps of the same client against the trivial server, same body size and concurrency. */
  ceilingRps: number | null;
  /** The target's median rps reached 80% of that: the client, not the server, may be the limit. */
  clientBound: boolean;
  ab: AbResult | null;
  abError: string | null;
}

export interface ScenarioReport {
  name: string;
  path: string;
  description: string;
  expectation: Expectation;
  /** Warm-up outcome per target (requests, failures): a target failing its warm-up shows here. */
  warmup: Record<string, { requests: number; ok: number; failed: number }>;
  /** The loadtest client mode this scenario ran with, and the trials that chose it. */
  client: ScenarioClient;
  /** The client against the trivial server, per concurrency: the reference line in the charts. */
  ceilings: { concurrency: number; runs: Figures[]; aggregate: Aggregate | null }[];
  charts: { rps: string; p99: string };
}

export interface BenchResults {
  schema: 'supervised-balancer/bench-all@1';
  startedAt: string;
  finishedAt: string;
  command: string;
  settings: BenchConfig;
  machine: MachineInfo;
  targets: TargetStatus[];
  /** PM2 apps this run started (and stopped again). */
  fleetStartedByUs: string[];
  client: ClientReport;
  scenarios: ScenarioReport[];
  cases: CaseResult[];
  conclusion: ScenarioVerdicts[];
  /** The share of the client's ceiling from which a result counts as client-bound. */
  clientBoundThreshold: number;
}
