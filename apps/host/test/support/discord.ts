/**
 * What a Discord end-to-end test needs around the host process: the Genesys emulator, the fake
 * Discord, and a parley.yaml that loads `@parley/connector-discord` with the bot token from the
 * environment, as an operator would write it.
 */
import type { GenesysEmulator } from '@parley/testkit';
import { startDiscordFake, type DiscordFake, type DiscordFakeOptions } from '@parley/connector-discord/testing';
import { genesysEnv, startGenesysSide, writeHostConfig } from './fixtures.js';

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
  const side = await startGenesysSide({
    connectorId: 'discord',
    integrationName: 'Discord E2E',
    dirPrefix: 'parley-discord-e2e-',
  });
  const fake = await startDiscordFake(options.fake);
  const guild = fake.guild('Support');
  const helpChannelId = guild.channel('help');
  const configPath = writeHostConfig(side, {
    server: ['shutdownGraceMs: 5000'],
    logLevel: 'info',
    connector: {
      use: '@parley/connector-discord',
      options: [
        'token: ${DISCORD_BOT_TOKEN}',
        `apiUrl: ${fake.apiUrl}`,
        `supportChannelIds: ["${helpChannelId}"]`,
        '# A fake has no identify budget to protect, and retries should take milliseconds.',
        'identifyIntervalMs: 0',
        'retryMinMs: 50',
        'retryMaxMs: 500',
      ],
    },
  });
  return {
    dir: side.dir,
    configPath,
    hostUrl: side.hostUrl,
    emulator: side.emulator,
    fake,
    guildId: guild.id,
    helpChannelId,
    async close() {
      await fake.close();
      await side.emulator.close();
    },
  };
}

export const discordHostEnv = (world: DiscordWorld) => ({
  ...genesysEnv(world.emulator),
  DISCORD_BOT_TOKEN: world.fake.token,
});
