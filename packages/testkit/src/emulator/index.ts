/** The Genesys Open Messaging emulator (DESIGN §9): run Parley and its tests without a Genesys org. */
export { startGenesysEmulator, DEFAULT_EMULATOR_CLIENT, GENESYS_WEBHOOK_POLICY } from './emulator.js';
export { MAX_BODY_BYTES } from './http.js';
export { AGENT_TEXT_MAX_CHARS } from './outbound-message.js';
export type {
  AgentMessage,
  Conversation,
  DeliveryAttempt,
  DeliveryOutcome,
  EmulatorClient,
  FaultEndpoint,
  FaultSpec,
  GenesysEmulator,
  GenesysEmulatorOptions,
  InboundKind,
  Integration,
  OutboundDelivery,
  RecordedInbound,
  WebhookPolicy,
} from './types.js';
