/**
 * Packet filters inside a host's namespace (nftables), for two jobs no process can do itself:
 *
 * - The SYN guard of a planned failover: while the front door closes, new connections to the
 *   virtual address are dropped at the host, not refused. The client's TCP sends its SYN again
 *   after a second, by which time the address is on the other front, and the connection opens
 *   there; a refused one (RST) would fail the request. (Yelp's zero-downtime HAProxy reloads and
 *   many keepalived set-ups drop SYNs the same way.)
 * - A VRRP-only partition: the host neither hears nor sends advertisements while everything else
 *   (clients, etcd) still flows, which is how a split brain starts.
 *
 * Each is one nftables table of its own, added and deleted whole, so removing one never touches
 * another; the namespace's removal takes whatever is left.
 */
import { InternalError } from '../errors.js';
import { runCommand } from './command.js';

const SYN_GUARD = 'sbl_syn_guard';
const VRRP_CUT = 'sbl_vrrp_cut';

/** nftables text for the SYN guard: new connections to `address:port` dropped, everything else kept. */
export function synGuardRules(address: string, port: number): string {
  return `table ip ${SYN_GUARD} {
  chain input {
    type filter hook input priority 0; policy accept;
    ip daddr ${address} tcp dport ${port} tcp flags & (syn | ack) == syn drop
  }
}
`;
}

/** nftables text for cutting VRRP (IP protocol 112) both ways. */
export function vrrpCutRules(): string {
  return `table ip ${VRRP_CUT} {
  chain input {
    type filter hook input priority 0; policy accept;
    ip protocol vrrp drop
  }
  chain output {
    type filter hook output priority 0; policy accept;
    ip protocol vrrp drop
  }
}
`;
}

async function nft(netns: string, args: string[], input?: string): Promise<void> {
  const result = await runCommand('ip', ['netns', 'exec', netns, 'nft', ...args], {
    timeoutMs: 10_000,
    ...(input === undefined ? {} : { input }),
  });
  if (result.code !== 0) {
    throw new InternalError(
      'ERR_HOSTS_COMMAND',
      `nft ${args.join(' ')} in ${netns} failed: ${result.stderr.trim() || `exit ${result.code ?? 'killed'}`}`,
    );
  }
}

async function deleteTable(netns: string, table: string): Promise<void> {
  // Gone already is fine: the guard is lifted at most once, and the namespace may have taken it.
  await runCommand('ip', ['netns', 'exec', netns, 'nft', 'delete', 'table', 'ip', table], {
    timeoutMs: 10_000,
  });
}

export const guardSyns = (netns: string, address: string, port: number): Promise<void> =>
  nft(netns, ['-f', '-'], synGuardRules(address, port));

export const liftSynGuard = (netns: string): Promise<void> => deleteTable(netns, SYN_GUARD);

export const cutVrrp = (netns: string): Promise<void> => nft(netns, ['-f', '-'], vrrpCutRules());

export const healVrrp = (netns: string): Promise<void> => deleteTable(netns, VRRP_CUT);

/** Whether nft works here (installed, and the kernel has nf_tables): empty, or why not. */
export async function nftProblem(): Promise<string | null> {
  const result = await runCommand('nft', ['list', 'tables'], { timeoutMs: 5000 });
  if (result.code === 0) return null;
  return `nft does not work here (${result.stderr.trim() || 'not installed'}); apt-get install nftables`;
}
