/** The machine and software a result came from, for results.json and the report. */
import { readFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { runCommand } from './run-command.js';

export interface MachineInfo {
  cpuModel: string;
  cores: number;
  memoryBytes: number;
  platform: string;
  osRelease: string;
  /** 1, 5 and 15 minute load averages when the run started: other work on the machine shows here. */
  loadAverage: number[];
  node: string;
  packages: Record<string, string>;
  tools: Record<string, string>;
  git: { commit: string; dirty: boolean } | null;
}

const PACKAGES = ['loadtest', 'cli-progress', 'pm2', 'http-proxy', 'http-proxy-3', 'piscina', 'typescript'];

async function packageVersion(root: string, name: string): Promise<string> {
  try {
    const text = await readFile(path.join(root, 'node_modules', name, 'package.json'), 'utf8');
    return (JSON.parse(text) as { version?: string }).version ?? 'unknown';
  } catch {
    return 'not installed';
  }
}

async function toolVersion(command: string, args: string[], pattern: RegExp): Promise<string> {
  const ran = await runCommand(command, args, 5000);
  if (ran.kind === 'missing') return 'not installed';
  const m = pattern.exec(`${ran.stdout}\n${ran.stderr}`);
  return m?.[1] ?? 'unknown';
}

async function gitState(root: string): Promise<MachineInfo['git']> {
  const head = await runCommand('git', ['-C', root, 'rev-parse', 'HEAD'], 5000);
  if (head.kind !== 'ran' || head.code !== 0) return null;
  const status = await runCommand('git', ['-C', root, 'status', '--porcelain', '--untracked-files=no'], 5000);
  return {
    commit: head.stdout.trim(),
    dirty: status.kind === 'ran' && status.stdout.trim() !== '',
  };
}

export async function describeMachine(projectRoot: string): Promise<MachineInfo> {
  const cpus = os.cpus();
  const packages: Record<string, string> = {};
  for (const name of PACKAGES) packages[name] = await packageVersion(projectRoot, name);
  return {
    cpuModel: cpus[0]?.model.trim() ?? 'unknown',
    cores: cpus.length,
    memoryBytes: os.totalmem(),
    platform: `${os.platform()} ${os.arch()}`,
    osRelease: os.release(),
    loadAverage: os.loadavg().map((n) => Math.round(n * 100) / 100),
    node: process.version,
    packages,
    tools: {
      wrk: await toolVersion('wrk', ['-v'], /wrk ([\w./+-]+)/),
      ab: await toolVersion('ab', ['-V'], /Version ([\w.-]+)/),
    },
    git: await gitState(projectRoot),
  };
}
