/** How a host and port are written: IPv6 literals in brackets, as in URLs and `Host` headers. */

/** `127.0.0.1:9002`, `[::1]:9002`. */
export function hostPort(host: string, port: number): string {
  return `${host.includes(':') ? `[${host}]` : host}:${port}`;
}

/** `http://127.0.0.1:9002`. */
export function httpUrl(host: string, port: number): string {
  return `http://${hostPort(host, port)}`;
}
