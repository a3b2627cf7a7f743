/**
 * The options of a front balancer, one of two behind a virtual IP that keepalived moves (VRRP):
 * where keepalived's notify hook writes this host's state, the front's name (its key in etcd and
 * its name on the dashboard) and the virtual IP. A group of balancerSpecs (config.ts); pure.
 */
import { isIP } from 'node:net';
import { parseString, type OptionSpec } from '../../config/options.js';
import { isKeySegment, parseKeySegment } from '../discovery/etcd-keys.js';

/** What the control plane needs to follow keepalived and meet the other fronts. */
export interface FrontConfig {
  /** This front's name: its key `<prefix>/fronts/<name>` and its name on the page. */
  name: string;
  /** The virtual IP, for display and the peers' records; null when not given. */
  vip: string | null;
  /** keepalived's notify hook writes `<STATE> <PRIORITY> <MS>` here; null: the state is unknown. */
  stateFile: string | null;
}

export function parseVip(raw: string): string {
  const value = raw.trim();
  if (isIP(value) === 0) throw new Error(`"${raw}" is not an IP address (the virtual IP keepalived moves)`);
  return value;
}

export const frontSpecs = {
  vrrpStateFile: {
    flag: 'vrrp-state-file',
    env: 'VRRP_STATE_FILE',
    description:
      "The file keepalived's notify hook writes (`<STATE> <PRIORITY> <MS_SINCE_EPOCH>`): this front's VRRP state, followed within half a second, on the status page, the dashboard and /metrics",
    default: '',
    defaultText: 'none (no front)',
    parse: parseString,
  } satisfies OptionSpec<string>,
  frontName: {
    flag: 'front-name',
    env: 'FRONT_NAME',
    description:
      "This front balancer's name: on the status page and, with etcd discovery, its key <prefix>/fronts/<name> that the other fronts read",
    default: '',
    defaultText: 'the host name (when --vrrp-state-file is given)',
    parse: parseKeySegment('front name'),
  } satisfies OptionSpec<string>,
  vip: {
    flag: 'vip',
    env: 'VIP',
    description:
      'The virtual IP keepalived moves between the front balancers: shown with the VRRP state, and only fronts with the same one can be in split brain',
    default: '',
    defaultText: 'none',
    parse: parseVip,
  } satisfies OptionSpec<string>,
};

type FrontValues = { vrrpStateFile: string; frontName: string; vip: string };

/** Whether this balancer is a front at all: a state file or a name was given. */
function isFront(v: FrontValues): boolean {
  return v.vrrpStateFile !== '' || v.frontName !== '';
}

export function frontProblems(v: FrontValues, hostName: string): string[] {
  if (!isFront(v)) {
    return v.vip === ''
      ? []
      : [
          `--vip ${v.vip} is given, but this balancer is no front; give --vrrp-state-file (or --front-name) too`,
        ];
  }
  if (v.frontName === '' && !isKeySegment(hostName)) {
    return [
      `the host name "${hostName}" cannot name this front in etcd (letters, digits, . _ -); give --front-name`,
    ];
  }
  return [];
}

/** The front's settings, or null when the balancer is no front. */
export function toFrontConfig(v: FrontValues, hostName: string): FrontConfig | null {
  if (!isFront(v)) return null;
  return {
    name: v.frontName === '' ? hostName : v.frontName,
    vip: v.vip === '' ? null : v.vip,
    stateFile: v.vrrpStateFile === '' ? null : v.vrrpStateFile,
  };
}
