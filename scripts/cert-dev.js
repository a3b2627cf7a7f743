// `npm run cert:dev [folder]`: a self-signed development certificate for the balancer's HTTPS
// listener, written with Debian's openssl (already there: node and curl use the same library) as
// cert.pem and key.pem in certs/dev/ (git-ignored) or the folder given. An ECDSA P-256 key, valid
// for localhost, 127.0.0.1 and ::1 for 365 days. An existing pair is kept unless --force is given.
import fs from 'node:fs';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import process from 'node:process';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
const force = args.includes('--force');
const folder = path.resolve(args.find((a) => !a.startsWith('--')) ?? path.join(root, 'certs', 'dev'));
const cert = path.join(folder, 'cert.pem');
const key = path.join(folder, 'key.pem');

if (!force && fs.existsSync(cert) && fs.existsSync(key)) {
  process.stdout.write(`kept the existing ${cert} and ${key} (--force makes new ones)\n`);
  process.exit(0);
}
fs.mkdirSync(folder, { recursive: true });
const result = spawnSync(
  'openssl',
  [
    'req',
    '-x509',
    '-newkey',
    'ec',
    '-pkeyopt',
    'ec_paramgen_curve:prime256v1',
    '-nodes',
    '-days',
    '365',
    '-subj',
    '/CN=localhost/O=supervised-balancer development',
    '-addext',
    'subjectAltName=DNS:localhost,IP:127.0.0.1,IP:::1',
    '-keyout',
    key,
    '-out',
    cert,
  ],
  { encoding: 'utf8' },
);
if (result.error !== undefined || result.status !== 0) {
  const why = result.error?.message ?? result.stderr.trim();
  process.stderr.write(`cert:dev: openssl failed (${why}); on Debian: apt-get install openssl\n`);
  process.exit(1);
}
fs.chmodSync(key, 0o600);
process.stdout.write(
  `wrote ${cert} and ${key} (self-signed, localhost/127.0.0.1/::1, 365 days)\n` +
    `start the fleet on HTTPS: TLS_CERT=${cert} TLS_KEY=${key} npm start\n`,
);
