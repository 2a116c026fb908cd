#!/usr/bin/env node
// The relay benchmark with the Discord connector: the foundation's method (bench/README.md, run
// by bench/lib/channel-relay.mjs), with `@parley/connector-discord` (the real discord.js client)
// in the host and the fake Discord (REST + gateway) as the platform.
//
//   node packages/discord/bench/relay.mjs [--quick] [--unlimited]      (after `pnpm build`)
//
// 1. Outbound, max: every customer writes once first (so the connector knows each DM channel
//    from the gateway, as after a real customer's first message), then signed webhooks to the
//    1,000 DM customers → host → to-platform queue → Discord REST (one POST per message, with
//    nonce) → the fake.
// 2. Inbound, gateway: customer DMs created at the fake → gateway MESSAGE_CREATE → host →
//    to-genesys queue → the stub.
// `BENCH_PHASES=outbound` (or `gateway`) runs only that phase.
import { runChannelRelayBench } from '../../../bench/lib/channel-relay.mjs';
import { customerIdOf } from '../dist/index.js';
import { startDiscordFake } from '../dist/testing/index.js';

/**
 * Discord's global limit for most bots is 50 requests/s, and discord.js enforces it on the bot's
 * side (the fake does not), so outbound delivers at most about 50 messages/s: what a real bot
 * gets. `--unlimited` lifts it to see what the bridge itself does.
 */
const globalLimit = process.argv.includes('--unlimited') ? 100_000 : 50;

async function startDiscord({ customers: count }) {
  const fake = await startDiscordFake();
  const users = Array.from({ length: count }, (_, index) => fake.user({ username: `bench${index}` }));
  return {
    addresses: users.map((user) => customerIdOf({ kind: 'dm', userId: user.id })),
    write: (index, text) => users[index % users.length].dm(text),
    sentCount: () => fake.sent().length,
    connector: () => ({
      use: '@parley/connector-discord',
      // One IDENTIFY per 5 s is Discord's rule, not the fake's: the host connects at once.
      options: { token: fake.token, apiUrl: fake.apiUrl, identifyIntervalMs: 0, globalRequestsPerSecond: globalLimit },
    }),
    close: () => fake.close(),
  };
}

await runChannelRelayBench({
  name: 'discord',
  note: `global limit ${globalLimit.toLocaleString('en-US')}/s`,
  outboundMode: 'gateway',
  inboundModes: ['gateway'],
  // Without it every first reply to a customer opens their DM channel first: a second request
  // under the global limit.
  customersWriteFirst: true,
  settings: { globalRequestsPerSecond: globalLimit },
  startPlatform: startDiscord,
});
