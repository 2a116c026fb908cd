import type { Logger } from '@parley/core';

/**
 * SIGTERM/SIGINT: stop gracefully once and exit 0; a second signal exits at once (an operator
 * who presses Ctrl-C twice means it).
 */
export function handleSignals(logger: Logger, stop: () => Promise<void>): void {
  let stopping = false;
  const onSignal = (signal: NodeJS.Signals) => {
    if (stopping) {
      logger.warn({ signal }, 'Second signal: exiting now');
      process.exit(1);
    }
    stopping = true;
    logger.info({ signal }, 'Shutting down: finishing in-flight work');
    stop().then(
      () => {
        logger.info('Stopped');
        logger.flush?.();
        process.exit(0);
      },
      (error: unknown) => {
        logger.error({ err: error }, 'Shutdown failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
}

/**
 * A library that drops a promise (seen: @slack/socket-mode 3.1.0 when a reconnect fails for good)
 * would otherwise crash the whole host, and with it every other channel: log it loudly instead.
 */
export function logUnhandledRejections(logger: Logger): void {
  process.on('unhandledRejection', (reason) => {
    logger.error({ err: reason }, 'Unhandled promise rejection inside a library; Parley keeps running');
  });
}
