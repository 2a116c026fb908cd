/**
 * What a Telegram end-to-end test needs around the host process: the Genesys emulator, the fake
 * Telegram, a file host standing in for Genesys's attachment downloads, and a parley.yaml that
 * loads `@parley/connector-telegram` the way a user writes it.
 */
import { randomBytes } from 'node:crypto';
import type { GenesysEmulator, RecordedInbound } from '@parley/testkit';
import { startTelegramFake, type TelegramFake } from '@parley/connector-telegram/testing';
import {
  agentWebhook,
  genesysEnv,
  postWebhook,
  startFileHost,
  startGenesysSide,
  writeHostConfig,
} from './fixtures.js';

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
  const side = await startGenesysSide({
    connectorId: CONNECTOR_ID,
    integrationName: 'Telegram support',
    dirPrefix: 'parley-telegram-e2e-',
  });
  const telegram = await startTelegramFake({ webhookRetryMs: 100, bot: { username: 'acme_support_bot' } });
  const files = await startFileHost();
  const configPath = writeHostConfig(side, {
    server: [`publicUrl: ${side.hostUrl}`, 'shutdownGraceMs: 3000'],
    logLevel: 'debug',
    connector: {
      use: '@parley/connector-telegram',
      options: [
        'token: ${TELEGRAM_BOT_TOKEN}',
        `apiRoot: ${telegram.url}`,
        `mode: ${mode}`,
        ...(mode === 'webhook' ? ['webhookSecret: ${TELEGRAM_WEBHOOK_SECRET}'] : []),
        'chatTypes: [private, supergroup]',
        'groups: { trigger: mention, conversation: user }',
        'pollTimeoutSeconds: 1',
        'pollRetryMinMs: 50',
        'pollRetryMaxMs: 500',
      ],
    },
  });
  return {
    mode,
    dir: side.dir,
    configPath,
    hostUrl: side.hostUrl,
    emulator: side.emulator,
    telegram,
    hostFile: files.add,
    env: { ...genesysEnv(side.emulator), TELEGRAM_BOT_TOKEN: telegram.token, TELEGRAM_WEBHOOK_SECRET },
    async close() {
      await telegram.close();
      await files.close();
      await side.emulator.close();
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
  const { status } = await postWebhook(world.hostUrl, agentWebhook(id, customerId, text, 'Telegram support'), {
    connector: CONNECTOR_ID,
  });
  if (status !== 200) throw new Error(`the host answered ${status} to an agent webhook`);
  return id;
}
