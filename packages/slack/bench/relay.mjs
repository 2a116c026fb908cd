#!/usr/bin/env node
// The relay benchmark with the Slack connector: the foundation's method (bench/README.md, run by
// bench/lib/channel-relay.mjs), with `@parley/connector-slack` in the host and the Slack fake as
// the platform.
//
//   node packages/slack/bench/relay.mjs [--quick]      (after `pnpm build`)
//
// 1. Outbound, max: signed webhooks to 1,000 Slack DM customers → host → chat.postMessage → the
//    fake. As Slack does, the fake sends each app message back to the app as a `message` event (a
//    signed POST to the host in http mode), which the connector verifies and drops;
//    `BENCH_SLACK_ECHO=0` turns that off.
// 2. Inbound, http and socket: customer DMs created at the fake → signed Events API POSTs (or
//    Socket Mode envelopes) → host → to-genesys queue → the stub.
// `BENCH_PHASES=outbound,http` runs only those phases.
import { runChannelRelayBench } from '../../../bench/lib/channel-relay.mjs';
import { customerIdOf } from '../dist/index.js';
import { startSlackFake } from '../dist/testing/index.js';

const echo = process.env.BENCH_SLACK_ECHO !== '0';

/** The Slack fake of one phase: people with a DM each, and the connector block pointing at it. */
async function startSlack({ mode, customers: count }) {
  const slack = await startSlackFake({ mode, echoBotMessages: echo });
  const customers = Array.from({ length: count }, (_, index) => {
    const user = slack.addUser({ name: `customer${index}` });
    return { user, dm: slack.openDm(user.id) };
  });
  const pending = new Set();
  return {
    addresses: customers.map(({ dm }) => customerIdOf({ team: slack.team.id, channel: dm.id })),
    write(index, text) {
      const { user, dm } = customers[index % customers.length];
      // Not awaited: the offered rate is the bench's, not the app's acknowledgement pace.
      const posted = slack.post({ user: user.id, channel: dm.id, text });
      pending.add(posted);
      posted.finally(() => pending.delete(posted)).catch(() => undefined);
    },
    sentCount: () => slack.sent().length,
    // Slack's Request URL, set in the app's settings in real life.
    attach: ({ connectorUrl }) => slack.setRequestUrl(`${connectorUrl}/webhook`),
    connector: () => ({
      use: '@parley/connector-slack',
      options: {
        mode,
        botToken: slack.botToken,
        apiUrl: slack.apiUrl,
        ...(mode === 'http' ? { signingSecret: slack.signingSecret } : { appToken: slack.appToken }),
      },
    }),
    async close() {
      await Promise.allSettled([...pending]);
      await slack.close();
    },
  };
}

await runChannelRelayBench({
  name: 'slack',
  ...(echo ? {} : { note: 'echo of app messages off' }),
  outboundMode: 'http',
  inboundModes: ['http', 'socket'],
  settings: { inboundWaitSec: 30, echo },
  startPlatform: startSlack,
});
