/**
 * What `npm start` prints at the end: the apps, then the URLs to open and the commands that come
 * next. Pure, so the exact text is tested.
 */
import type { FleetApp } from './ecosystem.js';

export interface StartSummaryInput {
  apps: readonly FleetApp[];
  /** Names this run started or restarted; the others were already running. */
  started: readonly string[];
  /** Host name for the URLs (localhost). */
  publicHost: string;
  pm2Home: string;
  portOffset: number;
}

function pad(text: string, width: number): string {
  return text.length >= width ? `${text} ` : text.padEnd(width);
}

export function formatStartSummary(input: StartSummaryInput): string {
  const { apps, publicHost } = input;
  const nameWidth = Math.max(...apps.map((a) => a.name.length), 4) + 2;
  const lines: string[] = [];
  const fresh = apps.filter((a) => input.started.includes(a.name)).length;
  lines.push(
    fresh === 0
      ? `The fleet was already running (${apps.length} apps healthy); nothing started.`
      : `Started ${fresh} of ${apps.length} apps under PM2; all ${apps.length} are online and healthy.`,
  );
  lines.push(`PM2_HOME ${input.pm2Home}${input.portOffset !== 0 ? `, PORT_OFFSET=${input.portOffset}` : ''}`);
  lines.push('');
  for (const app of apps) {
    const where =
      app.adminPort === null
        ? `http://${publicHost}:${app.port}/`
        : `http://${publicHost}:${app.port}/ (admin ${app.adminPort})`;
    const role = app.pool !== null ? `${app.role}, pool ${app.pool}` : app.role;
    lines.push(`  ${pad(app.name, nameWidth)}${pad(role, 20)}${where}`);
  }
  const balancer = apps.find((a) => a.role === 'balancer');
  if (balancer !== undefined && balancer.adminPort !== null) {
    const admin = `http://${publicHost}:${balancer.adminPort}`;
    const links: [string, string][] = [
      [`http://${publicHost}:${balancer.port}/page.html`, 'the page, through the balancer'],
      [`${admin}/`, 'dashboard'],
      [`${admin}/__lb/status`, 'the pool and its health, as JSON'],
    ];
    const width = Math.max(...links.map(([link]) => link.length)) + 3;
    lines.push('', 'Open:', ...links.map(([link, what]) => `  ${pad(link, width)}${what}`));
  }
  lines.push('', 'Next: npx pm2 logs balancer  |  npm run status  |  npm run logs  |  npm stop');
  return `${lines.join('\n')}\n`;
}
