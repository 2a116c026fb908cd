/**
 * What a Slack end-to-end test needs around the host process: the Genesys emulator, the Slack fake
 * (`@parley/connector-slack/testing`) and a config file that loads `@parley/connector-slack` with
 * its secrets from the environment, as a user would write it.
 */
import { startSlackFake, type SlackFake } from '@parley/connector-slack/testing';
import { startGenesysEmulator, type GenesysEmulator } from '@parley/testkit';
import { tempDir, writeConfig } from './host-process.js';
import { freePort, INTEGRATION_ID, WEBHOOK_SECRET } from './fixtures.js';

/** The connector id in the config: routes are `/connectors/help-desk/…`. */
export const SLACK_CONNECTOR_ID = 'help-desk';

export interface SlackWorld {
  dir: string;
  configPath: string;
  hostUrl: string;
  emulator: GenesysEmulator;
  slack: SlackFake;
  /** The environment the host needs (secrets referenced by the config). */
  env: NodeJS.ProcessEnv;
  close(): Promise<void>;
}

/** Emulator + Slack fake + a config file for a host on a known free port. */
export async function createSlackWorld(options: { mode: 'http' | 'socket' }): Promise<SlackWorld> {
  const dir = tempDir('parley-slack-e2e-');
  const port = await freePort();
  const hostUrl = `http://127.0.0.1:${port}`;
  const emulator = await startGenesysEmulator({ webhook: { timeoutMs: 2000, retries: 5, retryIntervalMs: 200 } });
  emulator.addIntegration({
    id: INTEGRATION_ID,
    name: 'E2E Slack',
    webhookUrl: `${hostUrl}/connectors/${SLACK_CONNECTOR_ID}/genesys`,
    webhookSecret: WEBHOOK_SECRET,
  });
  const slack = await startSlackFake({ mode: options.mode });
  // What an admin types into "Event Subscriptions" and "Interactivity" of the Slack app.
  slack.setRequestUrl(`${hostUrl}/connectors/${SLACK_CONNECTOR_ID}/webhook`);
  const secretOption =
    options.mode === 'http' ? 'signingSecret: ${SLACK_SIGNING_SECRET}' : 'appToken: ${SLACK_APP_TOKEN}';
  const configPath = writeConfig(
    dir,
    `server:
  port: ${port}
  host: 127.0.0.1
  shutdownGraceMs: 5000
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
  ${SLACK_CONNECTOR_ID}:
    use: "@parley/connector-slack"
    integrationId: ${INTEGRATION_ID}
    webhookSecret: \${WEBHOOK_SECRET}
    options:
      mode: ${options.mode}
      botToken: \${SLACK_BOT_TOKEN}
      ${secretOption}
      apiUrl: ${slack.apiUrl}
      socketPingTimeoutMs: 500
`,
  );
  return {
    dir,
    configPath,
    hostUrl,
    emulator,
    slack,
    env: {
      GENESYS_CLIENT_SECRET: emulator.defaultClient.clientSecret,
      WEBHOOK_SECRET,
      SLACK_BOT_TOKEN: slack.botToken,
      SLACK_SIGNING_SECRET: slack.signingSecret,
      SLACK_APP_TOKEN: slack.appToken,
    },
    async close() {
      await slack.close();
      await emulator.close();
    },
  };
}
