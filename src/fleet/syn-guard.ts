/**
 * The SYN guard of a planned front failover (docs/multi-host.md): while the front door closes and
 * the virtual address moves, new connections to it are dropped on this host, not refused, so the
 * clients' TCP sends them again a second later, to the front that holds the address then. One
 * nftables table of its own, added and deleted whole. `nft` runs where `run` runs it: here (npm run
 * lb on the front host) or in a lab host's namespace (src/hosts/packet-filter.ts).
 */
import { spawn } from 'node:child_process';

export const SYN_GUARD_TABLE = 'sbl_syn_guard';

/** Runs `nft` with these arguments and input; resolves with its exit code and stderr. */
export type NftRunner = (
  args: readonly string[],
  input?: string,
) => Promise<{ code: number | null; stderr: string }>;

/** nftables text: new connections to `address:port` dropped, everything else kept. */
export function synGuardRules(address: string, port: number): string {
  return `table ip ${SYN_GUARD_TABLE} {
  chain input {
    type filter hook input priority 0; policy accept;
    ip daddr ${address} tcp dport ${port} tcp flags & (syn | ack) == syn drop
  }
}
`;
}

/** `nft` on this host. */
export const localNft: NftRunner = (args, input) =>
  new Promise((resolve) => {
    const child = spawn('nft', [...args], { stdio: ['pipe', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (c: string) => (stderr += c));
    child.on('error', (err) => resolve({ code: null, stderr: err.message }));
    child.on('close', (code) => resolve({ code, stderr }));
    child.stdin.on('error', () => undefined).end(input);
  });

export async function raiseSynGuard(nft: NftRunner, address: string, port: number): Promise<void> {
  const result = await nft(['-f', '-'], synGuardRules(address, port));
  if (result.code !== 0) {
    throw new Error(
      `the SYN guard could not be set (nft: ${result.stderr.trim() || `exit ${result.code ?? 'killed'}`})`,
    );
  }
}

/** Gone already is fine: lifted at most once, and a namespace's removal takes it too. */
export async function liftSynGuard(nft: NftRunner): Promise<void> {
  await nft(['delete', 'table', 'ip', SYN_GUARD_TABLE]);
}
