/**
 * The public listener's certificate and key, read from their PEM files and checked before anything
 * listens: a missing or unreadable file, a file that holds no certificate or key, or a key that does
 * not belong to the certificate is a ConfigError that names the file and says why (exit 2).
 *
 * Loading is one function with no state so that a zero-downtime reload can call it again and hand
 * the result to TlsListener.useCredentials (the cluster issue's reload is not built yet).
 */
import { X509Certificate, createPrivateKey, type KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { ConfigError, errorMessage } from '../errors.js';

export interface TlsFiles {
  certPath: string;
  keyPath: string;
}

export interface TlsCredentials {
  cert: Buffer;
  key: Buffer;
  /** For the start-up line: who the certificate is for and until when. */
  subject: string;
  validTo: string;
}

/** Why a file cannot be read, in words. */
function readProblem(err: unknown): string {
  switch ((err as NodeJS.ErrnoException).code) {
    case 'ENOENT':
      return 'no such file';
    case 'EACCES':
    case 'EPERM':
      return 'cannot be read (permission denied)';
    case 'EISDIR':
      return 'is a folder, not a file';
    default:
      return `cannot be read (${errorMessage(err)})`;
  }
}

function read(flag: string, path: string, problems: string[]): Buffer | undefined {
  try {
    return readFileSync(path);
  } catch (err) {
    problems.push(`${flag} ${path}: ${readProblem(err)}`);
    return undefined;
  }
}

export function loadTlsCredentials(files: TlsFiles): TlsCredentials {
  const problems: string[] = [];
  const cert = read('--tls-cert', files.certPath, problems);
  const key = read('--tls-key', files.keyPath, problems);
  let x509: X509Certificate | undefined;
  let privateKey: KeyObject | undefined;
  if (cert !== undefined) {
    if (!cert.includes('-----BEGIN CERTIFICATE-----')) {
      problems.push(`--tls-cert ${files.certPath}: holds no PEM certificate (no BEGIN CERTIFICATE line)`);
    } else {
      try {
        x509 = new X509Certificate(cert);
      } catch (err) {
        problems.push(`--tls-cert ${files.certPath}: not a valid certificate (${errorMessage(err)})`);
      }
    }
  }
  if (key !== undefined) {
    if (!/-----BEGIN [A-Z ]*PRIVATE KEY-----/.test(key.toString('latin1'))) {
      problems.push(`--tls-key ${files.keyPath}: holds no PEM private key (no BEGIN ... PRIVATE KEY line)`);
    } else {
      try {
        privateKey = createPrivateKey(key);
      } catch (err) {
        problems.push(`--tls-key ${files.keyPath}: not a usable private key (${errorMessage(err)})`);
      }
    }
  }
  if (x509 !== undefined && privateKey !== undefined && !x509.checkPrivateKey(privateKey)) {
    problems.push(
      `--tls-key ${files.keyPath} does not belong to the certificate in --tls-cert ${files.certPath} ` +
        '(they are not a pair)',
    );
  }
  if (problems.length > 0 || cert === undefined || key === undefined || x509 === undefined) {
    throw new ConfigError(problems);
  }
  return { cert, key, subject: x509.subject.replace(/\n/g, ', '), validTo: x509.validTo };
}
