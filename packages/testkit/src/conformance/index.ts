/**
 * `@parley/testkit/conformance`: the connector conformance suite and the pipeline harness it runs
 * on. Connector packages call `runConformanceSuite` with their definition and platform driver, and
 * may use `startHarness` for their own end-to-end tests.
 */
export { runConformanceSuite, type ConformanceSuiteOptions } from './suite.js';
export { startHarness, FAST_QUEUE, type Harness, type HarnessOptions, type HostedFile } from './harness.js';
export {
  eventually,
  openConversation,
  waitForMessage,
  waitForReceipt,
  waitForSentText,
  messagesFrom,
  sentTexts,
  agentTextWebhook,
  postGenesysWebhook,
  quickReply,
  WAIT_MS,
} from './helpers.js';
export type {
  ConformanceSetupContext,
  ConformanceSubject,
  PlatformDriver,
  ReceivedButton,
  ReceivedFile,
  ReceivedMessage,
  SendFailure,
} from './types.js';
