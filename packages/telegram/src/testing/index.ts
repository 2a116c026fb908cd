/**
 * `@parley/connector-telegram/testing`: a fake Telegram Bot API that the real grammY client (and
 * so the connector) runs against on 127.0.0.1, its customer-side helpers and error injection,
 * and the conformance driver that plugs it into `@parley/testkit/conformance`.
 */
export {
  startTelegramFake,
  type TelegramFake,
  type TelegramFakeOptions,
  type FakeCustomer,
  type FakeUserProfile,
  type FakeFileInput,
  type MessageOptions,
  type SentMessage,
  type CustomerFileKind,
  type TelegramFault,
  type FaultTarget,
} from './fake.js';
export { telegramPlatformDriver, telegramConformanceSubject, type TelegramConformanceOptions } from './driver.js';
