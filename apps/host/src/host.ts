/**
 * Starts Parley from a validated config: store, Genesys client (or the built-in emulator when no
 * credentials are configured), connectors, runtime, HTTP server. Returns a handle to stop it.
 */
import { randomBytes, createHash } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  createGenesysClient,
  createMetrics,
  createParley,
  openStore,
  ParleyError,
  type ConnectorSetup,
  type Logger,
  type Parley,
  type ParleyConfig,
  type Store,
} from '@parley/core';
import { startGenesysEmulator, type GenesysEmulator } from '@parley/testkit';
import { planHost } from './host-plan.js';
import { mediaSecretFor } from './media-secret.js';

export interface HostOptions {
  config: ParleyConfig;
  /** Directory of the config file: relative store paths and connector paths resolve from it. */
  baseDir: string;
  logger: Logger;
  /** Options for the in-process emulator used when no Genesys credentials are configured. */
  emulator?: { autoReply?: boolean };
  /**
   * Aborting it stops the start-up (a signal while connectors log in): what was opened is closed
   * and `startHost` rejects with a `SHUTDOWN` error.
   */
  signal?: AbortSignal;
}

export interface RunningHost {
  /** Local base URL of the HTTP server. */
  url: string;
  port: number;
  parley: Parley;
  /** The in-process Genesys emulator, in emulator mode. */
  emulator?: GenesysEmulator;
  /**
   * Stops accepting requests and claiming jobs at once; requests and sends in progress get one
   * deadline of `server.shutdownGraceMs` together; then connectors and the store close. Idempotent.
   */
  stop(): Promise<void>;
}

/** A stable integration id for a connector in emulator mode, so restarts keep conversations. */
function emulatorIntegrationId(connectorId: string): string {
  const hex = createHash('sha256').update(`parley-emulator:${connectorId}`).digest('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}`;
}

const startStopped = () => new ParleyError('SHUTDOWN', 'Start-up stopped by a signal');

/** The quick steps of start-up check the signal after they are done. */
function throwIfStopped(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw startStopped();
}

/** Settles like `step`, or rejects with a `SHUTDOWN` error as soon as `signal` aborts. */
function unlessAborted<T>(step: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (!signal) return step;
  if (signal.aborted) {
    step.catch(() => {}); // given up on: its failure is no news
    return Promise.reject(startStopped());
  }
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(startStopped());
    signal.addEventListener('abort', onAbort, { once: true });
    step.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}

export async function startHost(options: HostOptions): Promise<RunningHost> {
  const { config, logger, signal } = options;
  const genesysConfig = config.genesys;
  const graceMs = config.server.shutdownGraceMs;

  // Every check of the config before touching anything: a bad config fails fast, all of it at once.
  const plan = await unlessAborted(planHost(config, options.baseDir), signal);

  // Bind first so the real port (with `port: 0`) is known for publicUrl; answer 503 until the
  // store is open and Parley's routes are in place.
  const server = http.createServer((_req, res) => {
    res.writeHead(503, { 'content-type': 'application/json', 'retry-after': '1' });
    res.end('{"error":"Parley is starting"}');
  });
  server.keepAliveTimeout = 65_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(config.server.port, config.server.host, resolve);
  });
  const port = (server.address() as AddressInfo).port;
  const localUrl = `http://127.0.0.1:${port}`;
  const publicUrl = (config.server.publicUrl ?? `http://localhost:${port}`).replace(/\/+$/, '');

  // Set once stop() begins: the server's close, bounded by the grace.
  let serverClosed: Promise<void> | undefined;
  const closeServer = (): Promise<void> => {
    if (!serverClosed) {
      serverClosed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeIdleConnections();
      // Requests still in progress at the deadline are cut off: Genesys retries what it did not get a 200 for.
      const deadline = setTimeout(() => server.closeAllConnections(), graceMs);
      void serverClosed.then(() => clearTimeout(deadline));
    }
    return serverClosed;
  };

  let emulator: GenesysEmulator | undefined;
  let store: Store | undefined;
  let parley: Parley | undefined;
  try {
    const metrics = createMetrics({ defaultMetrics: true });
    store = await openStore(plan.storeUrl, {
      logger: logger.child({ part: 'store' }),
      onBatch: ({ durationMs, committed }) =>
        metrics.storeCommits.observe({ outcome: committed ? 'committed' : 'failed' }, durationMs / 1000),
    });
    throwIfStopped(signal);

    let genesysUrls: { apiUrl: string; loginUrl: string };
    let credentials: { clientId: string; clientSecret: string };
    const setups: ConnectorSetup[] = [];
    if (!plan.genesysUrls) {
      emulator = await startGenesysEmulator({
        autoReply: options.emulator?.autoReply ?? true,
        logger: logger.child({ part: 'genesys-emulator' }),
      });
      logger.warn(
        { emulatorUrl: emulator.url },
        'No Genesys credentials configured (genesys.clientId): using the built-in Genesys emulator, whose echo agent answers every message. Nothing reaches a real contact center.',
      );
      throwIfStopped(signal);
      genesysUrls = { apiUrl: emulator.url, loginUrl: emulator.url };
      credentials = emulator.defaultClient;
      for (const { id, entry, definition, options: connectorOptions } of plan.connectors) {
        const integrationId = entry.integrationId ?? emulatorIntegrationId(id);
        const webhookSecret = entry.webhookSecret ?? randomBytes(24).toString('base64url');
        emulator.addIntegration({
          id: integrationId,
          name: `Parley ${id}`,
          webhookUrl: `${localUrl}/connectors/${id}/genesys`,
          webhookSecret,
        });
        setups.push({ id, definition, options: connectorOptions, integrationId, webhookSecret });
      }
    } else {
      genesysUrls = plan.genesysUrls;
      credentials = { clientId: genesysConfig!.clientId!, clientSecret: genesysConfig!.clientSecret! };
      for (const { id, entry, definition, options: connectorOptions } of plan.connectors) {
        // The config schema requires both when credentials are set; checked there with key paths.
        setups.push({
          id,
          definition,
          options: connectorOptions,
          integrationId: entry.integrationId!,
          webhookSecret: entry.webhookSecret!,
        });
      }
    }

    const genesys = createGenesysClient({
      ...genesysUrls,
      ...credentials,
      requestsPerMinute: genesysConfig?.requestsPerMinute ?? 300,
      timeoutMs: genesysConfig?.timeoutMs ?? 10_000,
      logger: logger.child({ part: 'genesys' }),
      onRequest: ({ endpoint, status, durationMs }) =>
        metrics.genesysRequests.observe({ endpoint, status: String(status ?? 'error') }, durationMs / 1000),
    });

    const mediaSecret = await mediaSecretFor(store, config.server.mediaSecret);
    throwIfStopped(signal);
    parley = createParley({
      store,
      // Closed here, after the server's last request: those may still be writing to it.
      closeStoreOnStop: false,
      genesys,
      connectors: setups,
      publicUrl,
      mediaSecret,
      mediaTtlSeconds: config.server.mediaTtlSeconds,
      bodyLimitBytes: config.server.bodyLimitBytes,
      queue: config.queue,
      deliveredReceipts: genesysConfig?.deliveredReceipts ?? true,
      logger,
      metrics,
    });
    // Genesys webhooks are accepted (verified, queued durably) while the connectors start; the
    // queue workers start after them, so delivery waits, and /readyz says which part is not ready.
    server.removeAllListeners('request');
    server.on('request', parley.listener);
    // Connectors may take long to log in: a signal stops waiting at once (parley.stop below stops them).
    await unlessAborted(parley.start(), signal);
    logger.info(
      { url: localUrl, publicUrl, connectors: setups.map((setup) => setup.id), store: config.store.url },
      'Parley is running',
    );

    let stopping: Promise<void> | undefined;
    const running = parley;
    const openStoreHandle = store;
    const stop = () =>
      (stopping ??= (async () => {
        // Stop accepting and stop claiming jobs at once: the server's requests in progress and the
        // sends in flight share one deadline; the store closes after both.
        await Promise.all([closeServer(), running.stop(graceMs)]);
        await openStoreHandle.close();
        await emulator?.close();
      })());

    return { url: localUrl, port, parley, ...(emulator ? { emulator } : {}), stop };
  } catch (error) {
    // Whatever was opened closes: the server (cut off at once), connectors that started (or are
    // starting), the store, the emulator.
    void closeServer();
    server.closeAllConnections();
    if (parley) {
      await parley.stop(0).catch((stopError: unknown) => logger.error({ err: stopError }, 'Could not close what start-up opened'));
    }
    await serverClosed;
    await store?.close();
    await emulator?.close();
    throw error;
  }
}
