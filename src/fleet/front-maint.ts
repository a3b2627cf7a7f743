/**
 * `npm run lb -- front-maint`, run on the front host itself: the whole planned failover in one
 * command. When the balancer is a front with a virtual address (its status says so) and this runs
 * as root, new connections to that address are dropped here first (the SYN guard), then the front
 * door closes (the balancer gives the address away once no connection is open), and once the
 * address has left this host the guard is lifted. Without root or nft it still closes the door,
 * and says that connections opened during the move may fail.
 */
import os from 'node:os';
import { errorMessage } from '../errors.js';
import { fetchStatus, sendDoor, type AdminTarget } from './lb-client.js';
import { formatDoorReport } from './lb-table.js';
import { liftSynGuard, localNft, raiseSynGuard, type NftRunner } from './syn-guard.js';

/** How long the address may take to leave this host once the door is closed. */
const MOVE_WAIT_MS = 5000;

/** Whether `address` is on one of this host's interfaces now. */
export function addressHere(address: string): boolean {
  return Object.values(os.networkInterfaces())
    .flat()
    .some((a) => a?.address === address);
}

export async function frontMaint(
  target: AdminTarget,
  say: (line: string) => void,
  nft: NftRunner = localNft,
): Promise<string> {
  const status = await fetchStatus(target);
  const vip = status.balancer.front?.vip ?? null;
  const port = status.balancer.port;
  let guarded = false;
  if (vip === null) {
    say('the balancer names no virtual address (--vip): closing its door without a SYN guard');
  } else if (typeof process.getuid === 'function' && process.getuid() !== 0) {
    say(`not root: no SYN guard on ${vip}:${port}; connections opened while the address moves may fail`);
  } else {
    try {
      await raiseSynGuard(nft, vip, port);
      guarded = true;
    } catch (err) {
      say(`${errorMessage(err)}; closing the door without it`);
    }
  }
  const started = Date.now();
  try {
    const report = await sendDoor(target, 'maint');
    let moved = '';
    if (guarded && vip !== null) {
      while (addressHere(vip) && Date.now() - started < MOVE_WAIT_MS)
        await new Promise((r) => setTimeout(r, 20));
      moved = addressHere(vip)
        ? `; ${vip} is still on this host after ${MOVE_WAIT_MS} ms (is keepalived following the track file?)`
        : `; ${vip} left this host after ${Date.now() - started} ms, new connections held back meanwhile`;
    }
    return `${formatDoorReport(report)}${moved}`;
  } finally {
    if (guarded) await liftSynGuard(nft);
  }
}
