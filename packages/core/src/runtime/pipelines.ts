/**
 * The two queue workers' job handlers.
 *
 * to-platform: an agent message → `connector.send()` → record the id pair and queue a Delivered
 * receipt; when the job dies (permanent error or retries exhausted) queue a Failed receipt whose
 * text says why, so the agent learns about it.
 *
 * to-genesys: customer messages, button presses and our receipts → the Genesys inbound API.
 */
import type { Logger } from 'pino';
import { PermanentError, RetryableError } from '../errors.js';
import type { GenesysClient } from '../genesys/types.js';
import type { FailureReason, OutboundMessage } from '../messages.js';
import type { DeadLetter, Job, JobFollowUp, JobHandler, JobInput, JobQueue, WorkerHooks } from '../store/types.js';
import { messageBody, receiptBody, structuredResponseBody } from './genesys-bodies.js';
import type { QueuedButtonResponse, QueuedInboundMessage } from './genesys-bodies.js';
import type { MediaUrls } from './media.js';
import type { ParleyMetrics } from './metrics.js';
import { adaptToCapabilities } from './render.js';
import { receiptLaneKey, type ConnectorSlot } from './slots.js';

export interface QueuedReceipt {
  genesysMessageId: string;
  customerId: string;
  time: string;
  failure?: FailureReason;
}

interface PipelineDeps {
  slots: Map<string, ConnectorSlot>;
  metrics: ParleyMetrics;
  logger: Logger;
  now: () => number;
}

function slotFor(slots: Map<string, ConnectorSlot>, connectorId: string): ConnectorSlot {
  const slot = slots.get(connectorId);
  if (!slot) {
    throw new PermanentError('CONNECTOR_UNKNOWN', `Connector "${connectorId}" is not configured any more`);
  }
  return slot;
}

/**
 * Queues the receipt of the delivery job `deliveryJobId`: one receipt per delivery, Delivered or
 * Failed, however often the job runs. Keyed by the job's id rather than the Genesys message id:
 * job ids grow, so the key lands at the end of the dedupe index, where Genesys's random message
 * ids would dirty a random index page per receipt (measured ~15–30 % more host CPU per message
 * with random ids than with sequential ones, of which this was one of three random inserts).
 */
export function receiptJob(connectorId: string, deliveryJobId: number, receipt: QueuedReceipt): JobInput<QueuedReceipt> {
  return {
    connectorId,
    conversationKey: receiptLaneKey(connectorId, receipt.customerId),
    // Zero-padded so that the keys also sort in job order.
    dedupeKey: `receipt:${connectorId}:${String(deliveryJobId).padStart(12, '0')}`,
    kind: 'receipt',
    payload: receipt,
  };
}

export function toPlatformHandler(deps: PipelineDeps & { deliveredReceipts: boolean }): JobHandler<OutboundMessage> {
  return async (job) => {
    const slot = slotFor(deps.slots, job.connectorId);
    const message = adaptToCapabilities(job.payload, slot.definition.capabilities);
    const result = await slot.connector.send(message);
    deps.metrics.jobs.inc({ queue: 'to-platform', connector: slot.id, kind: job.kind, outcome: 'done' });
    slot.logger.info({ genesysMessageId: message.id, platformMessageId: result.platformMessageId }, 'Agent message delivered to the customer');
    // Recorded with the job's completion, in one transaction right after the platform accepted
    // the message: the window in which a crash would re-send (the only source of duplicates) is
    // one commit, and the id pair, the receipt and the job's `done` are durable together or not
    // at all.
    const link = {
      connectorId: slot.id,
      platformMessageId: result.platformMessageId,
      genesysMessageId: message.id,
      direction: 'outbound',
      status: 'Delivered',
    } as const;
    if (!deps.deliveredReceipts) return { links: [link] };
    const receipt = receiptJob(slot.id, job.id, {
      genesysMessageId: message.id,
      customerId: message.to,
      time: new Date(deps.now()).toISOString(),
    });
    return { links: [link], enqueue: [{ queue: 'to-genesys', job: receipt }] };
  };
}

/** Turns the error that killed a delivery into the Failed receipt's reason. */
export function failureReason(dead: DeadLetter): FailureReason {
  const { error, cause, job } = dead;
  if (error instanceof PermanentError) return { code: error.reasonCode, message: error.message };
  const detail = error instanceof Error ? error.message : String(error);
  const rateLimited = error instanceof RetryableError && error.code.endsWith('RATE_LIMITED');
  return {
    code: rateLimited ? 'RateLimited' : 'GeneralError',
    message:
      cause === 'exhausted'
        ? `Not delivered after ${job.attempts + 1} attempts: ${detail}`
        : `Not delivered: ${detail}`,
  };
}

export function toPlatformDeadLetter(deps: PipelineDeps & { toGenesys: JobQueue }): WorkerHooks {
  return {
    async onDeadLetter(dead) {
      const job = dead.job as Job<OutboundMessage>;
      const reason = failureReason(dead);
      deps.metrics.jobs.inc({ queue: 'to-platform', connector: job.connectorId, kind: job.kind, outcome: 'dead' });
      deps.logger.warn(
        { connector: job.connectorId, genesysMessageId: job.payload.id, to: job.payload.to, reason },
        'Agent message not delivered; sending a Failed receipt to Genesys',
      );
      if (!deps.slots.has(job.connectorId)) return;
      await deps.toGenesys.enqueue(
        receiptJob(job.connectorId, job.id, {
          genesysMessageId: job.payload.id,
          customerId: job.payload.to,
          time: new Date(deps.now()).toISOString(),
          failure: reason,
        }),
      );
    },
  };
}

export function toGenesysHandler(
  deps: PipelineDeps & { genesys: GenesysClient; media: MediaUrls },
): JobHandler<unknown> {
  return async (job) => {
    const slot = slotFor(deps.slots, job.connectorId);
    // Recorded with the job's completion, in one transaction.
    let followUp: JobFollowUp | undefined;
    switch (job.kind) {
      case 'message': {
        const message = job.payload as QueuedInboundMessage;
        const response = await deps.genesys.sendMessage(
          slot.integrationId,
          messageBody(message, deps.media.refresh),
          { prefetchConversationId: true },
        );
        slot.logger.info(
          { platformMessageId: message.platformMessageId, genesysMessageId: response.id, conversationId: response.conversationId },
          'Customer message sent to Genesys',
        );
        followUp = {
          links: [
            {
              connectorId: slot.id,
              platformMessageId: message.platformMessageId,
              genesysMessageId: response.id,
              direction: 'inbound',
            },
          ],
        };
        break;
      }
      case 'button-response': {
        const press = job.payload as QueuedButtonResponse;
        const response = await deps.genesys.sendStructuredResponse(slot.integrationId, structuredResponseBody(press));
        slot.logger.info({ platformMessageId: press.platformMessageId, genesysMessageId: response.id }, 'Button press sent to Genesys');
        break;
      }
      case 'receipt': {
        const receipt = job.payload as QueuedReceipt;
        const body = receiptBody(receipt.genesysMessageId, receipt.customerId, new Date(receipt.time), receipt.failure);
        const response = await deps.genesys.sendReceipt(slot.integrationId, body);
        if (response.status === 'Failed') {
          slot.logger.warn({ genesysMessageId: receipt.genesysMessageId, reasons: response.reasons }, 'Genesys refused our receipt');
        }
        break;
      }
      default:
        throw new PermanentError('PAYLOAD_INVALID', `Unknown to-genesys job kind "${job.kind}"`);
    }
    deps.metrics.jobs.inc({ queue: 'to-genesys', connector: slot.id, kind: job.kind, outcome: 'done' });
    return followUp;
  };
}

export function toGenesysDeadLetter(deps: PipelineDeps): WorkerHooks {
  return {
    async onDeadLetter({ job, error, cause }) {
      deps.metrics.jobs.inc({ queue: 'to-genesys', connector: job.connectorId, kind: job.kind, outcome: 'dead' });
      deps.logger.error(
        { connector: job.connectorId, jobId: job.id, kind: job.kind, cause, err: error },
        'Could not hand a job to Genesys; it is dead-lettered (replay with `parley dlq replay`)',
      );
    },
  };
}
