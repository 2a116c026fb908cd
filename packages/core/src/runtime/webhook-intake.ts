/**
 * The Genesys outbound webhook, framework-neutral: verify the signature over the raw bytes first
 * (nothing else happens for a wrong one), then parse, then make the message durable and answer.
 * Every valid webhook gets a 2xx quickly, also for receipts, events and messages that will fail
 * later: a failure reaches the agent as a Failed receipt, never as a non-2xx answer (a non-2xx
 * makes Genesys fail the whole conversation; research/genesys.md §2.1).
 */
import type { Logger } from 'pino';
import { parseGenesysWebhook, toOutboundMessage, isTypingEvent } from '../model/index.js';
import type { OutboundMessage } from '../messages.js';
import type { JobQueue, MessageLinks } from '../store/types.js';
import { verifyGenesysSignature } from '../webhook/signature.js';
import type { ParleyMetrics } from './metrics.js';
import { conversationKey, type ConnectorSlot } from './slots.js';

export interface WebhookAnswer {
  status: number;
  body: Record<string, unknown>;
}

export type WebhookIntake = (
  connectorId: string,
  rawBody: Buffer,
  signature: string | string[] | undefined,
) => Promise<WebhookAnswer>;

export function createWebhookIntake(deps: {
  slots: Map<string, ConnectorSlot>;
  toPlatform: JobQueue;
  links: MessageLinks;
  metrics: ParleyMetrics;
  logger: Logger;
}): WebhookIntake {
  const count = (connector: string, type: string, outcome: string) =>
    deps.metrics.webhooks.inc({ connector, type, outcome });

  return async (connectorId, rawBody, signature) => {
    const slot = deps.slots.get(connectorId);
    if (!slot) return { status: 404, body: { error: `Unknown connector "${connectorId}"` } };

    if (!verifyGenesysSignature(rawBody, signature, slot.webhookSecret)) {
      count(connectorId, 'unknown', 'bad_signature');
      slot.logger.warn({ hasSignature: signature !== undefined }, 'Rejected a Genesys webhook with a missing or wrong signature');
      return { status: 401, body: { error: 'Invalid or missing X-Hub-Signature-256' } };
    }

    let json: unknown;
    try {
      json = JSON.parse(rawBody.toString('utf8'));
    } catch {
      count(connectorId, 'unknown', 'bad_json');
      return { status: 400, body: { error: 'Body is not valid JSON' } };
    }
    const parsed = parseGenesysWebhook(json);
    if (!parsed.ok) {
      count(connectorId, 'unknown', 'bad_payload');
      slot.logger.warn({ error: parsed.error }, 'Rejected a Genesys webhook that cannot be routed');
      return { status: 400, body: { error: parsed.error } };
    }
    const { webhook, warnings } = parsed;
    if (warnings.length > 0) slot.logger.warn({ id: webhook.id, warnings }, 'Genesys webhook has parts Parley does not know');

    switch (webhook.kind) {
      case 'message': {
        const message = toOutboundMessage(webhook);
        const { duplicate } = await deps.toPlatform.enqueue<OutboundMessage>({
          connectorId,
          conversationKey: conversationKey(connectorId, message.to),
          dedupeKey: `${connectorId}:${message.id}`,
          kind: 'message',
          payload: message,
        });
        count(connectorId, webhook.type, duplicate ? 'duplicate' : 'queued');
        return { status: 200, body: { status: duplicate ? 'duplicate' : 'queued', id: message.id } };
      }
      case 'event': {
        const to = webhook.channel?.to?.id;
        if (!to) {
          count(connectorId, 'Event', 'unroutable');
          slot.logger.warn({ id: webhook.id }, 'Ignored a Genesys event that names no customer (channel.to.id)');
          return { status: 200, body: { status: 'ignored' } };
        }
        if (isTypingEvent(webhook) && slot.connector.sendTyping && slot.definition.capabilities.typing.outbound) {
          // Typing is ephemeral: shown now or never, so it skips the durable queue.
          slot.connector.sendTyping(to).catch((error: unknown) => {
            slot.logger.debug({ err: error, to }, 'Could not show agent typing');
          });
        }
        count(connectorId, 'Event', 'handled');
        return { status: 200, body: { status: 'ok' } };
      }
      case 'receipt': {
        const status = webhook.status ?? 'Unknown';
        deps.metrics.receipts.inc({ connector: connectorId, status });
        if (webhook.id === undefined) {
          count(connectorId, 'Receipt', 'unroutable');
          slot.logger.warn({ status, reasons: webhook.reasons }, 'Ignored a Genesys receipt that names no message (id)');
          return { status: 200, body: { status: 'ignored' } };
        }
        // A receipt about a customer message (Genesys → us): record it; Failed ones are worth a warning.
        await deps.links.setStatus(connectorId, webhook.id, status);
        if (webhook.status === 'Failed') {
          slot.logger.warn({ genesysMessageId: webhook.id, reasons: webhook.reasons }, 'Genesys reports a customer message as Failed');
        }
        count(connectorId, 'Receipt', 'recorded');
        return { status: 200, body: { status: 'ok' } };
      }
      default: {
        count(connectorId, String(webhook.type), 'ignored');
        slot.logger.warn({ id: webhook.id, type: webhook.type }, 'Ignored a Genesys webhook of an unknown type');
        return { status: 200, body: { status: 'ignored' } };
      }
    }
  };
}
