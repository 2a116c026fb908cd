/**
 * Bolt, its WebClient and its Socket Mode client log through `@slack/logger`'s interface; this
 * adapter sends those lines into Parley's pino logger, one level lower than Bolt chose, because
 * Bolt's `info` is chatty (every reconnect) and its `debug` prints whole payloads.
 */
import { LogLevel, type Logger as BoltLogger } from '@slack/bolt';
import type { Logger } from '@parley/core';

/** A `@slack/logger` Logger that writes to `logger` (child `component: slack-sdk`). */
export function boltLogger(logger: Logger): BoltLogger {
  const child = logger.child({ component: 'slack-sdk' });
  const write = (level: 'trace' | 'debug' | 'warn' | 'error', parts: unknown[]) => {
    if (!child.isLevelEnabled(level)) return;
    const error = parts.find((part): part is Error => part instanceof Error);
    const text = parts
      .filter((part) => part !== error)
      .map((part) => (typeof part === 'string' ? part : safeJson(part)))
      .join(' ');
    if (error) child[level]({ err: error }, text || error.message);
    else child[level](text);
  };
  return {
    debug: (...parts: unknown[]) => write('trace', parts),
    info: (...parts: unknown[]) => write('debug', parts),
    warn: (...parts: unknown[]) => write('warn', parts),
    error: (...parts: unknown[]) => write('error', parts),
    // The level is the host's (log.level in parley.yaml); Bolt may not change it.
    setLevel: () => undefined,
    getLevel() {
      if (child.isLevelEnabled('trace')) return LogLevel.DEBUG;
      if (child.isLevelEnabled('debug')) return LogLevel.INFO;
      if (child.isLevelEnabled('warn')) return LogLevel.WARN;
      return LogLevel.ERROR;
    },
    setName: () => undefined,
  };
}

function safeJson(value: unknown): string {
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}
