#!/usr/bin/env node
// The relay benchmark with the Telegram connector: the foundation's method (bench/README.md, run
// by bench/lib/channel-relay.mjs), with `@parley/connector-telegram` in the host and the fake
// Telegram as the platform.
//
//   node packages/telegram/bench/relay.mjs [--quick]      (after `pnpm build`)
//
// 1. Outbound, max: signed webhooks to 1,000 Telegram customers → host → grammY sendMessage → the fake.
// 2. Inbound, polling and webhook: customer messages created at the fake → host (getUpdates, or
//    the fake's webhook delivery) → to-genesys queue → the stub.
// `BENCH_PHASES=outbound,polling` runs only those phases; `BENCH_CONNECTOR=reference` runs the
// outbound and polling phases with the reference connector and its platform fake, for comparison.
import { randomBytes } from 'node:crypto';
import { startReferencePlatform } from '@parley/testkit';
import { runChannelRelayBench } from '../../../bench/lib/channel-relay.mjs';
import { startTelegramFake } from '../dist/testing/index.js';

const reference = process.env.BENCH_CONNECTOR === 'reference';
/** The secret the fake sends in X-Telegram-Bot-Api-Secret-Token with each webhook delivery. */
const webhookSecret = randomBytes(16).toString('hex');
/** Chat ids of the outbound and the inbound phases' customers: apart, so logs tell them apart. */
const firstChatId = (direction) => (direction === 'outbound' ? 800_000_000 : 900_000_000);

async function startReference({ direction, customers: count }) {
  const platform = await startReferencePlatform({ maxPollSeconds: 50 });
  const ids = Array.from({ length: count }, (_, index) => firstChatId(direction) + index);
  const customers = ids.map((id) => platform.customer(String(id)));
  return {
    addresses: ids.map((id) => `ref:${id}`),
    write: (index, text) => customers[index % customers.length].sendText(text),
    sentCount: () => platform.sent().length,
    connector: () => ({ use: '@parley/testkit#referenceConnector', options: { apiUrl: platform.url, token: platform.token, pollTimeoutSeconds: 5 } }),
    close: () => platform.close(),
  };
}

async function startTelegram({ mode, direction, customers: count }) {
  const telegram = await startTelegramFake({ maxPollSeconds: 50, webhookRetryMs: 200 });
  const customers = Array.from({ length: count }, (_, index) => telegram.privateChat({ id: firstChatId(direction) + index }));
  return {
    addresses: customers.map((customer) => `tg:${customer.chat.id}`),
    write: (index, text) => customers[index % customers.length].sendText(text),
    sentCount: () => telegram.sent().length,
    connector: () => ({
      use: '@parley/connector-telegram',
      options: {
        token: telegram.token,
        apiRoot: telegram.url,
        mode,
        ...(mode === 'webhook' ? { webhookSecret } : {}),
        pollTimeoutSeconds: 5,
      },
    }),
    close: () => telegram.close(),
  };
}

await runChannelRelayBench({
  name: reference ? 'reference' : 'telegram',
  outboundMode: 'polling',
  // The reference connector only polls.
  inboundModes: reference ? ['polling'] : ['polling', 'webhook'],
  startPlatform: reference ? startReference : startTelegram,
});
