/**
 * `@parley/connector-slack/testing`: a protocol fake of Slack (Web API, Events API with signed
 * requests and retries, Socket Mode, files), its customer-side helpers and error injection, and
 * the conformance driver that pairs it with the Slack connector.
 */
export {
  startSlackFake,
  type SlackFake,
  type SlackFakeOptions,
  type PostedMessage,
  type AddChannelInput,
  type FakeConversation,
  type FakeFile,
  type FakeFileInput,
  type FakeMessage,
  type FakeUser,
  type FakeUserProfile,
  type SlackFailure,
  type Delivery,
  type DeliveryAttempt,
  type ApiCall,
} from './platform.js';
export { signSlackRequest } from './platform-events.js';
export { slackPlatformDriver, slackConformanceSubject, unescapeMrkdwn, type SlackConformanceOptions } from './driver.js';
