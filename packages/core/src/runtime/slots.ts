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
