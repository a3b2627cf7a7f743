/** A Logger that keeps its lines in memory, for unit tests that assert what was logged. */
import type { LogFields, Logger, LogLevel } from '../../src/logger.js';

export interface MemoryLine {
  level: LogLevel;
  message: string;
  /** The fields given, or {} when none were. */
  fields: LogFields;
}

export function memoryLogger(): Logger & { lines: MemoryLine[] } {
  const lines: MemoryLine[] = [];
  const at =
    (level: LogLevel) =>
    (message: string, fields: LogFields = {}): void => {
      lines.push({ level, message, fields });
    };
  return {
    lines,
    error: at('error'),
    warn: at('warn'),
    info: at('info'),
    debug: at('debug'),
    // An access line is an info line written another way (src/logger.ts).
    access: at('info'),
    accessFields: true,
    enabled: () => true,
    close: () => Promise.resolve(),
  };
}

/** A Logger that drops everything, for tests that look at what happened, not at what was said. */
export const quietLogger: Logger = {
  error: () => undefined,
  warn: () => undefined,
  info: () => undefined,
  debug: () => undefined,
  access: () => undefined,
  accessFields: false,
  enabled: () => false,
  close: () => Promise.resolve(),
};
