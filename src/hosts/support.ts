/**
 * Can this machine build test hosts? They need root (network namespaces, veth pairs, a bridge),
 * iproute2 with `ip netns`, and etcd. Says what is missing in words a person can act on.
 */
import { runCommand } from './command.js';

export async function hostsSupportProblems(needs: { etcd: boolean } = { etcd: true }): Promise<string[]> {
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
  return problems;
}
