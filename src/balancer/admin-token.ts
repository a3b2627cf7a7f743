/**
 * The admin API's bearer token, read from its file once at start (`--admin-token-file`): a file
 * that cannot be read, or holds no token, is a ConfigError that names it (exit 2). Its first line,
 * trimmed, is the token; at least 16 characters, so a guessable one is refused.
 */
import { readFileSync } from 'node:fs';
import { ConfigError, errorMessage } from '../errors.js';

const MIN_TOKEN_LENGTH = 16;

export function loadAdminToken(file: string | null): string | null {
  if (file === null) return null;
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new ConfigError([`--admin-token-file ${file} cannot be read: ${errorMessage(err)}`]);
  }
  const token = (text.split('\n')[0] ?? '').trim();
  if (token.length < MIN_TOKEN_LENGTH || /\s/.test(token)) {
    throw new ConfigError([
      `--admin-token-file ${file}: its first line must be a token of at least ${MIN_TOKEN_LENGTH} characters with no spaces`,
    ]);
  }
  return token;
}
