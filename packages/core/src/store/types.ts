/**
 * The durable store behind Parley: two job queues, the platform ⇄ Genesys message-id map and a
 * key-value store for connectors. SQLite implements it today; the interface is shaped so a
 * PostgreSQL implementation (FOR UPDATE SKIP LOCKED) can follow without touching callers.
 */
import type { KeyValueStore } from '../connector.js';

export type QueueName = 'to-genesys' | 'to-platform';

export interface JobInput<Payload = unknown> {
  connectorId: string;
  /** Jobs with the same key run one at a time, in enqueue order (per-conversation FIFO). */
  conversationKey: string;
  /** Unique per queue while the job is remembered: a second enqueue is a reported no-op. */
  dedupeKey: string;
  /** What the job does, e.g. `message`, `receipt`, `button-response`. */
  kind: string;
  /** JSON-serializable. */
  payload: Payload;
}

export type JobState = 'pending' | 'running' | 'done' | 'dead';

export interface Job<Payload = unknown> extends JobInput<Payload> {
  id: number;
  state: JobState;
  /** Attempts already made before the current one. */
  attempts: number;
  createdAt: number;
  /** Earliest time (ms since epoch) the job may run. */
  runAt: number;
  lastError?: string;
}

export interface EnqueueResult {
  id: number;
  duplicate: boolean;
}

export interface QueueCounts {
  pending: number;
  running: number;
  done: number;
  dead: number;
}

export interface WorkerOptions {
  /** Most jobs in flight at once (each from a different conversation). Default 32. */
  concurrency?: number;
  /** Attempts before a job is dead-lettered. Default 8. */
  maxAttempts?: number;
  /** Exponential backoff with full jitter between attempts. Defaults 500 ms .. 5 min. */
  backoffBaseMs?: number;
  backoffMaxMs?: number;
  /** How often due retries are looked for when nothing wakes the worker. Default 250 ms. */
  pollIntervalMs?: number;
  /**
   * While different jobs of a connector keep failing (its platform or Genesys is down), their
   * failures count no attempt, for jobs queued less than this long: an outage does not
   * dead-letter everything queued during it. 0 turns the hold off. Default 1 hour.
   */
  outageHoldMs?: number;
}

/** A connector's hold began or ended (see `WorkerOptions.outageHoldMs`). */
export interface OutageChange {
  connectorId: string;
  held: boolean;
  /** When the hold ended: how long it lasted. */
  heldForMs?: number;
}

/** Why a job was dead-lettered. */
export interface DeadLetter {
  job: Job;
  error: unknown;
  /** `permanent`: the handler threw a non-retryable error; `exhausted`: retries ran out. */
  cause: 'permanent' | 'exhausted';
}

export interface WorkerHooks {
  /**
   * Called before a job is marked dead; if it throws, the job is retried instead so the hook's
   * work (e.g. queueing a Failed receipt) is never lost.
   */
  onDeadLetter?(dead: DeadLetter): Promise<void>;
  /** A connector's hold began or ended (for a metric); the worker logs both already. */
  onOutage?(change: OutageChange): void;
}

/**
 * What a handler asks the store to record together with its job's completion, in the same
 * transaction: all of it becomes durable with the job's `done`, or none of it (the job then runs
 * again). One commit wait per job instead of one per write, and no window in which the work
 * after a platform send is half recorded.
 */
export interface JobFollowUp {
  /** Jobs to add, deduplicated like any enqueue. */
  enqueue?: readonly { queue: QueueName; job: JobInput }[];
  /** Platform ⇄ Genesys id links to record, like `MessageLinks.record`. */
  links?: readonly Omit<MessageLink, 'createdAt'>[];
}

/**
 * Runs a job; throws `RetryableError` (honouring its `retryAfterMs`) or `PermanentError`.
 * Any other error counts as retryable. What it returns is recorded with the job's completion.
 */
export type JobHandler<Payload = unknown> = (job: Job<Payload>) => Promise<JobFollowUp | void>;

export interface QueueWorker {
  start(): void;
  /** Stops claiming; waits up to `graceMs` for jobs in flight, which are otherwise resumed later. */
  stop(graceMs?: number): Promise<void>;
}

export interface JobQueue {
  readonly name: QueueName;
  /**
   * Durably adds a job. Calls made in the same event-loop turn share one transaction (group
   * commit), so a durable enqueue costs about as much as a non-durable one under load.
   */
  enqueue<Payload>(job: JobInput<Payload>): Promise<EnqueueResult>;
  work<Payload>(handler: JobHandler<Payload>, options?: WorkerOptions, hooks?: WorkerHooks): QueueWorker;
  counts(): Promise<QueueCounts>;
  get(id: number): Promise<Job | undefined>;
  listDead(limit?: number): Promise<Job[]>;
  /** Moves dead jobs (one, or all when no id is given) back to pending; returns how many. */
  replayDead(id?: number): Promise<number>;
}

export interface MessageLink {
  connectorId: string;
  platformMessageId: string;
  genesysMessageId: string;
  direction: 'inbound' | 'outbound';
  /** Last receipt status seen for this message (Delivered, Failed, Read…). */
  status?: string;
  createdAt: number;
}

/** The platform message id ⇄ Genesys message id map (for receipts, replies and edits). */
export interface MessageLinks {
  record(link: Omit<MessageLink, 'createdAt'>): Promise<void>;
  byPlatformId(connectorId: string, platformMessageId: string): Promise<MessageLink | undefined>;
  byGenesysId(connectorId: string, genesysMessageId: string): Promise<MessageLink | undefined>;
  setStatus(connectorId: string, genesysMessageId: string, status: string): Promise<void>;
}

export interface Store {
  readonly kind: 'sqlite' | 'postgres';
  queue(name: QueueName): JobQueue;
  links: MessageLinks;
  /** A key-value store whose keys live under `namespace` (one per connector). */
  kv(namespace: string): KeyValueStore;
  /** Throws when the store cannot serve requests (for `/readyz`). */
  ping(): Promise<void>;
  /** Flushes pending writes and closes. Idempotent. */
  close(): Promise<void>;
}
