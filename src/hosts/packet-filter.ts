/**
 * Packet filters inside a lab host's namespace (nftables): `nft` run there (for the SYN guard of a
 * planned failover, src/fleet/syn-guard.ts), and a VRRP-only partition: the host neither hears nor
 * sends advertisements while everything else (clients, etcd) still flows, which is how a split
 * brain starts. Each is one table of its own, added and deleted whole; the namespace's removal
 * takes whatever is left.
 */
import { InternalError } from '../errors.js';
import type { NftRunner } from '../fleet/syn-guard.js';
import { runCommand } from './command.js';

const VRRP_CUT = 'sbl_vrrp_cut';

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

/** `nft` in a lab host's namespace, for the SYN guard (src/fleet/syn-guard.ts). */
export const nftIn =
  (netns: string): NftRunner =>
  (args, input) =>
    runCommand('ip', ['netns', 'exec', netns, 'nft', ...args], {
      timeoutMs: 10_000,
      ...(input === undefined ? {} : { input }),
    });

export const cutVrrp = (netns: string): Promise<void> => nft(netns, ['-f', '-'], vrrpCutRules());

export const healVrrp = (netns: string): Promise<void> => deleteTable(netns, VRRP_CUT);

/** Whether nft works here (installed, and the kernel has nf_tables): empty, or why not. */
export async function nftProblem(): Promise<string | null> {
  const result = await runCommand('nft', ['list', 'tables'], { timeoutMs: 5000 });
  if (result.code === 0) return null;
  return `nft does not work here (${result.stderr.trim() || 'not installed'}); apt-get install nftables`;
}
