/**
 * The reference connector and its platform: a Telegram-shaped chat platform that runs in-process,
 * the connector that bridges it to Parley (the template for new channels), and the conformance
 * driver that pairs them.
 */
export { referenceConnector, referenceCapabilities } from './connector.js';
export { referenceOptionsSchema, type ReferenceOptions, type ReferenceOptionsInput } from './options.js';
export {
  startReferencePlatform,
  type ReferencePlatform,
  type ReferencePlatformOptions,
  type CustomerHandle,
  type CustomerProfile,
  type CustomerFile,
  type SentMessage,
  type PlatformFailure,
  type PlatformMethod,
} from './platform.js';
export { referencePlatformDriver, referenceConformanceSubject } from './driver.js';
export type * from './protocol.js';
export { MAX_MESSAGE_LENGTH } from './protocol.js';
