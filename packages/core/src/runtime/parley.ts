/**
 * The Parley runtime: connectors, the two durable queues and their workers, the Genesys client
 * and the HTTP surface, wired together. The host builds one from parley.yaml; tests and embedders
 * build one directly.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import type { ConnectorContext, ConnectorDefinition } from '../connector.js';
import { ParleyError, PermanentError } from '../errors.js';
import type { GenesysClient } from '../genesys/types.js';
import { silentLogger } from '../logger.js';
import type { InboundEvent, ReceiveResult } from '../messages.js';
import type { JobHandler, OutageChange, QueueName, QueueWorker, Store, WorkerOptions } from '../store/types.js';
import { createAttachmentDownloader, MAX_ATTACHMENT_BYTES } from './attachments.js';
import { typingBody, type QueuedButtonResponse, type QueuedInboundMessage } from './genesys-bodies.js';
import { createHttpApp, createRequestListener, type Readiness } from './http.js';
import { createMediaUrls } from './media.js';
import { createMetrics, type ParleyMetrics } from './metrics.js';
import { toGenesysDeadLetter, toGenesysHandler, toPlatformDeadLetter, toPlatformHandler } from './pipelines.js';
import { conversationKey, type ConnectorSlot } from './slots.js';
import { createWebhookIntake } from './webhook-intake.js';
import type express from 'express';

export interface ConnectorSetup {
  /** Connector id (`connectors.<id>` in parley.yaml). */
  id: string;
  definition: ConnectorDefinition;
  /** Options already validated against `definition.optionsSchema`. */
  options: unknown;
  /** The connector's Open Messaging integration. */
  integrationId: string;
  /** `outboundNotificationWebhookSignatureSecretToken` of that integration. */
  webhookSecret: string;
}

export interface ParleyOptions {
  store: Store;
  /**
   * Whether `stop()` closes the store (default true). False when its opener closes it later, e.g.
   * a host whose HTTP server may still be finishing requests that write to it.
   */
  closeStoreOnStop?: boolean;
  genesys: GenesysClient;
  connectors: ConnectorSetup[];
  /** Public base URL of this host: media URLs and platform webhook URLs are built from it. */
  publicUrl: string;
  /** Signs media URLs; must be the same on every instance and across restarts. */
  mediaSecret: string;
  mediaTtlSeconds?: number;
  bodyLimitBytes?: number;
  maxAttachmentBytes?: number;
  queue?: WorkerOptions;
  logger?: Logger;
  metrics?: ParleyMetrics;
  /**
   * Send a Delivered receipt for every agent message the platform accepted. Default true. Failed
   * receipts are sent either way.
   */
  deliveredReceipts?: boolean;
  /** Minimum time between two typing events sent to Genesys for one customer. Default 5 s. */
  typingThrottleMs?: number;
  now?: () => number;
}

export interface Parley {
  /** The express app serving DESIGN §7: mount it in another express app, or listen on it. */
  app: express.Express;
  /**
   * The same routes as a node:http request listener, with the Genesys webhook answered before
   * express (faster): what `http.createServer(parley.listener)` should serve.
   */
  listener: (req: IncomingMessage, res: ServerResponse) => void;
  metrics: ParleyMetrics;
  /** Starts every connector, then the queue workers. */
  start(): Promise<void>;
  /** Stops the workers (in-flight sends get `graceMs`), the connectors, the client and the store (see `closeStoreOnStop`). */
  stop(graceMs?: number): Promise<void>;
  readiness(): Promise<Readiness>;
  /** The connector instance of `id` (for tests and diagnostics). */
  connector(id: string): ConnectorSlot | undefined;
}

export function createParley(options: ParleyOptions): Parley {
  const logger = options.logger ?? silentLogger();
  const metrics = options.metrics ?? createMetrics();
  const now = options.now ?? Date.now;
  const { store, genesys } = options;
  const toGenesys = store.queue('to-genesys');
  const toPlatform = store.queue('to-platform');
  const publicUrl = options.publicUrl.replace(/\/+$/, '');
  const media = createMediaUrls({
    secret: options.mediaSecret,
    publicUrl,
    ttlSeconds: options.mediaTtlSeconds ?? 3600,
    now,
  });
  const downloader = createAttachmentDownloader({
    getToken: () => genesys.getToken(),
    maxBytes: options.maxAttachmentBytes ?? MAX_ATTACHMENT_BYTES,
  });
  const typingThrottleMs = options.typingThrottleMs ?? 5000;
  const lastTyping = new Map<string, number>();

  const slots = new Map<string, ConnectorSlot>();
  for (const setup of options.connectors) {
    const connectorLogger = logger.child({ connector: setup.id });
    const context: ConnectorContext = {
      id: setup.id,
      webhookUrl: `${publicUrl}/connectors/${setup.id}/webhook`,
      logger: connectorLogger,
      metrics: metrics.forConnector(setup.id),
      store: store.kv(`connector:${setup.id}`),
      media: media.publisher(setup.id),
      receive: (event) => receive(setup.id, event),
      downloadAttachment: (attachment) => downloader.download(attachment),
    };
    const connector = setup.definition.create(setup.options, context);
    slots.set(setup.id, { ...setup, connector, logger: connectorLogger });
  }

  async function receive(connectorId: string, event: InboundEvent): Promise<ReceiveResult> {
    const slot = slots.get(connectorId);
    if (!slot) throw new ParleyError('CONNECTOR_UNKNOWN', `Unknown connector "${connectorId}"`);
    const time = (event.time ?? new Date(now())).toISOString();
    const key = conversationKey(connectorId, event.customer.id);

    if (event.kind === 'typing') {
      const last = lastTyping.get(key) ?? 0;
      if (now() - last < typingThrottleMs) return { duplicate: true };
      lastTyping.set(key, now());
      // One entry per customer who typed: forget the stale ones so a long-running host does not grow.
      if (lastTyping.size > 10_000) {
        for (const [customer, at] of lastTyping) if (now() - at >= typingThrottleMs) lastTyping.delete(customer);
      }
      // Ephemeral: a typing indicator that arrives late is worse than none, so no queue, no retry.
      genesys.sendEvent(slot.integrationId, typingBody(event.customer, new Date(time))).catch((error: unknown) => {
        slot.logger.debug({ err: error }, 'Could not send customer typing to Genesys');
      });
      metrics.inbound.inc({ connector: connectorId, kind: 'typing', outcome: 'sent' });
      return { duplicate: false };
    }

    if (event.kind === 'message' && !event.text && !(event.attachments?.length)) {
      throw new PermanentError('PAYLOAD_INVALID', 'A customer message needs text or at least one attachment');
    }
    const payload = { ...event, time } as QueuedInboundMessage | QueuedButtonResponse;
    const { duplicate } = await toGenesys.enqueue({
      connectorId,
      conversationKey: key,
      dedupeKey: `${connectorId}:${event.kind}:${event.platformMessageId}`,
      kind: event.kind,
      payload,
    });
    metrics.inbound.inc({ connector: connectorId, kind: event.kind, outcome: duplicate ? 'duplicate' : 'queued' });
    return { duplicate };
  }

  const deps = { slots, metrics, logger, now };
  const instrumented = <P>(queue: QueueName, handler: JobHandler<P>): JobHandler<P> => async (job) => {
    try {
      return await handler(job);
    } catch (error) {
      metrics.jobs.inc({ queue, connector: job.connectorId, kind: job.kind, outcome: 'error' });
      logger.warn(
        { queue, connector: job.connectorId, jobId: job.id, kind: job.kind, attempt: job.attempts + 1, err: error },
        'Job attempt failed',
      );
      throw error;
    }
  };
  const heldGauge = (queue: QueueName) => (change: OutageChange) =>
    metrics.queueHeld.set({ queue, connector: change.connectorId }, change.held ? 1 : 0);
  const workers: QueueWorker[] = [
    toPlatform.work(
      instrumented('to-platform', toPlatformHandler({ ...deps, deliveredReceipts: options.deliveredReceipts ?? true })),
      options.queue,
      { ...toPlatformDeadLetter({ ...deps, toGenesys }), onOutage: heldGauge('to-platform') },
    ),
    toGenesys.work(
      instrumented('to-genesys', toGenesysHandler({ ...deps, genesys, media })),
      options.queue,
      { ...toGenesysDeadLetter(deps), onOutage: heldGauge('to-genesys') },
    ),
  ];

  const started = new Set<string>();
  let stopped = false;

  async function readiness(): Promise<Readiness> {
    const storeReady = await store.ping().then(
      () => ({ ready: true }),
      (error: unknown) => ({ ready: false, detail: String(error) }),
    );
    const token = genesys.tokenStatus();
    const genesysReady = token.ok ? { ready: true } : { ready: false, detail: token.error ?? 'No Genesys token yet' };
    const connectors: Record<string, { ready: boolean; detail?: string }> = {};
    for (const [id, slot] of slots) {
      connectors[id] = !started.has(id)
        ? { ready: false, detail: 'not started' }
        : (slot.connector.readiness?.() ?? { ready: true });
    }
    const ready = storeReady.ready && genesysReady.ready && Object.values(connectors).every((part) => part.ready);
    return { ready, store: storeReady, genesys: genesysReady, connectors };
  }

  const httpDeps = {
    slots,
    intake: createWebhookIntake({ slots, toPlatform, links: store.links, metrics, logger }),
    media,
    metrics,
    readiness,
    bodyLimitBytes: options.bodyLimitBytes ?? 1024 * 1024,
    logger,
  };
  const app = createHttpApp(httpDeps);
  const listener = createRequestListener(app, httpDeps);

  metrics.setQueueDepthSource(async () => {
    const depths: Array<{ queue: string; state: string; value: number }> = [];
    for (const queue of [toGenesys, toPlatform]) {
      for (const [state, value] of Object.entries(await queue.counts())) depths.push({ queue: queue.name, state, value });
    }
    return depths;
  });

  return {
    app,
    listener,
    metrics,
    connector: (id) => slots.get(id),
    readiness,
    async start() {
      // Warm the token so the first customer message does not pay for it; a failure here is not
      // fatal (Genesys may be briefly down) and shows in /readyz.
      genesys.getToken().catch((error: unknown) => logger.warn({ err: error }, 'Could not get a Genesys token yet'));
      // Connectors first: a job already queued (resumed after a crash, or accepted while the
      // connectors start) must not reach send() of a connector that has not started.
      await Promise.all(
        [...slots.values()].map(async (slot) => {
          try {
            await slot.connector.start();
          } catch (error) {
            throw new ParleyError('CONNECTOR_LOAD', `Connector "${slot.id}" failed to start: ${errorMessage(error)}`, {
              cause: error,
            });
          }
          // A stop() during the start (a signal while logging in) may end a connector's start
          // early without an error: it did not start, whatever start() returned.
          if (stopped) return;
          started.add(slot.id);
          slot.logger.info({ type: slot.definition.name }, 'Connector started');
        }),
      );
      // A stop() that came while the connectors started (a signal during start-up) wins.
      if (stopped) return;
      for (const worker of workers) worker.start();
    },
    async stop(graceMs = 10_000) {
      if (stopped) return;
      stopped = true;
      // In-flight sends first (bounded by the grace; unfinished jobs resume after a restart), then
      // the connectors, which may still hand over customer events until they are stopped.
      await Promise.all(workers.map((worker) => worker.stop(graceMs)));
      const results = await Promise.allSettled([...slots.values()].map((slot) => slot.connector.stop()));
      results.forEach((result, index) => {
        if (result.status === 'rejected') {
          logger.error({ err: result.reason, connector: [...slots.keys()][index] }, 'Connector did not stop cleanly');
        }
      });
      await downloader.close();
      await genesys.close();
      if (options.closeStoreOnStop ?? true) await store.close();
    },
  };
}

function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
