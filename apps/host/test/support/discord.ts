/**
 * What a Discord end-to-end test needs around the host process: the Genesys emulator, the fake
 * Discord, and a parley.yaml that loads `@parley/connector-discord` with the bot token from the
 * environment, as an operator would write it.
 */
import { startGenesysEmulator, type GenesysEmulator } from '@parley/testkit';
import { startDiscordFake, type DiscordFake, type DiscordFakeOptions } from '@parley/connector-discord/testing';
import { freePort, INTEGRATION_ID, WEBHOOK_SECRET } from './fixtures.js';
import { tempDir, writeConfig } from './host-process.js';

export interface DiscordWorld {
  dir: string;
  configPath: string;
  hostUrl: string;
  emulator: GenesysEmulator;
  fake: DiscordFake;
  /** Ids of the fake's server and its `#help` support channel. */
  guildId: string;
  helpChannelId: string;
  close(): Promise<void>;
}

/** Emulator + fake Discord + a config file for a host on a free port. */
export async function createDiscordWorld(options: { fake?: DiscordFakeOptions } = {}): Promise<DiscordWorld> {
  const dir = tempDir('parley-discord-e2e-');
  const port = await freePort();
  const hostUrl = `http://127.0.0.1:${port}`;
  const emulator = await startGenesysEmulator({ webhook: { timeoutMs: 2000, retries: 5, retryIntervalMs: 200 } });
  emulator.addIntegration({
    id: INTEGRATION_ID,
    name: 'Discord E2E',
    webhookUrl: `${hostUrl}/connectors/discord/genesys`,
    webhookSecret: WEBHOOK_SECRET,
  });
  const fake = await startDiscordFake(options.fake);
  const guild = fake.guild('Support');
  const helpChannelId = guild.channel('help');
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
  level: info
queue:
  backoffBaseMs: 50
  backoffMaxMs: 500
connectors:
  discord:
    use: "@parley/connector-discord"
    integrationId: ${INTEGRATION_ID}
    webhookSecret: \${WEBHOOK_SECRET}
    options:
      token: \${DISCORD_BOT_TOKEN}
      apiUrl: ${fake.apiUrl}
      supportChannelIds: ["${helpChannelId}"]
      # A fake has no identify budget to protect, and retries should take milliseconds.
      identifyIntervalMs: 0
      retryMinMs: 50
      retryMaxMs: 500
`,
  );
  return {
    dir,
    configPath,
    hostUrl,
    emulator,
    fake,
    guildId: guild.id,
    helpChannelId,
    async close() {
      await fake.close();
      await emulator.close();
    },
  };
}

export const discordHostEnv = (world: DiscordWorld) => ({
  GENESYS_CLIENT_SECRET: world.emulator.defaultClient.clientSecret,
  WEBHOOK_SECRET,
  DISCORD_BOT_TOKEN: world.fake.token,
});
