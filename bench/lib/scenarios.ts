/** What each scenario requests, and which file on disk (if any) gives its expected body. Pure. */
import type { ScenarioName } from './bench-config.js';

export interface Scenario {
  name: ScenarioName | 'custom';
  /** Path and query requested from every target. */
  path: string;
  /** The file under public/ whose size every body must have, or null to learn from a warm-up. */
  file: string | null;
  description: string;
}

export const SCENARIO_TABLE: Record<ScenarioName, Scenario> = {
  page: { name: 'page', path: '/page.html', file: 'page.html', description: 'The HTML page' },
  image: {
    name: 'image',
    path: '/images/large.jpg',
    file: 'images/large.jpg',
    description: 'The larger JPEG',
  },
  large: {
    name: 'large',
    path: '/files/1mb.bin',
    file: 'files/1mb.bin',
    description: 'The 1 MiB file, streamed',
  },
  cpu: {
    name: 'cpu',
    path: '/work?ms=5',
    file: null,
    description: '5 ms of CPU work per request (JSON answer, length varies)',
  },
};

/** A path given with --path: a file under public/ when the path names one, else learned. */
export function customScenario(requestPath: string): Scenario {
  const q = requestPath.indexOf('?');
  const pathname = q < 0 ? requestPath : requestPath.slice(0, q);
  let decoded: string;
  try {
    decoded = decodeURIComponent(pathname);
  } catch {
    decoded = pathname;
  }
  const relative = decoded.replace(/^\/+/, '');
  const safe = relative !== '' && !relative.split('/').some((part) => part === '..' || part === '');
  return {
    name: 'custom',
    path: requestPath,
    file: q < 0 && safe ? relative : null,
    description: `A custom path, ${requestPath}`,
  };
}

export function scenariosFor(names: readonly ScenarioName[], customPath: string | null): Scenario[] {
  return customPath !== null ? [customScenario(customPath)] : names.map((n) => SCENARIO_TABLE[n]);
}
