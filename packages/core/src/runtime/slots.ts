import type { Logger } from 'pino';
import type { Connector, ConnectorDefinition } from '../connector.js';

/** A configured connector as the runtime holds it. */
export interface ConnectorSlot {
  id: string;
  integrationId: string;
  webhookSecret: string;
  definition: ConnectorDefinition;
  connector: Connector;
  logger: Logger;
}

/** The per-conversation ordering key of both queues: connector id + customer address. */
export function conversationKey(connectorId: string, customerId: string): string {
  return `${connectorId}:${customerId}`;
}

/**
 * The ordering key of the receipts about the agent's messages to a customer: a lane of its own
 * beside the customer's conversation, so the customer's messages never wait behind receipts (the
 * rate budget serves receipts last, and an outage of Genesys's receipt endpoint can hold them for
 * long). Receipts stay in order among themselves. A connector id has no `/`, so no conversation
 * key looks like this.
 */
export function receiptLaneKey(connectorId: string, customerId: string): string {
  return `receipts/${conversationKey(connectorId, customerId)}`;
}
