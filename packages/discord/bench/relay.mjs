#!/usr/bin/env node
/**
 * Relay rates through the Discord connector, in one process on 127.0.0.1: the fake Discord (REST +
 * gateway), the real discord.js client inside the connector, createParley with a SQLite store
 * (synchronous=FULL) in a temp dir, and the Genesys emulator. Needs the built packages
 * (`pnpm build`). Usage: `node packages/discord/bench/relay.mjs [messages] [customers] [--unlimited]`.
 *
 * - inbound: customer DMs created at the fake as fast as it can → gateway → connector → durable
 *   to-genesys queue → emulator; rate = messages / (last arrival − first creation);
 * - outbound: signed agent webhooks posted to Parley (16 in flight) → durable to-platform queue →
 *   connector → Discord REST (one POST per message, with nonce) → fake; rate = messages / (last
 *   delivery − first post), Delivered receipts included in the work.
 *
 * Everything shares one CPU-bound event loop, so the figures are a floor, not a capacity.
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { createGenesysClient, createParley, createSqliteStore, silentLogger } from '@parley/core';
import { startGenesysEmulator } from '@parley/testkit';
import { discordConnector, discordOptionsSchema } from '../dist/index.js';
import { startDiscordFake } from '../dist/testing/index.js';

const total = Number(process.argv[2] ?? 2000);
const customers = Number(process.argv[3] ?? 100);
/** Discord's global limit for most bots is 50 requests/s; `--unlimited` lifts it to see what the bridge itself does. */
const GLOBAL_LIMIT = process.argv.includes('--unlimited') ? 100_000 : 50;

const fake = await startDiscordFake();
const emulator = await startGenesysEmulator({ webhook: { timeoutMs: 5000, retries: 5, retryIntervalMs: 50 } });
const directory = await mkdtemp(join(tmpdir(), 'parley-discord-bench-'));
let handler;
const server = createServer((req, res) => (handler ? handler(req, res) : res.writeHead(503).end()));
await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
const url = `http://127.0.0.1:${server.address().port}`;
const webhookSecret = randomBytes(24).toString('hex');
const integration = emulator.addIntegration({ name: 'bench', webhookUrl: `${url}/connectors/discord/genesys`, webhookSecret });
const parley = createParley({
  store: createSqliteStore({ path: join(directory, 'parley.db') }),
  genesys: createGenesysClient({
    apiUrl: emulator.url,
    loginUrl: emulator.url,
    clientId: emulator.defaultClient.clientId,
    clientSecret: emulator.defaultClient.clientSecret,
    // The emulator does not rate-limit: Genesys's budget must not be what is measured.
    requestsPerMinute: 6_000_000,
    logger: silentLogger(),
  }),
  connectors: [
    {
      id: 'discord',
      definition: discordConnector,
      options: discordOptionsSchema.parse({ token: fake.token, apiUrl: fake.apiUrl, identifyIntervalMs: 0, globalRequestsPerSecond: GLOBAL_LIMIT }),
      integrationId: integration.id,
      webhookSecret,
    },
  ],
  publicUrl: url,
  mediaSecret: randomBytes(24).toString('hex'),
  queue: { concurrency: 16, pollIntervalMs: 20 },
  logger: silentLogger(),
});
handler = parley.app;
await parley.start();

const users = Array.from({ length: customers }, (_, index) => fake.user({ username: `bench${index}` }));
const messages = () => emulator.inbound({ kind: 'message' }).length;

// Warm-up: every customer writes once, which also opens their Genesys conversation.
for (const user of users) user.dm('warm-up');
while (messages() < customers) await sleep(5);
const conversations = users.map((user) => emulator.conversationFor(integration.id, `discord:dm:${user.id}`).id);

// Inbound.
const inboundStart = performance.now();
for (let index = 0; index < total; index++) users[index % customers].dm(`inbound ${index}`);
const created = performance.now();
while (messages() < customers + total) await sleep(2);
const inboundSeconds = (performance.now() - inboundStart) / 1000;

// Outbound.
const sentBefore = fake.sent().length;
const outboundStart = performance.now();
let next = 0;
await Promise.all(
  Array.from({ length: 16 }, async () => {
    while (next < total) {
      const index = next++;
      await emulator.agent.sendText(conversations[index % customers], `outbound ${index}`);
    }
  }),
);
while (fake.sent().length < sentBefore + total) await sleep(2);
const outboundSeconds = (performance.now() - outboundStart) / 1000;

console.log(`Discord connector relay, ${total} messages over ${customers} customers, one process, global limit ${GLOBAL_LIMIT}/s:`);
console.log(`  inbound  (customer → Genesys): ${Math.round(total / inboundSeconds)} msg/s (${inboundSeconds.toFixed(2)} s; creating them took ${((created - inboundStart) / 1000).toFixed(2)} s)`);
console.log(`  outbound (agent → customer):   ${Math.round(total / outboundSeconds)} msg/s (${outboundSeconds.toFixed(2)} s)`);

await parley.stop(2000);
await new Promise((resolve) => {
  server.close(resolve);
  server.closeAllConnections();
});
await fake.close();
await emulator.close();
await rm(directory, { recursive: true, force: true });
