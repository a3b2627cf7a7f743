/**
 * The etcd options of the programs that talk to the pool's etcd cluster: the balancer (which reads
 * the pool) and the registrar (which writes it). Flags, variables, defaults and checks are one
 * group here; each program says in its own words what the options mean to it.
 */
import { durationParser, type OptionSpec } from './options.js';

/** Where and how a program reaches etcd, as both configs carry it. */
export interface EtcdSettings {
  endpoints: string[];
  prefix: string;
  /** Deadline of one unary call, and the pause between retries while etcd is away. */
  callTimeoutMs: number;
  /** gRPC keep-alive ping interval. */
  keepaliveMs: number;
}

/** Each option's description in the help of the program using the group. */
export interface EtcdOptionTexts {
  endpoints: string;
  prefix: string;
  timeout: string;
  keepalive: string;
}

/**
 * `--etcd-endpoints`: a comma list of http://host:port (the scheme may be left out). TLS is not
 * supported, so https:// is refused rather than silently spoken to in plain text.
 */
export function parseEtcdEndpoints(raw: string): string[] {
  const parts = raw
    .split(',')
    .map((p) => p.trim())
    .filter((p) => p !== '');
  if (parts.length === 0) throw new Error('the endpoint list is empty');
  const seen = new Set<string>();
  return parts.map((part) => {
    const m = /^(?:(\w+):\/\/)?(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+):(\d{1,5})$/.exec(part);
    if (m === null) throw new Error(`"${part}" is not an etcd endpoint (http://host:port)`);
    const [, scheme = 'http', host = '', rawPort = ''] = m;
    if (scheme !== 'http') throw new Error(`"${part}": only http:// endpoints are supported`);
    const port = Number(rawPort);
    if (port < 1 || port > 65535) throw new Error(`"${part}" has no usable port`);
    const endpoint = `http://${host}:${port}`;
    if (seen.has(endpoint)) throw new Error(`${endpoint} is listed twice`);
    seen.add(endpoint);
    return endpoint;
  });
}

/** `--etcd-prefix`: a non-empty key prefix starting with '/', kept without its trailing '/'. */
export function parseEtcdPrefix(raw: string): string {
  const trimmed = raw.trim().replace(/\/+$/, '');
  if (trimmed === '') throw new Error('the prefix is empty (example: /supervised-balancer)');
  if (!trimmed.startsWith('/')) throw new Error(`"${raw}" does not start with /`);
  if (!/^[\x21-\x7e]+$/.test(trimmed)) throw new Error(`"${raw}" has spaces or non-ASCII characters`);
  return trimmed;
}

/** The four specs, to spread into a program's own specs where its help should list them. */
export function etcdOptions(texts: EtcdOptionTexts) {
  return {
    etcdEndpoints: {
      flag: 'etcd-endpoints',
      env: 'ETCD_ENDPOINTS',
      description: texts.endpoints,
      default: ['http://127.0.0.1:2379'],
      defaultText: 'http://127.0.0.1:2379',
      parse: parseEtcdEndpoints,
    } satisfies OptionSpec<string[]>,
    etcdPrefix: {
      flag: 'etcd-prefix',
      env: 'ETCD_PREFIX',
      description: texts.prefix,
      default: '/supervised-balancer',
      parse: parseEtcdPrefix,
    } satisfies OptionSpec<string>,
    etcdTimeout: {
      flag: 'etcd-timeout',
      env: 'ETCD_TIMEOUT',
      description: texts.timeout,
      default: 2000,
      parse: durationParser(100, 60_000),
    } satisfies OptionSpec<number>,
    etcdKeepalive: {
      flag: 'etcd-keepalive',
      env: 'ETCD_KEEPALIVE',
      description: texts.keepalive,
      default: 5000,
      parse: durationParser(500, 600_000),
    } satisfies OptionSpec<number>,
  };
}

/** The parsed values of the group, as a config's `etcd` part. */
export function toEtcdSettings(v: {
  etcdEndpoints: string[];
  etcdPrefix: string;
  etcdTimeout: number;
  etcdKeepalive: number;
}): EtcdSettings {
  return {
    endpoints: v.etcdEndpoints,
    prefix: v.etcdPrefix,
    callTimeoutMs: v.etcdTimeout,
    keepaliveMs: v.etcdKeepalive,
  };
}
