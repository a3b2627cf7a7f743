/**
 * Who holds a port `npm start` needs, when it can tell: a listener of another process (start
 * fails at once, saying which), or sockets left by earlier connections, in TIME_WAIT after a
 * benchmark for instance (the fleet's listeners retry until they free; docs/hardening.md says how
 * `net.ipv4.ip_local_reserved_ports` keeps them off the fleet's ports). Reads `ss` (iproute2);
 * where it is missing the answer is only "in use".
 */
import { execFile } from 'node:child_process';
import net from 'node:net';

export interface PortHolders {
  /** "pid 123 (nginx)" for each process listening on the port. */
  listeners: string[];
  /** Other sockets on it, by state: { 'TIME-WAIT': 34, ESTAB: 2 }. */
  others: Record<string, number>;
}

/** Pure: the sockets on local `port` in `ss -Htanp` output. */
export function parseSsHolders(text: string, port: number): PortHolders {
  const holders: PortHolders = { listeners: [], others: {} };
  for (const line of text.split('\n')) {
    const cols = line.trim().split(/\s+/);
    const [state, , , local] = cols;
    if (state === undefined || local === undefined || !local.endsWith(`:${port}`)) continue;
    if (state === 'LISTEN') {
      const users = [...line.matchAll(/\("([^"]+)",pid=(\d+)/g)].map((m) => `pid ${m[2]} (${m[1]})`);
      holders.listeners.push(...(users.length > 0 ? users : ['a process this user cannot see']));
    } else {
      holders.others[state] = (holders.others[state] ?? 0) + 1;
    }
  }
  return holders;
}

/** Pure: one phrase for a log line, or null if nothing holds it. */
export function describeHolders(h: PortHolders): string | null {
  const parts: string[] = [];
  if (h.listeners.length > 0) parts.push(`listened on by ${[...new Set(h.listeners)].join(', ')}`);
  const others = Object.entries(h.others).map(([state, n]) => `${n} socket${n === 1 ? '' : 's'} in ${state}`);
  if (others.length > 0) parts.push(`held by ${others.join(', ')}`);
  return parts.length === 0 ? null : parts.join('; ');
}

/** Can `port` be listened on at `host` right now? */
export function canListen(port: number, host: string): Promise<boolean> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.once('error', () => resolve(false));
    server.listen(port, host, () => server.close(() => resolve(true)));
  });
}

/** What `ss` says holds `port`; empty when ss cannot be run. */
export function findPortHolders(port: number): Promise<PortHolders> {
  return new Promise((resolve) => {
    execFile('ss', ['-Htanp', `sport = :${port}`], { timeout: 3000 }, (err, stdout) => {
      resolve(err === null ? parseSsHolders(stdout, port) : { listeners: [], others: {} });
    });
  });
}
