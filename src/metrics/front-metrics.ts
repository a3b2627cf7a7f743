/**
 * A front balancer's VRRP metrics (keepalived's state, its priority, split brain, the other
 * fronts' last contact), read from the balancer's status when scraped. Registered on the first
 * scrape that finds the balancer is a front, so a balancer that is none exports none of them.
 */
import { Gauge, type Registry } from 'prom-client';

export interface FrontGaugeSource {
  /** keepalived's state: one of the `states` given at registration. */
  vrrp: string;
  /** Null while the state is unknown: the priority is then left out. */
  priority: number | null;
  splitBrain: boolean;
  peers: readonly { name: string; lastContactMs: number }[];
}

export function registerFrontMetrics(
  registry: Registry,
  states: readonly string[],
  read: () => FrontGaugeSource | null,
): void {
  const registers = [registry];
  new Gauge({
    name: 'balancer_vrrp_state',
    help: "keepalived's VRRP state of this front: 1 for the current one, 0 for the others (unknown: no state file, or one that does not read)",
    labelNames: ['state'],
    registers,
    collect() {
      const front = read();
      this.reset();
      if (front === null) return;
      for (const state of states) this.labels(state).set(front.vrrp === state ? 1 : 0);
    },
  });
  new Gauge({
    name: 'balancer_vrrp_priority',
    help: "keepalived's VRRP priority of this front, from its notify hook (absent while the state is unknown)",
    registers,
    collect() {
      const priority = read()?.priority ?? null;
      if (priority === null) this.remove();
      else this.set(priority);
    },
  });
  new Gauge({
    name: 'balancer_vrrp_split_brain',
    help: '1 while this front and another with the same virtual IP both say MASTER (split brain), else 0',
    registers,
    collect() {
      this.set(read()?.splitBrain === true ? 1 : 0);
    },
  });
  new Gauge({
    name: 'balancer_front_peer_last_contact_seconds',
    help: 'Seconds since each other front balancer last wrote its record in etcd',
    labelNames: ['peer'],
    registers,
    collect() {
      this.reset();
      for (const p of read()?.peers ?? []) this.labels(p.name).set(p.lastContactMs / 1000);
    },
  });
}
