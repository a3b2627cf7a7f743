/**
 * The balancer's holder (src/balancer/handover/holder.ts): started by a primary that PM2 is
 * stopping, never by hand. This file only wires the orders, the logger and the IPC reply.
 */
import { holderInput } from './config/process-input.js';
import { createProcessLogger } from './logger.js';
import { Holder, parseOrders } from './balancer/handover/holder.js';
import { errorMessage } from './errors.js';

const orders = parseOrders(holderInput());
const logger = createProcessLogger(`${orders.name} holder`, orders);
let code = 0;
try {
  const holder = new Holder(orders, logger);
  await holder.open();
  // The primary exits once it hears this: from here on the next primary can connect.
  await new Promise<void>((resolve) =>
    process.send?.({ holding: true }, undefined, undefined, () => resolve()),
  );
  process.disconnect?.();
  await holder.hold();
} catch (err) {
  logger.error(`could not hold the listening sockets: ${errorMessage(err)}`, { event: 'handover-failed' });
  code = 1;
}
await logger.close();
process.exit(code);
