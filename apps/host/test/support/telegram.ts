/**
 * What a Telegram end-to-end test needs around the host process: the Genesys emulator, the fake
 * Telegram, a file host standing in for Genesys's attachment downloads, and a parley.yaml that
 * loads `@parley/connector-telegram` the way a user writes it.
 */
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { request } from 'undici';
import { signGenesysBody } from '@parley/core';
import { startGenesysEmulator, type GenesysEmulator, type RecordedInbound } from '@parley/testkit';
import { startTelegramFake, type TelegramFake } from '@parley/connector-telegram/testing';
import { freePort, INTEGRATION_ID, WEBHOOK_SECRET } from './fixtures.js';
import { tempDir, writeConfig } from './host-process.js';

/** The connector id in the config: routes are `/connectors/support-telegram/...`. */
export const CONNECTOR_ID = 'support-telegram';
/** The secret Telegram sends in X-Telegram-Bot-Api-Secret-Token (webhook mode). */
export const TELEGRAM_WEBHOOK_SECRET = 'tg-webhook-secret_0123456789';

export interface TelegramWorld {
  mode: 'polling' | 'webhook';
  dir: string;
  configPath: string;
  hostUrl: string;
  emulator: GenesysEmulator;
  telegram: TelegramFake;
  /** Serves `data` the way Genesys serves agent attachments; returns its URL. */
  hostFile(data: Buffer, mime: string): string;
  /** Environment of the host process: every secret comes from it, as in production. */
  env: NodeJS.ProcessEnv;
  close(): Promise<void>;
}

/** Emulator + fake Telegram + file host + a config file for a host on a known free port. */
export async function createTelegramWorld(mode: 'polling' | 'webhook'): Promise<TelegramWorld> {
  const dir = tempDir('parley-telegram-e2e-');
  const port = await freePort();
  const hostUrl = `http://127.0.0.1:${port}`;
  const emulator = await startGenesysEmulator({ webhook: { timeoutMs: 2000, retries: 5, retryIntervalMs: 200 } });
  emulator.addIntegration({
    id: INTEGRATION_ID,
    name: 'Telegram support',
    webhookUrl: `${hostUrl}/connectors/${CONNECTOR_ID}/genesys`,
    webhookSecret: WEBHOOK_SECRET,
  });
  const telegram = await startTelegramFake({ webhookRetryMs: 100, bot: { username: 'acme_support_bot' } });
  const files = await startFileHost();
  const configPath = writeConfig(
    dir,
    `server:
  port: ${port}
  host: 127.0.0.1
  publicUrl: ${hostUrl}
  shutdownGraceMs: 3000
store:
  url: sqlite:./data/parley.db
genesys:
  apiUrl: ${emulator.url}
  loginUrl: ${emulator.url}
  clientId: ${emulator.defaultClient.clientId}
  clientSecret: \${GENESYS_CLIENT_SECRET}
  requestsPerMinute: 60000
log:
  level: debug
queue:
  backoffBaseMs: 50
  backoffMaxMs: 500
connectors:
  ${CONNECTOR_ID}:
    use: "@parley/connector-telegram"
    integrationId: ${INTEGRATION_ID}
    webhookSecret: \${WEBHOOK_SECRET}
    options:
      token: \${TELEGRAM_BOT_TOKEN}
      apiRoot: ${telegram.url}
      mode: ${mode}
${mode === 'webhook' ? '      webhookSecret: ${TELEGRAM_WEBHOOK_SECRET}\n' : ''}      chatTypes: [private, supergroup]
      groups: { trigger: mention, conversation: user }
      pollTimeoutSeconds: 1
      pollRetryMinMs: 50
      pollRetryMaxMs: 500
`,
  );
  return {
    mode,
    dir,
    configPath,
    hostUrl,
    emulator,
    telegram,
    hostFile: files.add,
    env: {
      GENESYS_CLIENT_SECRET: emulator.defaultClient.clientSecret,
      WEBHOOK_SECRET,
      TELEGRAM_BOT_TOKEN: telegram.token,
      TELEGRAM_WEBHOOK_SECRET,
    },
    async close() {
      await telegram.close();
      await files.close();
      await emulator.close();
    },
  };
}

/** Accepted customer messages at the emulator whose text matches. */
export function messagesAtGenesys(world: TelegramWorld, match: (body: any) => boolean = () => true): RecordedInbound[] {
  return world.emulator.inbound({ kind: 'message' }).filter((record) => record.status < 300 && match(record.body));
}

/** Waits for the customer message at Genesys whose body matches. */
export function waitForGenesysMessage(world: TelegramWorld, match: (body: any) => boolean, timeoutMs = 10_000): Promise<RecordedInbound> {
  return world.emulator
    .waitForInbound((record) => record.kind === 'message' && record.status < 300 && match(record.body), timeoutMs)
    .catch((error: unknown) => {
      const seen = messagesAtGenesys(world).map((record) => JSON.stringify(record.body.text ?? record.body.content?.[0]?.attachment?.filename));
      throw new Error(`${String(error)}; Genesys got: ${seen.join(', ')}`);
    });
}

/** Posts a signed agent webhook straight to the host (for customers Genesys has no conversation with). */
export async function postAgentText(world: TelegramWorld, customerId: string, text: string): Promise<string> {
  const id = randomBytes(16).toString('hex');
  const body = JSON.stringify({
    id,
    channel: {
      id: INTEGRATION_ID,
      platform: 'Open',
      type: 'Private',
      messageId: id,
      to: { id: customerId, idType: 'Opaque' },
      from: { nickname: 'Telegram support', id: INTEGRATION_ID, idType: 'Opaque' },
      time: new Date().toISOString(),
    },
    type: 'Text',
    text,
    direction: 'Outbound',
    originatingEntity: 'Human',
  });
  const response = await request(`${world.hostUrl}/connectors/${CONNECTOR_ID}/genesys`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-hub-signature-256': signGenesysBody(body, WEBHOOK_SECRET) },
    body,
  });
  await response.body.dump();
  if (response.statusCode !== 200) throw new Error(`the host answered ${response.statusCode} to an agent webhook`);
  return id;
}

/** A stand-in for Genesys's download host: serves registered files at unguessable paths. */
async function startFileHost(): Promise<{ add(data: Buffer, mime: string): string; close(): Promise<void> }> {
  const files = new Map<string, { data: Buffer; mime: string }>();
  const server = createServer((req, res) => {
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
