/**
 * `@parley/connector-discord/testing`: a fake Discord (REST, gateway and CDN on 127.0.0.1) that
 * the real discord.js client runs against, its customer-side helpers and error injection, and the
 * conformance driver that pairs it with the Discord connector.
 */
export {
  startDiscordFake,
  type DiscordFake,
  type DiscordFakeOptions,
  type FakeGuild,
  type FakeUser,
  type CustomerFile,
  type CustomerMessage,
  type SentButton,
  type SentMessage,
  type FakeFailure,
  type FakeRoute,
  type GatewayStats,
} from './fake.js';
export { discordPlatformDriver, discordConformanceSubject, receivedMessageOf, testOptionsFor } from './driver.js';
