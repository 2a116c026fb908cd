/**
 * `@parley/connector-discord`: a Discord bot as a Genesys Open Messaging channel, on discord.js.
 * The protocol fake of Discord and the conformance driver are in `@parley/connector-discord/testing`.
 */
export { discordConnector, discordCapabilities } from './connector.js';
export { discordOptionsSchema, type DiscordOptions, type DiscordOptionsInput } from './options.js';
export { customerIdOf, addressOf, type DiscordAddress } from './addresses.js';
