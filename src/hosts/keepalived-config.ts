/**
 * keepalived's configuration for a front host, and the notify script that tells the balancer what
 * state its VRRP instance is in. Pure: text from settings (tests run `keepalived -t` on it).
 *
 * The choices, each for a reason:
 * - VRRP version 3, so the advertisement interval can be below a second (centiseconds).
 * - Both instances start BACKUP with `nopreempt`: a front that comes back (its link, its host, its
 *   keepalived) does not take the address back from one that serves well, which would reset every
 *   connection open there. Priorities still decide a split brain when it heals.
 * - The front door's track file (weight 0: a non-zero value is a FAULT) moves the address at once
 *   on a planned failover; the balancer writes it (src/balancer/front-door.ts).
 * - A check of the balancer's /healthz once a second (keepalived runs scripts no more often)
 *   gives the address away when the balancer hangs: three failures in a row, each after 2 s
 *   without an answer, so neither a reload (the admin listener waits in the handover's holder
 *   for a second or so) nor a busy moment moves it. A stopped balancer does not wait for it: the
 *   handover's holder writes the track file (front-door.ts), and a crashed one is restarted by
 *   PM2 while its workers serve on.
 * - Gratuitous ARPs repeated when a lower priority is heard: after a split brain the winner
 *   announces itself again, so clients that followed the loser come back.
 */

export interface KeepalivedSettings {
  /** keepalived's router_id and the instance's name: the lab tag and the host (sbl-ab12-f1). */
  name: string;
  /** The host's interface on the LAN. */
  interface: string;
  /** 1-255, the same on every front of one address. */
  virtualRouterId: number;
  /** 1-254; the higher wins an election (and a split brain). */
  priority: number;
  /** Seconds between advertisements (VRRPv3: 0.01 to 40); a master is dead after about 3. */
  advertIntervalS: number;
  vip: string;
  prefixLength: number;
  /** The front door's track file (0 open, 1 maint). */
  trackFile: string;
  /** The script keepalived runs on every state change (notifyScript() writes it). */
  notifyScript: string;
  /** The balancer's /healthz; null: no check. */
  healthUrl: string | null;
  /** curl's path, for the check. */
  curl: string;
}

export function keepalivedProblems(s: KeepalivedSettings): string[] {
  const problems: string[] = [];
  if (!Number.isInteger(s.virtualRouterId) || s.virtualRouterId < 1 || s.virtualRouterId > 255)
    problems.push(`virtual_router_id ${s.virtualRouterId} is not 1-255`);
  if (!Number.isInteger(s.priority) || s.priority < 1 || s.priority > 254)
    problems.push(`priority ${s.priority} is not 1-254`);
  if (!(s.advertIntervalS >= 0.01 && s.advertIntervalS <= 40))
    problems.push(`advert_int ${s.advertIntervalS} is not 0.01-40 s`);
  if (Math.abs(Math.round(s.advertIntervalS * 100) - s.advertIntervalS * 100) > 1e-6)
    problems.push(`advert_int ${s.advertIntervalS} is not whole centiseconds`);
  if (!/^[\w.-]+$/.test(s.name)) problems.push(`name "${s.name}" has characters keepalived will not take`);
  for (const [what, file] of [
    ['track file', s.trackFile],
    ['notify script', s.notifyScript],
  ] as const) {
    if (!file.startsWith('/') || /["\s]/.test(file))
      problems.push(`${what} "${file}" is not an absolute path without spaces`);
  }
  return problems;
}

export function keepalivedConfig(s: KeepalivedSettings): string {
  const problems = keepalivedProblems(s);
  if (problems.length > 0) throw new Error(`keepalived settings: ${problems.join('; ')}`);
  const check =
    s.healthUrl === null
      ? ''
      : `vrrp_script balancer_healthz {
  script "${s.curl} -sf -m 2 -o /dev/null ${s.healthUrl}"
  interval 1
  timeout 3
  fall 3
  rise 2
}
`;
  return `# ${s.name}: written by supervised-balancer (src/hosts/keepalived-config.ts)
global_defs {
  router_id ${s.name}
  script_user root
  enable_script_security
  vrrp_version 3
  vrrp_garp_master_delay 1
  vrrp_garp_master_repeat 3
  vrrp_garp_lower_prio_repeat 3
  vrrp_higher_prio_send_advert
}
${check}track_file front_door {
  file "${s.trackFile}"
}
vrrp_instance ${s.name.replace(/[.-]/g, '_')} {
  state BACKUP
  interface ${s.interface}
  virtual_router_id ${s.virtualRouterId}
  priority ${s.priority}
  advert_int ${s.advertIntervalS}
  nopreempt
  virtual_ipaddress {
    ${s.vip}/${s.prefixLength} dev ${s.interface}
  }
${s.healthUrl === null ? '' : '  track_script {\n    balancer_healthz\n  }\n'}  track_file {
    front_door weight 0
  }
  notify "${s.notifyScript}"
}
`;
}

/**
 * The notify script: keepalived calls it with TYPE NAME STATE PRIORITY; it writes
 * `STATE PRIORITY MS_SINCE_EPOCH` to `stateFile` whole (a temporary file renamed over it), which
 * the balancer follows (`--vrrp-state-file`).
 */
export function notifyScript(stateFile: string): string {
  return `#!/bin/sh
# keepalived: notify TYPE NAME STATE PRIORITY (written by supervised-balancer)
f='${stateFile}'
printf '%s %s %s\\n' "$3" "$4" "$(date +%s%3N)" > "$f.tmp" && mv "$f.tmp" "$f"
`;
}
