/**
 * The reference connector: Parley's model connector, and the template for a new channel.
 *
 * It polls the reference platform for customer updates and hands them to core, and it shows agent
 * messages to the customer. Everything platform-specific sits in small modules beside it:
 * `options.ts` (what parley.yaml may say), `api-client.ts` (HTTP calls), `errors.ts` (HTTP
 * failures → Parley errors), `inbound.ts` and `outbound.ts` (the two mappings). The long-polling
 * loop is core's `createUpdatePoller`. This file only wires them to the connector contract.
 */
import {
  createUpdatePoller,
  defineConnector,
  loadSendProgress,
  PermanentError,
  type Connector,
  type ConnectorCapabilities,
  type ConnectorContext,
  type OutboundMessage,
  type SendResult,
} from '@parley/core';
import { createReferenceApi, type ReferenceApi } from './api-client.js';
import {
  buttonPressToInbound,
  chatIdOf,
  messageToInbound,
  platformMessageIdOf,
  typingToInbound,
  type ButtonOrigin,
} from './inbound.js';
import { referenceOptionsSchema, type ReferenceOptions } from './options.js';
import { planOutbound, type OutboundStep } from './outbound.js';
import type { PlatformChat, SendMessageRequest, Update } from './protocol.js';

/** What the reference platform can show and report (DESIGN §3). */
export const referenceCapabilities: ConnectorCapabilities = {
  inbound: ['polling'],
  attachments: { inbound: true, outbound: true },
  typing: { inbound: true, outbound: true },
  quickReplies: true,
  cards: true,
  edits: false,
  readReceipts: false,
};

const DAY_MS = 24 * 60 * 60 * 1000;
/** A customer may press a button days after it was sent. */
const BUTTON_ORIGIN_TTL_MS = 30 * DAY_MS;

const buttonOriginKey = (chatId: string, botMessageId: number) => `button-origin:${chatId}:${botMessageId}`;

/**
 * The reference connector definition, loaded by the host with `use: "@parley/testkit"` style
 * configuration or passed to `createParley` directly.
 *
 * @example
 * createParley({ ..., connectors: [{ id: 'demo', definition: referenceConnector,
 *   options: referenceOptionsSchema.parse({ apiUrl: platform.url, token: platform.token }),
 *   integrationId, webhookSecret }] });
 */
export const referenceConnector = defineConnector({
  name: 'reference',
  optionsSchema: referenceOptionsSchema,
  capabilities: referenceCapabilities,
  create: createReferenceConnector,
});

function createReferenceConnector(options: ReferenceOptions, context: ConnectorContext): Connector {
  const { logger, store } = context;
  // No I/O here: the client connects on its first call, the poller on start().
  const api = createReferenceApi(options);
  const poller = createUpdatePoller<Update>({
    fetchUpdates: (offset, signal) => api.getUpdates(offset, options.pollTimeoutSeconds, signal),
    handle: (update) => handleUpdate(update),
    updateId: (update) => update.update_id,
    // One chat is one Genesys conversation: its updates keep their order, other chats run alongside.
    orderKey: (update) => {
      const chat = chatOf(update);
      return chat ? `chat:${chat.id}` : `update:${update.update_id}`;
    },
    // Where the offset has always been kept, so an upgrade does not read old updates again.
    offsetStore: { store, key: 'updates-offset' },
    logger,
    retryMinMs: options.pollRetryMinMs,
    retryMaxMs: Math.max(options.pollRetryMinMs, options.pollRetryMaxMs),
  });
  let started = false;

  async function handleUpdate(update: Update): Promise<void> {
    if ('message' in update) {
      const inbound = messageToInbound(update.message, context.media);
      if (!inbound) return void logger.debug({ updateId: update.update_id }, 'Ignored an empty customer message');
      await context.receive(inbound);
    } else if ('button_press' in update) {
      const press = update.button_press;
      const origin = parseOrigin(await store.get(buttonOriginKey(press.chat.id, press.messageId)));
      await context.receive(buttonPressToInbound(press, origin));
      // After the hand-off, so a failure above leaves the button spinning and the press is redelivered.
      await api.answerCallback(press.callbackId).catch((error: unknown) => {
        logger.debug({ err: error }, 'Could not answer a button press');
      });
    } else if ('typing' in update) {
      await context.receive(typingToInbound(update.typing));
    } else {
      logger.debug({ update }, 'Ignored a platform update of an unknown kind');
    }
  }

  return {
    async start() {
      if (started) return;
      started = true;
      poller.start();
    },
    async stop() {
      if (!started) return;
      started = false;
      await poller.stop();
      await api.close();
    },
    send: (message) => sendMessage(api, context, message),
    async sendTyping(to) {
      await api.sendTyping(chatIdOrFail(to));
    },
    // The token stays here: Genesys fetches the file through Parley's signed media URL.
    openMedia: (fileId) => api.openFile(fileId),
    readiness: () => poller.status(),
  };
}

/**
 * Sends the platform messages that make up one agent message. A delivery may be retried after a
 * part went out (a 429 on the third of four parts), so the ids already sent are kept in the store
 * and a retry resumes after them: the customer never sees a part twice.
 */
async function sendMessage(api: ReferenceApi, context: ConnectorContext, message: OutboundMessage): Promise<SendResult> {
  const chatId = chatIdOrFail(message.to);
  const steps = planOutbound(message);
  if (steps.length === 0) {
    throw new PermanentError('PAYLOAD_INVALID', 'The message has no text, file or buttons to show', {
      reasonCode: 'InvalidMessageStructure',
    });
  }
  const progress = await loadSendProgress(context.store, message.id, steps.length);
  for (const step of steps.slice(progress.sent.length)) {
    const sent = await api.sendMessage(await toRequest(chatId, step, context));
    if (step.buttonType) {
      const origin: ButtonOrigin = { genesysMessageId: message.id, type: step.buttonType };
      await context.store.set(buttonOriginKey(chatId, sent.id), JSON.stringify(origin), { ttlMs: BUTTON_ORIGIN_TTL_MS });
    }
    await progress.record(platformMessageIdOf(chatId, sent.id));
  }
  return progress.result();
}

async function toRequest(chatId: string, step: OutboundStep, context: ConnectorContext): Promise<SendMessageRequest> {
  const file = step.attachment ? await context.downloadAttachment(step.attachment) : undefined;
  return {
    chatId,
    ...(step.text ? { text: step.text } : {}),
    ...(step.buttons.length > 0 ? { replyMarkup: { buttons: step.buttons } } : {}),
    ...(file ? { attachment: { filename: file.filename, mime: file.mime, dataBase64: file.data.toString('base64') } } : {}),
  };
}

/** The chat an update belongs to; undefined for a kind this connector does not know. */
function chatOf(update: Update): PlatformChat | undefined {
  if ('message' in update) return update.message.chat;
  if ('button_press' in update) return update.button_press.chat;
  if ('typing' in update) return update.typing.chat;
  return undefined;
}

function chatIdOrFail(customerId: string): string {
  const chatId = chatIdOf(customerId);
  if (chatId === undefined) {
    throw new PermanentError('PAYLOAD_INVALID', `"${customerId}" is not a customer of the reference platform`, {
      reasonCode: 'InvalidDestination',
    });
  }
  return chatId;
}

function parseOrigin(raw: string | undefined): ButtonOrigin | undefined {
  if (!raw) return undefined;
  try {
    const value = JSON.parse(raw) as Partial<ButtonOrigin>;
    return typeof value.genesysMessageId === 'string' && (value.type === 'QuickReply' || value.type === 'Button')
      ? { genesysMessageId: value.genesysMessageId, type: value.type }
      : undefined;
  } catch {
    return undefined;
  }
}

