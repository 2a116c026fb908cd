/**
 * The queue worker loop, independent of the database: it claims jobs through a `JobLedger`, runs
 * the handler, and turns the outcome into done / retry / dead. SQLite implements the ledger today;
 * a PostgreSQL ledger (FOR UPDATE SKIP LOCKED) can reuse this loop unchanged.
 */
import type { Logger } from 'pino';
import { isRetryable, ParleyError, RetryableError } from '../errors.js';
import { backoffDelay } from './backoff.js';
import { OutageHolds } from './outage-hold.js';
import type { Job, JobFollowUp, JobHandler, OutageChange, QueueWorker, WorkerHooks, WorkerOptions } from './types.js';

/** Where a worker claims jobs and records their outcome. */
export interface JobLedger {
  /**
   * Marks due jobs running and returns them: at most `capacity()`, asked when the claim actually
   * runs, so a ledger that batches writes fills the slots freed while the claim waited too. Each
   * job is the oldest unfinished one of a conversation that has nothing running, so
   * per-conversation order holds by construction.
   */
  claim(capacity: () => number): Promise<Job[]>;
  /** The handler succeeded; what it returned commits in the same transaction as the completion. */
  complete(job: Job, followUp?: JobFollowUp): Promise<void>;
  /** Counts the attempt and makes the job due again at `runAt`. */
  retry(job: Job, runAt: number, lastError: string): Promise<void>;
  /** Counts the attempt and dead-letters the job. */
  bury(job: Job, lastError: string): Promise<void>;
  /** Makes the job due again at `runAt` without counting the attempt (its connector is held). */
  postpone(job: Job, runAt: number, lastError: string): Promise<void>;
  /** Makes the connector's pending jobs that wait for a later time due now (its hold ended). */
  expedite(connectorId: string): Promise<void>;
  /** Makes a claimed job that never ran pending again, as it was (the worker stopped first). */
  release(job: Job): Promise<void>;
}

/** A worker as its store sees it: `halt` stops claiming at once (store closing), without waiting. */
export interface ManagedQueueWorker extends QueueWorker {
  /** Looks for due jobs now (called after an enqueue commits). */
  wake(): void;
  halt(): void;
}

/** What `createQueueWorker` needs from its store. */
export interface QueueWorkerSetup<Payload> {
  ledger: JobLedger;
  handler: JobHandler<Payload>;
  options?: WorkerOptions;
  hooks?: WorkerHooks;
  logger: Logger;
  now: () => number;
  /** Throws when the worker may not start (store closed). */
  assertCanStart: () => void;
  /** Called on start and stop so the store knows whom to wake after an enqueue. */
  onActiveChange: (worker: ManagedQueueWorker, active: boolean) => void;
}

/** Defaults of `WorkerOptions`, as documented on the interface. */
export const WORKER_DEFAULTS = {
  concurrency: 32,
  maxAttempts: 8,
  backoffBaseMs: 500,
  backoffMaxMs: 5 * 60_000,
  pollIntervalMs: 250,
  outageHoldMs: 60 * 60_000,
} as const satisfies Required<WorkerOptions>;

const DEFAULT_STOP_GRACE_MS = 10_000;
/** Different jobs of a connector failing in a row that mean its platform (or Genesys) is down. */
const OUTAGE_MIN_FAILED_JOBS = 2;
const MAX_ERROR_LENGTH = 2_000;

/** A one-line description of a failure for `lastError` and logs. */
export function describeError(error: unknown): string {
  const text =
    error instanceof ParleyError
      ? `${error.code}: ${error.message}`
      : error instanceof Error
        ? error.message || error.name
        : String(error);
  return text.length > MAX_ERROR_LENGTH ? `${text.slice(0, MAX_ERROR_LENGTH)}…` : text;
}

/** Builds a stopped worker; `start()` begins claiming. */
export function createQueueWorker<Payload>(setup: QueueWorkerSetup<Payload>): ManagedQueueWorker {
  const { ledger, handler, hooks = {}, logger, now } = setup;
  const settings = { ...WORKER_DEFAULTS, ...definedOnly(setup.options ?? {}) };
  const concurrency = Math.max(1, Math.floor(settings.concurrency));
  // From claim until the outcome is recorded: what stop() waits for.
  const inFlight = new Map<number, Promise<void>>();
  // Claimed jobs whose handler (or dead-letter hook) is still running: these hold the slots. A
  // job whose outcome is only waiting for its commit holds none, so the claim that shares that
  // commit can already fill the slot.
  let busy = 0;
  // Claimed ahead, up to `concurrency` more: a slot that frees starts its next job at once instead
  // of waiting for a claim's commit, which would otherwise double each slot's cycle (a handler's
  // last write, then the claim). They hold their conversations (running in the store) and are
  // released, pending again, if the worker stops before they start.
  const claimedAhead: Job[] = [];
  let started = false;
  let pollTimer: NodeJS.Timeout | undefined;
  let pumping: Promise<void> | undefined;
  let wokenWhilePumping = false;
  // True from the claim request until the ledger counts the free slots.
  let claimWaiting = false;
  const holds = new OutageHolds({
    minFailedJobs: OUTAGE_MIN_FAILED_JOBS,
    baseMs: settings.backoffBaseMs,
    maxMs: settings.backoffMaxMs,
    now,
  });

  const freeSlots = (): number => (started ? 2 * concurrency - busy - claimedAhead.length : 0);

  function wake(): void {
    if (!started) return;
    if (pumping) {
      // A claim that has not counted its slots yet runs after whatever woke us (an outcome
      // requested this turn, a committed enqueue), so it sees it; one that has must go again.
      if (!claimWaiting) wokenWhilePumping = true;
      return;
    }
    pumping = pump().finally(() => {
      pumping = undefined;
    });
  }

  async function pump(): Promise<void> {
    do {
      wokenWhilePumping = false;
      if (freeSlots() <= 0) return;
      let jobs: Job[];
      claimWaiting = true;
      try {
        jobs = await ledger.claim(() => {
          claimWaiting = false;
          return freeSlots();
        });
      } catch (error) {
        logger.error({ err: error }, 'Could not claim jobs');
        return;
      } finally {
        claimWaiting = false;
      }
      for (const job of jobs) track(job);
    } while (wokenWhilePumping);
  }

  function track(job: Job): void {
    if (busy < concurrency) return run(job);
    if (started) return void claimedAhead.push(job);
    release(job);
  }

  function run(job: Job): void {
    busy += 1;
    const running = execute(job)
      // The job stays `running` in the store and is resumed after a restart: at least once.
      .catch((error: unknown) => logger.error({ err: error, jobId: job.id }, 'Could not record the outcome of a job'))
      .finally(() => inFlight.delete(job.id));
    inFlight.set(job.id, running);
  }

  /** A claimed job that will not run now: pending again, for this worker's next start or another. */
  function release(job: Job): void {
    const releasing = ledger
      .release(job)
      // Left running, it is resumed after a restart like any interrupted job.
      .catch((error: unknown) => logger.error({ err: error, jobId: job.id }, 'Could not release a job claimed ahead'))
      .finally(() => inFlight.delete(job.id));
    inFlight.set(job.id, releasing);
  }

  async function execute(job: Job): Promise<void> {
    let recordOutcome: () => Promise<void>;
    try {
      recordOutcome = await runJob(job);
    } finally {
      busy -= 1;
    }
    const next = started ? claimedAhead.shift() : undefined;
    if (next) run(next);
    // Outcome first, then the wake-up's claim: with a batching ledger both land in one
    // transaction, with the outcomes of every other job that finished in this event-loop turn.
    const recorded = recordOutcome();
    wake();
    await recorded;
  }

  /** Runs the handler, and on failure decides what happens next; returns how to record it. */
  async function runJob(job: Job): Promise<() => Promise<void>> {
    let followUp: JobFollowUp | void;
    try {
      followUp = await handler(job as Job<Payload>);
    } catch (error) {
      return settleFailure(job, error);
    }
    const heldForMs = holds.succeeded(job.connectorId);
    if (heldForMs !== undefined) endHold(job.connectorId, heldForMs);
    if (!followUp) return () => ledger.complete(job);
    return async () => {
      try {
        await ledger.complete(job, followUp);
      } catch (error) {
        // One transaction: nothing of the completion was recorded, so the attempt failed (a
        // follow-up the store refused is permanent, a store outage retryable) and is settled as such.
        logger.warn({ err: error, jobId: job.id }, 'Could not record a job with its follow-up');
        await (await settleFailure(job, error))();
      }
    };
  }

  async function settleFailure(job: Job, error: unknown): Promise<() => Promise<void>> {
    const attempts = job.attempts + 1;
    const lastError = describeError(error);
    const permanent = !isRetryable(error);
    const retryAfterMs = error instanceof RetryableError ? (error.retryAfterMs ?? 0) : 0;
    if (!permanent && settings.outageHoldMs > 0) {
      const verdict = holds.failed(job.connectorId, job.id);
      if (verdict.began) beginHold(job, lastError);
      // A job queued longer than the hold allows spends its budget again: the operator's bound on
      // how late a message may still arrive.
      if (verdict.held && now() - job.createdAt < settings.outageHoldMs) {
        const delay = Math.max(retryAfterMs, verdict.retryDelayMs);
        logger.debug(
          { jobId: job.id, connector: job.connectorId, delayMs: delay, error: lastError },
          'Job failed while its connector is held, will retry',
        );
        return () => ledger.postpone(job, now() + delay, lastError);
      }
    }
    if (!permanent && attempts < settings.maxAttempts) {
      const delay = Math.max(retryAfterMs, nextBackoff(attempts));
      logger.debug({ jobId: job.id, attempts, delayMs: delay, error: lastError }, 'Job failed, will retry');
      return () => ledger.retry(job, now() + delay, lastError);
    }
    const cause = permanent ? 'permanent' : 'exhausted';
    if (hooks.onDeadLetter) {
      try {
        await hooks.onDeadLetter({ job: { ...job, attempts, lastError }, error, cause });
      } catch (hookError) {
        // Whatever the hook does (e.g. queue a Failed receipt) must not be lost: try the job again.
        logger.warn({ err: hookError, jobId: job.id }, 'Dead-letter hook failed, job will be retried');
        const retryError = `${lastError} (dead-letter hook failed: ${describeError(hookError)})`;
        return () => ledger.retry(job, now() + nextBackoff(attempts), retryError);
      }
    }
    logger.warn({ jobId: job.id, kind: job.kind, attempts, cause, error: lastError }, 'Job dead-lettered');
    return () => ledger.bury(job, lastError);
  }

  function beginHold(job: Job, lastError: string): void {
    logger.error(
      { connector: job.connectorId, error: lastError, holdMaxMs: settings.outageHoldMs },
      'Different jobs of this connector keep failing: its platform or Genesys looks down. ' +
        'Holding its jobs (attempts not counted) until one succeeds',
    );
    notify({ connectorId: job.connectorId, held: true });
  }

  function endHold(connectorId: string, heldForMs: number): void {
    // Warn, not info: whoever filters logs at warn and saw the hold begin sees it end.
    logger.warn({ connector: connectorId, heldForMs }, 'A job of a held connector succeeded: the hold is over, its waiting jobs are due now');
    notify({ connectorId, held: false, heldForMs });
    ledger
      .expedite(connectorId)
      .catch((error: unknown) => logger.error({ err: error, connector: connectorId }, 'Could not make held jobs due'));
  }

  function notify(change: OutageChange): void {
    try {
      hooks.onOutage?.(change);
    } catch (error) {
      logger.error({ err: error }, 'The onOutage hook failed');
    }
  }

  function nextBackoff(attempts: number): number {
    return backoffDelay(attempts, settings.backoffBaseMs, settings.backoffMaxMs);
  }

  const worker: ManagedQueueWorker = {
    start() {
      if (started) return;
      setup.assertCanStart();
      started = true;
      pollTimer = setInterval(wake, settings.pollIntervalMs);
      setup.onActiveChange(worker, true);
      wake();
    },
    async stop(graceMs = DEFAULT_STOP_GRACE_MS) {
      worker.halt();
      // A claim in progress may still hand over jobs: wait for it so they count as in flight.
      await pumping;
      if (inFlight.size === 0) return;
      let timer: NodeJS.Timeout | undefined;
      const graceOver = new Promise<'timeout'>((resolve) => {
        timer = setTimeout(() => resolve('timeout'), graceMs);
      });
      const outcome = await Promise.race([Promise.allSettled([...inFlight.values()]), graceOver]);
      clearTimeout(timer);
      if (outcome === 'timeout' && inFlight.size > 0) {
        logger.warn({ unfinished: inFlight.size }, 'Worker stopped with jobs in flight; they resume after a restart');
      }
    },
    wake,
    halt() {
      if (!started) return;
      started = false;
      clearInterval(pollTimer);
      pollTimer = undefined;
      setup.onActiveChange(worker, false);
      for (const job of claimedAhead.splice(0)) release(job);
    },
  };
  return worker;
}

/** Drops keys set to `undefined` so they do not override defaults when spread. */
function definedOnly<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}
