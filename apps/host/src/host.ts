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
}

export interface RunningHost {
  /** Local base URL of the HTTP server. */
  url: string;
  port: number;
  parley: Parley;
  /** The in-process Genesys emulator, in emulator mode. */
  emulator?: GenesysEmulator;
  /** Stops accepting requests, drains in-flight sends, closes everything. Idempotent. */
  stop(): Promise<void>;
}

/** A stable integration id for a connector in emulator mode, so restarts keep conversations. */
function emulatorIntegrationId(connectorId: string): string {
  const hex = createHash('sha256').update(`parley-emulator:${connectorId}`).digest('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}`;
}

export async function startHost(options: HostOptions): Promise<RunningHost> {
  const { config, logger } = options;
  const genesysConfig = config.genesys;

  // Every check of the config before touching anything: a bad config fails fast, all of it at once.
  const plan = await planHost(config, options.baseDir);

  // Bind first so the real port (with `port: 0`) is known for publicUrl; answer 503 until ready.
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

  let emulator: GenesysEmulator | undefined;
  let store: Store | undefined;
  try {
    const metrics = createMetrics({ defaultMetrics: true });
    store = await openStore(plan.storeUrl, {
      logger: logger.child({ part: 'store' }),
      onBatch: ({ durationMs, committed }) =>
        metrics.storeCommits.observe({ outcome: committed ? 'committed' : 'failed' }, durationMs / 1000),
    });

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

    const parley = createParley({
      store,
      genesys,
      connectors: setups,
      publicUrl,
      mediaSecret: await mediaSecretFor(store, config.server.mediaSecret),
      mediaTtlSeconds: config.server.mediaTtlSeconds,
      bodyLimitBytes: config.server.bodyLimitBytes,
      queue: config.queue,
      deliveredReceipts: genesysConfig?.deliveredReceipts ?? true,
      logger,
      metrics,
    });
    server.removeAllListeners('request');
    server.on('request', parley.listener);
    try {
      await parley.start();
    } catch (error) {
      await parley.stop(0);
      store = undefined; // closed by parley.stop
      throw error;
    }
    logger.info(
      { url: localUrl, publicUrl, connectors: setups.map((setup) => setup.id), store: config.store.url },
      'Parley is running',
    );

    let stopping: Promise<void> | undefined;
    const stop = () =>
      (stopping ??= (async () => {
        // Stop accepting first; requests already in progress finish (bounded by the grace).
        const closed = new Promise<void>((resolve) => server.close(() => resolve()));
        server.closeIdleConnections();
        const graceTimer = setTimeout(() => server.closeAllConnections(), config.server.shutdownGraceMs);
        await closed;
        clearTimeout(graceTimer);
        await parley.stop(config.server.shutdownGraceMs);
        await emulator?.close();
      })());

    return { url: localUrl, port, parley, ...(emulator ? { emulator } : {}), stop };
  } catch (error) {
    server.close();
    await emulator?.close();
    await store?.close();
    throw error;
  }
}
