import { createLogger, type Logger } from '@parley/core';
import { pino } from 'pino';
import type { ParleyConfig } from '@parley/core';

/** The host's logger: JSON lines by default, human-readable with `log.format: pretty`. */
export function hostLogger(log: ParleyConfig['log'] | undefined): Logger {
  const level = log?.level ?? 'info';
  if (log?.format === 'pretty') {
    return createLogger({
      level,
      destination: pino.transport({ target: 'pino-pretty', options: { translateTime: 'SYS:HH:MM:ss.l', ignore: 'pid,hostname' } }),
    });
  }
  return createLogger({ level });
}
