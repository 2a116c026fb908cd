/**
 * `@parley/connector-slack`: a Slack app (Bolt) as a Genesys Open Messaging channel.
 * The Slack fake and the conformance driver are in `@parley/connector-slack/testing`.
 */
export { slackConnector, slackCapabilities } from './connector.js';
export {
  slackOptionsSchema,
  type SlackOptions,
  type SlackOptionsInput,
  type ConversationPolicy,
  type EventRules,
} from './options.js';
export { customerIdOf, addressOf, type SlackAddress } from './inbound.js';
