/**
 * The balancer's command line for a lab: its pool from the lab's etcd, and settings for hosts on a
 * LAN (quick health checks, short connect and proxy timeouts, idempotent requests retried after a
 * timeout), so a lost host is out of rotation within seconds. The multi-host demo, the
 * multi-host bench and the lab tests all run the balancer with these; each adds only its own
 * (where it listens, its log level, a test's extra flags).
 */

export interface LabHealth {
  intervalMs: number;
  timeoutMs: number;
  fall: number;
  rise: number;
}

/** Checks across a LAN: two failed in a row (about 1.3 s) take a lost host out. */
export const LAN_HEALTH: LabHealth = { intervalMs: 250, timeoutMs: 400, fall: 2, rise: 2 };

/** Everything but where it listens: discovery on the lab's etcd, `health`, and the LAN's timeouts. */
export function etcdBalancerArgs(
  lab: { etcd: { endpoints: readonly string[] }; prefix: string; pool: string },
  health: LabHealth = LAN_HEALTH,
): string[] {
  return [
    '--discovery',
    'etcd',
    '--etcd-endpoints',
    lab.etcd.endpoints.join(','),
    '--etcd-prefix',
    lab.prefix,
    '--pool',
    lab.pool,
    '--etcd-keepalive',
    '1s',
    '--etcd-timeout',
    '1s',
    '--health-interval',
    `${health.intervalMs}ms`,
    '--health-timeout',
    `${health.timeoutMs}ms`,
    '--fall',
    String(health.fall),
    '--rise',
    String(health.rise),
    '--connect-timeout',
    '300ms',
    '--proxy-timeout',
    '1s',
    '--retry-timeouts',
  ];
}
