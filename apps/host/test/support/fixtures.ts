/**
 * What an end-to-end test needs around the host process: the Genesys emulator, the reference
 * chat platform, a config file pointing the host at both, and signed webhook posts.
 */
import { createServer } from 'node:net';
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
  options: { extraYaml?: string; queueYaml?: string; platformLatencyMs?: number } = {},
): Promise<World> {
  const dir = tempDir();
  const port = await freePort();
  const hostUrl = `http://127.0.0.1:${port}`;
  const emulator = await startGenesysEmulator({ webhook: { timeoutMs: 2000, retries: 5, retryIntervalMs: 200 } });
  emulator.addIntegration({
    id: INTEGRATION_ID,
    name: 'E2E chat',
    webhookUrl: `${hostUrl}/connectors/chat/genesys`,
    webhookSecret: WEBHOOK_SECRET,
  });
  const platform = await startReferencePlatform({ sendLatencyMs: options.platformLatencyMs ?? 0 });
  const configPath = writeConfig(
    dir,
    `server:
  port: ${port}
  host: 127.0.0.1
  bodyLimitBytes: 65536
  shutdownGraceMs: 5000
store:
  url: sqlite:./data/parley.db
genesys:
  apiUrl: ${emulator.url}
  loginUrl: ${emulator.url}
  clientId: ${emulator.defaultClient.clientId}
  clientSecret: \${GENESYS_CLIENT_SECRET}
  # The emulator does not rate-limit; Genesys's 300/min would make bursts take minutes.
  requestsPerMinute: 60000
log:
  level: info
queue:
${options.queueYaml ?? '  backoffBaseMs: 50\n  backoffMaxMs: 500'}
connectors:
  chat:
    use: "@parley/testkit#referenceConnector"
    integrationId: ${INTEGRATION_ID}
    webhookSecret: \${WEBHOOK_SECRET}
    options:
      apiUrl: ${platform.url}
      token: ${platform.token}
      pollTimeoutSeconds: 1
${options.extraYaml ?? ''}`,
  );
  return {
    dir,
    configPath,
    port,
    hostUrl,
    emulator,
    platform,
    async close() {
      await platform.close();
      await emulator.close();
    },
  };
}

export const hostEnv = (world: World) => ({
  GENESYS_CLIENT_SECRET: world.emulator.defaultClient.clientSecret,
  WEBHOOK_SECRET,
});

/** An outbound (agent) webhook body like Genesys sends, compact JSON. */
export function agentWebhook(id: string, customerId: string, text: string): string {
  return JSON.stringify({
    id,
    channel: {
      id: INTEGRATION_ID,
      platform: 'Open',
      type: 'Private',
      messageId: id,
      to: { id: customerId, idType: 'Opaque' },
      from: { nickname: 'E2E chat', id: INTEGRATION_ID, idType: 'Opaque' },
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
