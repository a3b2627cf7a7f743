/**
 * Can this machine build test hosts? They need root (network namespaces, veth pairs, a bridge),
 * iproute2 with `ip netns`, and etcd; front hosts also keepalived and nftables. Says what is
 * missing in words a person can act on.
 */
import { runCommand } from './command.js';
import { keepalivedProblem } from './front-host.js';
import { nftProblem } from './packet-filter.js';

export async function hostsSupportProblems(
  needs: { etcd: boolean; fronts?: { keepalived: string } } = { etcd: true },
): Promise<string[]> {
  const problems: string[] = [];
  if (typeof process.getuid === 'function' && process.getuid() !== 0) {
    problems.push('network namespaces need root (run as root, as CI does)');
  }
  const ip = await runCommand('ip', ['netns', 'list'], { timeoutMs: 5000 });
  if (ip.code !== 0) {
    problems.push(
      `\`ip netns\` does not work here (${ip.stderr.trim() || 'iproute2 missing'}); apt-get install iproute2`,
    );
  }
  if (needs.etcd) {
    const etcd = await runCommand('etcd', ['--version'], { timeoutMs: 5000 });
    if (etcd.code !== 0) problems.push('etcd is not installed; apt-get install etcd-server etcd-client');
    const ctl = await runCommand('etcdctl', ['version'], { timeoutMs: 5000 });
    if (ctl.code !== 0) problems.push('etcdctl is not installed; apt-get install etcd-client');
  }
  if (needs.fronts !== undefined) {
    const keepalived = await keepalivedProblem(needs.fronts.keepalived);
    if (keepalived !== null) problems.push(keepalived);
    const nft = await nftProblem();
    if (nft !== null) problems.push(nft);
  }
  return problems;
}
