/**
 * `@parley/connector-telegram`: a Telegram bot as a Genesys Cloud Open Messaging channel, built on
 * grammY. Load it from parley.yaml with `use: "@parley/connector-telegram"`; the protocol fake of
 * the Bot API for tests lives in `@parley/connector-telegram/testing`.
 */
export { telegramConnector, telegramCapabilities } from './connector.js';
export {
  telegramOptionsSchema,
  TELEGRAM_CHAT_TYPES,
  type TelegramOptions,
  type TelegramOptionsInput,
  type TelegramChatType,
  type TelegramGroupPolicy,
} from './options.js';
export { customerIdOf, addressOf, type TelegramAddress } from './inbound.js';
