/**
 * The balancer's options for how it picks and how operators steer it: the selection policy, the
 * state file that keeps operators' decisions across restarts, and the admin listener's address
 * and token. A group of balancerSpecs (config.ts), kept apart because its checks are their own.
 */
import path from 'node:path';
import { isIP } from 'node:net';
import { PROJECT_ROOT } from '../config/common.js';
import { enumParser, parseHost, parseString, type OptionSpec } from '../config/options.js';
import { POLICY_KINDS, type PolicyKind } from './selection.js';

/** Where state files go by default: one per balancer name and port, kept out of git. */
export const STATE_DIR = path.join(PROJECT_ROOT, 'state');

export const controlSpecs = {
  policy: {
    flag: 'policy',
    env: 'POLICY',
    description:
      'How an upstream is picked: round-robin (one rotation across every worker; smooth weighted when weights differ) or least-request (the power of two choices over the requests in flight from every worker)',
    default: 'round-robin',
    parse: enumParser<PolicyKind>(POLICY_KINDS),
  } satisfies OptionSpec<PolicyKind>,
  stateFile: {
    flag: 'state-file',
    env: 'STATE_FILE',
    description:
      "Where operators' decisions (drain, maint, weight) are kept, written on every change and read at start; none with --port 0",
    default: (p: Record<string, unknown>) => {
      const name = typeof p.name === 'string' ? p.name : 'balancer';
      return Number(p.port) === 0 ? '' : path.join(STATE_DIR, `${name}-${Number(p.port)}.json`);
    },
    defaultText: 'state/<name>-<port>.json',
    parse: parseString,
  } satisfies OptionSpec<string>,
  vrrpTrackFile: {
    flag: 'vrrp-track-file',
    env: 'VRRP_TRACK_FILE',
    description:
      "keepalived's track_file for this host's VRRP instance (weight 0): 0 while the front door is open, 1 once POST /__lb/front/maint has closed it, so the other front takes the address",
    default: '',
    defaultText: 'none',
    parse: parseString,
  } satisfies OptionSpec<string>,
  adminHost: {
    flag: 'admin-host',
    env: 'ADMIN_HOST',
    description:
      'Address of the admin listener; anywhere but loopback its POST routes need --admin-token-file',
    default: '127.0.0.1',
    parse: parseHost,
  } satisfies OptionSpec<string>,
  adminTokenFile: {
    flag: 'admin-token-file',
    env: 'ADMIN_TOKEN_FILE',
    description:
      'A file holding the bearer token the admin POST routes require (Authorization: Bearer <token>); required when --admin-host is not loopback',
    default: '',
    defaultText: 'none',
    parse: parseString,
  } satisfies OptionSpec<string>,
};

/** 127.0.0.0/8, ::1 and localhost: only this machine can reach it. */
export function isLoopback(host: string): boolean {
  if (host === 'localhost' || host === '::1') return true;
  return isIP(host) === 4 && host.startsWith('127.');
}

export function controlProblems(v: { adminHost: string; adminTokenFile: string }): string[] {
  if (!isLoopback(v.adminHost) && v.adminTokenFile === '') {
    return [
      `--admin-host ${v.adminHost} is not loopback: its POST routes would let anyone who reaches it steer the balancer; give --admin-token-file`,
    ];
  }
  return [];
}
