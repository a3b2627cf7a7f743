/**
 * Moving the fronts' virtual address, on purpose and by faults.
 *
 * Planned (`plannedFailover`): the order of the steps is the whole game, since once the address
 * has moved every packet of a connection still open to the old front reaches the new one and is
 * reset. So: (1) the old front drops new connections' SYNs (clients send them again a second
 * later, to whoever holds the address then); (2) its front door closes: `Connection: close` on
 * every answer, idle connections closed, and once none is open (or after 2 s) its track file
 * makes keepalived give the address away; (3) once the other front holds it, the guard is lifted.
 *
 * Unplanned (`injectFault`): the host's link cut (its keepalived sees the carrier go and leaves
 * at once; the other takes over after three missed advertisements), the host crashed (every
 * process killed), its balancer stopped (keepalived's check of /healthz fails twice), its
 * keepalived stopped (it says goodbye with priority 0). `repair` undoes each.
 */
import type { DoorReport } from '../balancer/front-door.js';
import type { FrontHost } from './front-host.js';
import type { HostNetwork } from './network.js';
import { liftSynGuard, raiseSynGuard } from '../fleet/syn-guard.js';
import { nftIn } from './packet-filter.js';

export type FrontFault = 'link' | 'crash' | 'balancer' | 'keepalived';
export const FRONT_FAULTS: readonly FrontFault[] = ['link', 'crash', 'balancer', 'keepalived'];

export interface PlannedFailover {
  from: string;
  to: string;
  door: DoorReport;
  /** From the guard going up to the other front holding the address. */
  movedMs: number;
}

const pause = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Poll `test` every 20 ms until it holds or `ms` pass; whether it held. */
export async function until(test: () => Promise<boolean>, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms;
  for (;;) {
    if (await test()) return true;
    if (Date.now() > deadline) return false;
    await pause(20);
  }
}

export async function plannedFailover(
  from: FrontHost,
  to: FrontHost,
  where: { vip: string; port: number },
): Promise<PlannedFailover> {
  const started = Date.now();
  const nft = nftIn(from.link.netns);
  await raiseSynGuard(nft, where.vip, where.port);
  try {
    const door = await from.maint();
    const moved = await until(async () => (await to.holdsVip()) && !(await from.holdsVip()), 5000);
    if (!moved) throw new Error(`the address did not move from ${from.name} to ${to.name} within 5 s`);
    return { from: from.name, to: to.name, door, movedMs: Date.now() - started };
  } finally {
    await liftSynGuard(nft);
  }
}

export async function injectFault(fault: FrontFault, front: FrontHost, network: HostNetwork): Promise<void> {
  switch (fault) {
    case 'link':
      await network.linkDown(front.name);
      return;
    case 'crash':
      await front.crash();
      return;
    case 'balancer':
      await front.stopBalancer();
      return;
    case 'keepalived':
      await front.stopKeepalived();
      return;
  }
}

/** Undo a fault: the front comes back as a backup (nopreempt: the address stays where it is). */
export async function repair(fault: FrontFault, front: FrontHost, network: HostNetwork): Promise<void> {
  switch (fault) {
    case 'link':
      await network.linkUp(front.name);
      return;
    case 'crash':
      await front.boot();
      return;
    case 'balancer':
      await front.startBalancer();
      return;
    case 'keepalived':
      await front.startKeepalived();
      return;
  }
}
