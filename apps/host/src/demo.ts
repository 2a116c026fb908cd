/**
 * `parley start` with no config file: Parley on its embedded defaults, doing its whole job with
 * nothing to set up. SQLite in ./data, the built-in Genesys emulator with an echo agent, and the
 * reference chat platform from @parley/testkit standing in for Telegram/Slack/Discord. A demo
 * customer says hello at start, so the round trip shows in the log right away.
 */
import { parleyConfigSchema, type Logger, type ParleyConfig } from '@parley/core';
import { startReferencePlatform } from '@parley/testkit';

export const DEMO_CONNECTOR_ID = 'demo';

export interface Demo {
  config: ParleyConfig;
  platformUrl: string;
  /** Sends the demo customer's first message once Parley runs. */
  greet(): Promise<void>;
  close(): Promise<void>;
}

export async function startDemo(options: { port: number; platformPort: number; logger: Logger }): Promise<Demo> {
  const platform = await startReferencePlatform({ port: options.platformPort, host: '127.0.0.1' });
  const config = parleyConfigSchema.parse({
    server: { port: options.port },
    store: { url: 'sqlite:./data/parley.db' },
    connectors: {
      [DEMO_CONNECTOR_ID]: {
        use: '@parley/testkit#referenceConnector',
        options: { apiUrl: platform.url, token: platform.token, pollTimeoutSeconds: 5 },
      },
    },
  });
  return {
    config,
    platformUrl: platform.url,
    async greet() {
      const chat = 'alice';
      options.logger.info(
        {
          tryIt: `curl -s -X POST ${platform.url}/customers/${chat}/messages -H 'content-type: application/json' -d '{"text":"Where is my order?"}'`,
          thenRead: `curl -s ${platform.url}/customers/${chat}/messages`,
        },
        'Demo mode: no parley.yaml, so a demo chat platform and the Genesys emulator stand in for the real ones. The demo customer "alice" says hello now; send more with the command below',
      );
      await platform.customer(chat, { name: 'Alice', firstName: 'Alice', lastName: 'Demo' }).sendText('Hello! I need help with my order.');
    },
    close: () => platform.close(),
  };
}
