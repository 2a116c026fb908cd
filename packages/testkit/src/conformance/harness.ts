/**
 * The real pipeline around one connector, on 127.0.0.1: the Genesys emulator, a SQLite store in a
 * temp dir, the real Genesys client, `createParley` listening on a free port, and the connector's
 * platform fake. The conformance suite starts one per scenario; connector packages use it for
 * their own end-to-end tests.
 *
 * The HTTP server binds before anything else, like the host does, so the platform fake learns
 * Parley's webhook URL in `setup()` and Parley's media URLs embed the real port.
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type RequestListener, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  createGenesysClient,
  createLogger,
  createParley,
  createSqliteStore,
  type Logger,
  type Parley,
  type ParleyOptions,
  type WorkerOptions,
} from '@parley/core';
import { startGenesysEmulator } from '../emulator/index.js';
import type { GenesysEmulator } from '../emulator/index.js';
import type { ConformanceSetupContext, ConformanceSubject, PlatformDriver } from './types.js';

/** Queue timings that make retries take milliseconds instead of minutes. */
export const FAST_QUEUE: WorkerOptions = { backoffBaseMs: 20, backoffMaxMs: 200, pollIntervalMs: 20 };

export interface HarnessOptions {
  /** The connector id (`connectors.<id>`); default `conformance`. */
  connectorId?: string;
  /** Queue worker options; default {@link FAST_QUEUE}. */
  queue?: WorkerOptions;
  /** Passed to `createParley` (e.g. `typingThrottleMs`). */
  parley?: Pick<ParleyOptions, 'typingThrottleMs' | 'mediaTtlSeconds' | 'bodyLimitBytes' | 'maxAttachmentBytes'>;
}

/** A file served the way Genesys serves agent attachments (`api-downloads.<region>`). */
export interface HostedFile {
  data: Buffer;
  mime: string;
  filename: string;
}

export interface Harness {
  emulator: GenesysEmulator;
  parley: Parley;
  /** Parley's base URL, e.g. `http://127.0.0.1:PORT`. */
  url: string;
  driver: PlatformDriver;
  connectorId: string;
  integrationId: string;
  webhookSecret: string;
  /** `<url>/connectors/<id>/genesys`: where the emulator posts agent messages. */
  genesysWebhookUrl: string;
  /** `<url>/connectors/<id>/webhook`: the platform webhook route, as given to `setup()`. */
  webhookUrl: string;
  /** The connector options after validation. */
  options: unknown;
  /** String option values under secret-sounding keys (token, secret, key, password). */
  secrets: string[];
  /** Every line Parley logged so far (JSON, level debug and up). */
  logs(): string[];
  /** Serves `file` at a download URL, as Genesys does for agent attachments; returns the URL. */
  hostFile(file: HostedFile): string;
  /** Stops everything started, in reverse order; never rejects. */
  close(): Promise<void>;
}

/**
 * Starts the pipeline around `subject`: binds Parley's HTTP server (answering 503 for now), calls
 * `subject.setup()` with the server's URLs, starts the file host, the emulator and the store, then
 * creates and starts Parley on the listening server. On failure, whatever already started is
 * stopped again.
 */
export async function startHarness<Options>(subject: ConformanceSubject<Options>, options: HarnessOptions = {}): Promise<Harness> {
  const cleanups: Array<() => Promise<unknown>> = [];
  const closeAll = async () => {
    for (const cleanup of cleanups.reverse()) await cleanup().catch(() => undefined);
    cleanups.length = 0;
  };

  try {
    const connectorId = options.connectorId ?? 'conformance';
    const lines: string[] = [];
    const logger: Logger = createLogger({ level: 'debug', destination: { write: (line: string) => void lines.push(line) } });

    // Parley's URL must be known before Parley is created (media URLs embed it) and before the
    // platform fake starts (it may push to the webhook), so the server listens first and gets its
    // handler last. A platform that delivers early gets 503 and retries, as against the host.
    let handler: RequestListener | undefined;
    const server = createServer((req, res) => {
      if (handler) return handler(req, res);
      res.writeHead(503, { 'content-type': 'application/json', 'retry-after': '1' });
      res.end('{"error":"Parley is starting"}');
    });
    const url = await listen(server);
    cleanups.push(() => closeServer(server));

    const setupContext: ConformanceSetupContext = {
      webhookUrl: `${url}/connectors/${connectorId}/webhook`,
      publicUrl: url,
      connectorId,
    };
    const { driver, options: rawOptions } = await subject.setup(setupContext);
    cleanups.push(() => driver.close());
    const parsed = subject.definition.optionsSchema.safeParse(rawOptions);
    if (!parsed.success) throw new Error(`${subject.name}: setup() returned invalid options: ${parsed.error.message}`);

    const files = await startFileHost();
    cleanups.push(() => files.close());

    const emulator = await startGenesysEmulator({ webhook: { timeoutMs: 5000, retries: 5, retryIntervalMs: 50 } });
    cleanups.push(() => emulator.close());

    const directory = await mkdtemp(join(tmpdir(), 'parley-conformance-'));
    cleanups.push(() => rm(directory, { recursive: true, force: true }));

    const webhookSecret = randomBytes(24).toString('hex');
    const genesysWebhookUrl = `${url}/connectors/${connectorId}/genesys`;
    const integration = emulator.addIntegration({ name: `${subject.name} conformance`, webhookUrl: genesysWebhookUrl, webhookSecret });

    const parley = createParley({
      store: createSqliteStore({ path: join(directory, 'parley.db') }),
      genesys: createGenesysClient({
        apiUrl: emulator.url,
        loginUrl: emulator.url,
        clientId: emulator.defaultClient.clientId,
        clientSecret: emulator.defaultClient.clientSecret,
        // Genesys's real budget (300/min) would make a 20-message burst take seconds.
        requestsPerMinute: 60_000,
        backoffBaseMs: 10,
        backoffMaxMs: 100,
        logger,
      }),
      connectors: [
        {
          id: connectorId,
          definition: subject.definition,
          options: parsed.data,
          integrationId: integration.id,
          webhookSecret,
        },
      ],
      publicUrl: url,
      mediaSecret: randomBytes(24).toString('hex'),
      queue: options.queue ?? FAST_QUEUE,
      logger,
      ...options.parley,
    });
    handler = parley.app;
    // Stopping Parley stops its workers, the connector, the Genesys client and the store.
    cleanups.push(() => parley.stop(2000));
    await parley.start();

    return {
      emulator,
      parley,
      url,
      driver,
      connectorId,
      integrationId: integration.id,
      webhookSecret,
      genesysWebhookUrl,
      webhookUrl: setupContext.webhookUrl,
      options: parsed.data,
      secrets: secretValues(parsed.data),
      logs: () => [...lines],
      hostFile: (file) => files.add(file),
      close: closeAll,
    };
  } catch (error) {
    await closeAll();
    throw error;
  }
}

/** String values under keys that name a secret, at any depth. */
function secretValues(value: unknown, key = ''): string[] {
  if (typeof value === 'string') return /token|secret|password|key/i.test(key) && value.length >= 6 ? [value] : [];
  if (Array.isArray(value)) return value.flatMap((item) => secretValues(item, key));
  if (typeof value === 'object' && value !== null) {
    return Object.entries(value).flatMap(([name, item]) => secretValues(item, name));
  }
  return [];
}

/** A stand-in for Genesys's download host: serves registered files at unguessable paths. */
async function startFileHost(): Promise<{ add(file: HostedFile): string; close(): Promise<void> }> {
  const files = new Map<string, HostedFile>();
  const server = createServer((req, res) => {
    const file = files.get(req.url ?? '');
    if (req.method !== 'GET' || !file) {
      res.writeHead(404, { 'content-type': 'application/json' }).end('{"message":"not found"}');
      return;
    }
    res.writeHead(200, { 'content-type': file.mime, 'content-length': String(file.data.length) }).end(file.data);
  });
  const url = await listen(server);
  return {
    add(file) {
      const path = `/api/v2/downloads/${randomBytes(16).toString('hex')}`;
      files.set(path, file);
      return `${url}${path}`;
    },
    close: () => closeServer(server),
  };
}

async function listen(server: Server): Promise<string> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  return `http://127.0.0.1:${port}`;
}

function closeServer(server: Server): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });
}
