/**
 * What an end-to-end test needs around the host process: the Genesys emulator, a config file
 * pointing the host at it, signed webhook posts and a stand-in for Genesys's file host; and the
 * world of the reference chat platform. The channel worlds (telegram.ts, slack.ts, discord.ts)
 * build on the same pieces.
 */
import { randomBytes } from 'node:crypto';
import { createServer as createHttpServer } from 'node:http';
import { createServer, type AddressInfo } from 'node:net';
import { request } from 'undici';
import { signGenesysBody } from '@parley/core';
import { startGenesysEmulator, startReferencePlatform, type GenesysEmulator } from '@parley/testkit';
import { tempDir, writeConfig } from './host-process.js';

export const WEBHOOK_SECRET = 'e2e-webhook-secret-0123456789';
export const INTEGRATION_ID = '5a0e2a1c-8d3e-4a43-9a55-3b8f4c2f0e11';

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/** The Genesys side of a world: a directory for the config, the host's future address, the emulator. */
export interface GenesysSide {
  dir: string;
  port: number;
  hostUrl: string;
  /** The connector whose outbound webhook the emulator's integration calls. */
  connectorId: string;
  emulator: GenesysEmulator;
}

/**
 * Picks a free port for the host and starts the emulator with one integration whose outbound
 * webhook is connector `connectorId` of that host.
 */
export async function startGenesysSide(options: {
  connectorId: string;
  integrationName: string;
  dirPrefix?: string;
}): Promise<GenesysSide> {
  const dir = tempDir(options.dirPrefix);
  const port = await freePort();
  const hostUrl = `http://127.0.0.1:${port}`;
  const emulator = await startGenesysEmulator({ webhook: { timeoutMs: 2000, retries: 5, retryIntervalMs: 200 } });
  emulator.addIntegration({
    id: INTEGRATION_ID,
    name: options.integrationName,
    webhookUrl: `${hostUrl}/connectors/${options.connectorId}/genesys`,
    webhookSecret: WEBHOOK_SECRET,
  });
  return { dir, port, hostUrl, connectorId: options.connectorId, emulator };
}

/**
 * Writes the parley.yaml of a host on `side.port` with connector `side.connectorId`, talking to
 * the emulator with the secrets of {@link genesysEnv}; what differs between worlds comes in `parts`.
 */
export function writeHostConfig(
  side: GenesysSide,
  parts: {
    /** Lines under `server:` after port and host, e.g. `shutdownGraceMs: 5000`. */
    server: string[];
    logLevel: 'info' | 'debug';
    /** The body of `queue:`, indented; default fast retries. */
    queue?: string | undefined;
    /** More lines under `genesys:`, e.g. `deliveredReceipts: false`. */
    genesys?: string[] | undefined;
    /** The connector's package and its option lines, e.g. `token: ${BOT_TOKEN}`. */
    connector: { use: string; options: string[] };
    /** YAML appended at the end, after the connector (more connectors). */
    extraYaml?: string | undefined;
  },
): string {
  const indent = (spaces: number, lines: string[]) => lines.map((line) => `${' '.repeat(spaces)}${line}\n`).join('');
  return writeConfig(
    side.dir,
    `server:
  port: ${side.port}
  host: 127.0.0.1
${indent(2, parts.server)}store:
  url: sqlite:./data/parley.db
genesys:
  apiUrl: ${side.emulator.url}
  loginUrl: ${side.emulator.url}
  clientId: ${side.emulator.defaultClient.clientId}
  clientSecret: \${GENESYS_CLIENT_SECRET}
  # The emulator does not rate-limit; Genesys's 300/min would make bursts take minutes.
  requestsPerMinute: 60000
${indent(2, parts.genesys ?? [])}log:
  level: ${parts.logLevel}
queue:
${parts.queue ?? '  backoffBaseMs: 50\n  backoffMaxMs: 500'}
connectors:
  ${side.connectorId}:
    use: "${parts.connector.use}"
    integrationId: ${INTEGRATION_ID}
    webhookSecret: \${WEBHOOK_SECRET}
    options:
${indent(6, parts.connector.options)}${parts.extraYaml ?? ''}`,
  );
}

/** The environment every host config needs: the Genesys secrets it references. */
export const genesysEnv = (emulator: GenesysEmulator) => ({
  GENESYS_CLIENT_SECRET: emulator.defaultClient.clientSecret,
  WEBHOOK_SECRET,
});

export type ReferencePlatform = Awaited<ReturnType<typeof startReferencePlatform>>;

export interface World {
  dir: string;
  configPath: string;
  port: number;
  hostUrl: string;
  emulator: GenesysEmulator;
  platform: ReferencePlatform;
  close(): Promise<void>;
}

/** Emulator + platform + a config file for a host on a known free port. */
export async function createWorld(
  options: {
    extraYaml?: string;
    queueYaml?: string;
    genesysYaml?: string[];
    platformLatencyMs?: number;
    /** `server.shutdownGraceMs`; default 5000. */
    shutdownGraceMs?: number;
  } = {},
): Promise<World> {
  const side = await startGenesysSide({ connectorId: 'chat', integrationName: 'E2E chat' });
  const platform = await startReferencePlatform({ sendLatencyMs: options.platformLatencyMs ?? 0 });
  const configPath = writeHostConfig(side, {
    server: ['bodyLimitBytes: 65536', `shutdownGraceMs: ${options.shutdownGraceMs ?? 5000}`],
    logLevel: 'info',
    queue: options.queueYaml,
    genesys: options.genesysYaml,
    connector: {
      use: '@parley/testkit#referenceConnector',
      options: [`apiUrl: ${platform.url}`, `token: ${platform.token}`, 'pollTimeoutSeconds: 1'],
    },
    extraYaml: options.extraYaml,
  });
  return {
    ...side,
    configPath,
    platform,
    async close() {
      await platform.close();
      await side.emulator.close();
    },
  };
}

export const hostEnv = (world: World) => genesysEnv(world.emulator);

/** An outbound (agent) webhook body like Genesys sends, compact JSON. */
export function agentWebhook(id: string, customerId: string, text: string, integrationName = 'E2E chat'): string {
  return JSON.stringify({
    id,
    channel: {
      id: INTEGRATION_ID,
      platform: 'Open',
      type: 'Private',
      messageId: id,
      to: { id: customerId, idType: 'Opaque' },
      from: { nickname: integrationName, id: INTEGRATION_ID, idType: 'Opaque' },
      time: new Date().toISOString(),
    },
    type: 'Text',
    text,
    direction: 'Outbound',
    originatingEntity: 'Human',
  });
}

export async function postWebhook(
  hostUrl: string,
  body: string | Buffer,
  options: { signature?: string | null; connector?: string } = {},
) {
  const signature = options.signature === undefined ? signGenesysBody(body, WEBHOOK_SECRET) : options.signature;
  const response = await request(`${hostUrl}/connectors/${options.connector ?? 'chat'}/genesys`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(signature ? { 'x-hub-signature-256': signature } : {}) },
    body,
  });
  return { status: response.statusCode, body: (await response.body.json()) as Record<string, unknown> };
}

export async function eventually<T>(check: () => T | undefined | false, timeoutMs = 10_000, what = 'condition'): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = check();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

/** A stand-in for Genesys's download host: serves registered files at unguessable paths. */
export async function startFileHost(): Promise<{ add(data: Buffer, mime: string): string; close(): Promise<void> }> {
  const files = new Map<string, { data: Buffer; mime: string }>();
  const server = createHttpServer((req, res) => {
    const file = files.get(req.url ?? '');
    if (!file) return void res.writeHead(404).end();
    res.writeHead(200, { 'content-type': file.mime, 'content-length': String(file.data.length) }).end(file.data);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    add(data, mime) {
      const path = `/api/v2/downloads/${randomBytes(12).toString('hex')}`;
      files.set(path, { data, mime });
      return `${base}${path}`;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
