/**
 * An in-memory ConnectorContext for a connector's unit tests: the connector on its own, with what
 * a host would hand it recorded where a test can read it and fail it.
 */
import {
  createLogger,
  RetryableError,
  type ConnectorContext,
  type DownloadedMedia,
  type InboundEvent,
  type KeyValueStore,
} from '@parley/core';

export interface TestContextOptions {
  /** The connector id (`connectors.<id>`). Default `test-connector`. */
  id?: string;
  /** Default `http://127.0.0.1/connectors/<id>/webhook`. */
  webhookUrl?: string;
  /** The connector's key-value store, e.g. core's SQLite store for real expiry. Default: `values`. */
  store?: KeyValueStore;
  /**
   * Awaited by every `receive()` before the event is recorded: return a promise to hold the
   * hand-off (core's store being slow), e.g. to show that the platform is answered only after it.
   */
  beforeReceive?: (event: InboundEvent) => Promise<void> | void;
}

export interface TestContext {
  /** What to pass to `definition.create(options, context)`. */
  context: ConnectorContext;
  /** The events `receive()` took, in order; a duplicate (same platformMessageId) is not added. */
  received: InboundEvent[];
  /** The logger's lines (pino JSON, every level), e.g. to check that no secret reaches them. */
  logLines: string[];
  /** Counter increments, one per `inc()`, as `<name> <labels as JSON>`. */
  counted: string[];
  /** The default store's entries (unused when `options.store` is given); TTLs are ignored. */
  values: Map<string, string>;
  /** The agent's files by URL: `downloadAttachment()` returns them, and throws a RetryableError for any other. */
  agentFiles: Map<string, DownloadedMedia>;
  /** The next `receive()` calls throw these errors, one each, in order; then they record again. */
  failNextReceive(...errors: Error[]): void;
  /** How many times `receive()` was called, failed and duplicate calls included. */
  receiveCalls(): number;
}

/**
 * Builds a {@link ConnectorContext} backed by memory, for unit tests of a connector without the
 * full harness: a key-value store, a logger whose lines are kept, counters that are recorded,
 * media URLs `http://parley.test/media/<ref>`, agent files from a map, and a `receive()` that
 * records each event once per platformMessageId and can be made to fail or wait. End to end, through
 * the emulator and core's pipeline, is the conformance suite's and `startHarness`'s job.
 *
 * @example
 * const test = createTestContext({ id: 'support' });
 * const connector = myConnector.create(options, test.context);
 * test.failNextReceive(new RetryableError('STORE', 'The store is busy'));
 * // … the platform sends a message; it must be delivered again …
 * expect(test.received).toMatchObject([{ kind: 'message', text: 'hello' }]);
 */
export function createTestContext(options: TestContextOptions = {}): TestContext {
  const id = options.id ?? 'test-connector';
  const values = new Map<string, string>();
  const received: InboundEvent[] = [];
  const logLines: string[] = [];
  const counted: string[] = [];
  const agentFiles = new Map<string, DownloadedMedia>();
  const failures: Error[] = [];
  const seen = new Set<string>();
  let calls = 0;
  const context: ConnectorContext = {
    id,
    webhookUrl: options.webhookUrl ?? `http://127.0.0.1/connectors/${id}/webhook`,
    logger: createLogger({ level: 'trace', destination: { write: (line: string) => void logLines.push(line) } }),
    metrics: {
      counter: (name) => ({ inc: (labels) => void counted.push(`${name} ${JSON.stringify(labels ?? {})}`) }),
      histogram: () => ({ observe: () => undefined }),
    },
    store: options.store ?? {
      get: async (key) => values.get(key),
      set: async (key, value) => void values.set(key, value),
      delete: async (key) => void values.delete(key),
    },
    media: { url: (ref) => `http://parley.test/media/${encodeURIComponent(ref)}` },
    async receive(event) {
      calls += 1;
      const failure = failures.shift();
      if (failure) throw failure;
      await options.beforeReceive?.(event);
      if (event.kind !== 'typing') {
        if (seen.has(event.platformMessageId)) return { duplicate: true };
        seen.add(event.platformMessageId);
      }
      received.push(event);
      return { duplicate: false };
    },
    async downloadAttachment(attachment) {
      const file = agentFiles.get(attachment.url);
      if (!file) throw new RetryableError('PLATFORM_UNAVAILABLE', `No agent file at ${attachment.url} yet`);
      return file;
    },
  };
  return {
    context,
    received,
    logLines,
    counted,
    values,
    agentFiles,
    failNextReceive: (...errors) => void failures.push(...errors),
    receiveCalls: () => calls,
  };
}
