/**
 * What a Slack end-to-end test needs around the host process: the Genesys emulator, the Slack fake
 * (`@parley/connector-slack/testing`) and a config file that loads `@parley/connector-slack` with
 * its secrets from the environment, as a user would write it.
 */
import { startSlackFake, type SlackFake } from '@parley/connector-slack/testing';
import type { GenesysEmulator } from '@parley/testkit';
import { genesysEnv, startGenesysSide, writeHostConfig } from './fixtures.js';

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
  const side = await startGenesysSide({
    connectorId: SLACK_CONNECTOR_ID,
    integrationName: 'E2E Slack',
    dirPrefix: 'parley-slack-e2e-',
  });
  const slack = await startSlackFake({ mode: options.mode });
  // What an admin types into "Event Subscriptions" and "Interactivity" of the Slack app.
  slack.setRequestUrl(`${side.hostUrl}/connectors/${SLACK_CONNECTOR_ID}/webhook`);
  const configPath = writeHostConfig(side, {
    server: ['shutdownGraceMs: 5000'],
    logLevel: 'debug',
    connector: {
      use: '@parley/connector-slack',
      options: [
        `mode: ${options.mode}`,
        'botToken: ${SLACK_BOT_TOKEN}',
        options.mode === 'http' ? 'signingSecret: ${SLACK_SIGNING_SECRET}' : 'appToken: ${SLACK_APP_TOKEN}',
        `apiUrl: ${slack.apiUrl}`,
        'socketPingTimeoutMs: 500',
      ],
    },
  });
  return {
    dir: side.dir,
    configPath,
    hostUrl: side.hostUrl,
    emulator: side.emulator,
    slack,
    env: {
      ...genesysEnv(side.emulator),
      SLACK_BOT_TOKEN: slack.botToken,
      SLACK_SIGNING_SECRET: slack.signingSecret,
      SLACK_APP_TOKEN: slack.appToken,
    },
    async close() {
      await slack.close();
      await side.emulator.close();
    },
  };
}
