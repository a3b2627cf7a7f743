/**
 * Options of the registrar (src/registrar.ts), the PM2 app that writes one host's pool into etcd.
 * Pure: the specs and the typed config built from them.
 */
import { hostname } from 'node:os';
import { logOptions } from '../config/common.js';
import { buildConfig } from '../config/load.js';
import {
  durationParser,
  intParser,
  parseHost,
  type OptionSpec,
  type OptionValues,
  type RawInput,
} from '../config/options.js';
import { isKeySegment, parseKeySegment } from '../balancer/discovery/etcd-keys.js';
import { etcdOptions, toEtcdSettings, type EtcdSettings } from '../config/etcd-options.js';
import type { LogFormat, LogLevel } from '../logger.js';

export interface RegistrarConfig {
  name: string;
  etcd: EtcdSettings;
  /** Members are the PM2 apps whose env has LB_POOL=<pool>. */
  pool: string;
  /** This host's name in the keys. */
  hostName: string;
  /** The address other hosts reach this host's members at. */
  address: string;
  leaseTtlS: number;
  reconcileMs: number;
  logLevel: LogLevel;
  logFormat: LogFormat;
}

/** The machine's name, cut to what a key segment allows (a.b.example -> a). */
function defaultHostName(): string {
  const short = hostname().split('.')[0] ?? '';
  return isKeySegment(short) ? short : 'host';
}

export const registrarSpecs = {
  name: {
    flag: 'name',
    env: 'NAME',
    description: 'Name on log lines',
    default: 'registrar',
    parse: parseKeySegment('name'),
  } satisfies OptionSpec<string>,
  ...etcdOptions({
    endpoints: "The etcd cluster's client URLs, http://host:port,...",
    prefix: 'Members are written as <prefix>/pools/<pool>/<host>/<app>',
    timeout: 'Deadline of one etcd call, and the pause between retries while it is away',
    keepalive: "gRPC ping interval; etcd's --grpc-keepalive-min-time must allow it",
  }),
  pool: {
    flag: 'pool',
    env: 'REGISTRAR_POOL',
    description:
      'Register the PM2 apps whose env has LB_POOL=<pool> (not LB_POOL itself: the registrar is no member)',
    default: 'web',
    parse: parseKeySegment('pool name'),
  } satisfies OptionSpec<string>,
  hostName: {
    flag: 'host-name',
    env: 'REGISTRAR_HOST',
    description: "This host's name in the keys",
    default: () => defaultHostName(),
    defaultText: 'the machine name',
    parse: parseKeySegment('host name'),
  } satisfies OptionSpec<string>,
  address: {
    flag: 'address',
    env: 'REGISTRAR_ADDRESS',
    description: "The IP address the balancer reaches this host's members at",
    default: '127.0.0.1',
    parse: parseHost,
  } satisfies OptionSpec<string>,
  leaseTtl: {
    flag: 'lease-ttl',
    env: 'REGISTRAR_LEASE_TTL',
    description: "Seconds a dead host's keys outlive it (the lease is kept alive every third of it)",
    default: 5,
    parse: intParser(2, 60),
  } satisfies OptionSpec<number>,
  reconcileMs: {
    flag: 'reconcile-ms',
    env: 'RECONCILE_MS',
    description: 'How often the pool is compared with `pm2 list`',
    default: 2000,
    parse: durationParser(100, 600_000),
  } satisfies OptionSpec<number>,
  logLevel: logOptions.logLevel,
  logFormat: logOptions.logFormat,
};

type RegistrarValues = OptionValues<typeof registrarSpecs>;

export function toRegistrarConfig(v: RegistrarValues): RegistrarConfig {
  return {
    name: v.name,
    etcd: toEtcdSettings(v),
    pool: v.pool,
    hostName: v.hostName,
    address: v.address,
    leaseTtlS: v.leaseTtl,
    reconcileMs: v.reconcileMs,
    logLevel: v.logLevel,
    logFormat: v.logFormat,
  };
}

/** Pure, for tests: parse and validate; throws ConfigError listing every problem. */
export function buildRegistrarConfig(input: RawInput): RegistrarConfig {
  return toRegistrarConfig(buildConfig(registrarSpecs, input).value);
}
