import type { Logger } from '@parley/core';

/** What a SIGTERM/SIGINT stops: the start-up in progress, then what it started. */
export interface Shutdown {
  /** Aborted by the first signal: what is starting gives up and closes what it opened. */
  readonly signal: AbortSignal;
  /** Start-up is done: a signal now runs `stop`, at once if one came while starting. */
  stopWith(stop: () => Promise<void>): void;
  /** Start-up gave up because of the signal and closed what it opened: log it, exit 0. */
  startStopped(): void;
}

/**
 * SIGTERM/SIGINT handling, installed before anything starts so that a signal during start-up
 * (store, connectors logging in) stops it cleanly too: stop gracefully once and exit 0; a second
 * signal exits at once (an operator who presses Ctrl-C twice means it).
 */
export function handleSignals(logger: Logger): Shutdown {
  const controller = new AbortController();
  let stop: (() => Promise<void>) | undefined;
  const exit = (code: number) => {
    logger.flush?.();
    process.exit(code);
  };
  const runStop = (run: () => Promise<void>) => {
    run().then(
      () => {
        logger.info('Stopped');
        exit(0);
      },
      (error: unknown) => {
        logger.error({ err: error }, 'Shutdown failed');
        exit(1);
      },
    );
  };
  const onSignal = (signal: NodeJS.Signals) => {
    if (controller.signal.aborted) {
      logger.warn({ signal }, 'Second signal: exiting now');
      exit(1);
    }
    controller.abort();
    if (!stop) return void logger.info({ signal }, 'Shutting down during start-up: stopping it');
    logger.info({ signal }, 'Shutting down: finishing in-flight work');
    runStop(stop);
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
  return {
    signal: controller.signal,
    stopWith(run) {
      stop = run;
      if (!controller.signal.aborted) return;
      // The start-up finished before it saw the signal: stop what it started.
      logger.info('Shutting down: finishing in-flight work');
      runStop(run);
    },
    startStopped() {
      logger.info('Start-up stopped: everything it opened is closed');
      exit(0);
    },
  };
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
