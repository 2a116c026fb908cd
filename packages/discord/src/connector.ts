/**
 * The Discord connector: a Discord bot as a Genesys Open Messaging channel.
 *
 * Customers write to the bot in direct messages, or in the server channels it serves (each
 * customer of a support channel gets a thread). The gateway (`gateway.ts`) delivers their messages,
 * edits, typing and button presses; `catch-up.ts` fetches what was written while Parley was away;
 * `inbound.ts` and `outbound.ts` are the two mappings, `api-client.ts` the REST calls, `errors.ts`
 * what a Discord failure means for the agent, `addresses.ts` which Discord place is which
 * conversation. This file only wires them to the connector contract.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import {
  defineConnector,
  isRetryable,
  loadSendProgress,
  PermanentError,
  type Connector,
  type ConnectorCapabilities,
  type ConnectorContext,
  type InboundEvent,
  type OutboundMessage,
  type SendResult,
} from '@parley/core';
import type { ButtonInteraction, Interaction, Message, PartialMessage, Typing } from 'discord.js';
import {
  addressOf,
  conversationOf,
  isServed,
  isSupportChannelRoot,
  snowflakeAt,
  targetChannelOf,
  type Place,
} from './addresses.js';
import { createDiscordApi, type DiscordApi } from './api-client.js';
import { createChannelTracker } from './catch-up.js';
import { discordError } from './errors.js';
import { createDiscordGateway } from './gateway.js';
import {
  buttonPressToInbound,
  editToInbound,
  isIgnorable,
  messageToInbound,
  parseMediaRef,
  toCustomer,
  typingToInbound,
  type ButtonOrigin,
  type Origin,
} from './inbound.js';
import { discordOptionsSchema, type DiscordOptions } from './options.js';
import { messageBodyOf, nonceOf, parseCustomId, payloadButtonsOf, planOutbound } from './outbound.js';

/** What Discord can show and report (DESIGN §3). */
export const discordCapabilities: ConnectorCapabilities = {
  inbound: ['gateway'],
  attachments: { inbound: true, outbound: true },
  typing: { inbound: true, outbound: true },
  quickReplies: true,
  cards: true,
  edits: true,
  readReceipts: false,
};

const DAY_MS = 24 * 60 * 60 * 1000;
/** A customer may press a button days after it was sent. */
const BUTTON_ORIGIN_TTL_MS = 30 * DAY_MS;
/** Channels fetching their history at once after a restart: leaves REST budget for live sends. */
const CATCH_UP_CONCURRENCY = 4;
const MAX_THREAD_NAME_LENGTH = 100;
/**
 * How long an edit or a button press is handed to core again after a failure that may pass (the
 * store briefly unavailable), counted from its arrival. Bounded because it holds up its channel's
 * later events, which wait behind it to keep their order.
 */
const HANDOFF_RETRY_LIMIT_MS = 60_000;

/** Keyed by the nonce of the message with the buttons: known, and stored, before it is sent. */
const buttonOriginKey = (nonce: string) => `button-origin:${nonce}`;
const supportThreadKey = (channelId: string, userId: string) => `support-thread:${channelId}:${userId}`;

/**
 * The Discord connector definition, loaded by the host with `use: "@parley/connector-discord"`.
 *
 * @example
 * connectors:
 *   support-discord:
 *     use: "@parley/connector-discord"
 *     integrationId: 0f2d…
 *     webhookSecret: ${GENESYS_WEBHOOK_SECRET}
 *     options: { token: ${DISCORD_BOT_TOKEN}, supportChannelIds: ["1234567890123456789"] }
 */
export const discordConnector = defineConnector({
  name: 'discord',
  optionsSchema: discordOptionsSchema,
  capabilities: discordCapabilities,
  create: createDiscordConnector,
});

function createDiscordConnector(options: DiscordOptions, context: ConnectorContext): Connector {
  const { logger, store } = context;
  // No I/O here: the gateway logs in on start(), the REST calls go through its client.
  const gateway = createDiscordGateway(
    options,
    {
      messageCreate: (message) => onMessage(message),
      messageUpdate: (previous, next) => onEdit(previous, next),
      typingStart: (typing) => void onTyping(typing),
      interactionCreate: (interaction) => onInteraction(interaction),
      sessionStarted: () => tracker.newSession(),
      ready: (client) => {
        tracker.catchUpAll();
        // Configured channels are tracked from the start and for good (their pointers do not expire),
        // so a first message written while Parley is down is fetched too, however long the channel
        // was quiet before (not only channels a customer wrote in lately).
        for (const channelId of [...options.channelIds, ...options.supportChannelIds]) {
          const channel = client.channels.cache.get(channelId);
          const lastId = channel && 'lastMessageId' in channel ? channel.lastMessageId : null;
          tracker.track(channelId, lastId ?? snowflakeAt(Date.now()));
        }
      },
    },
    logger,
  );
  const api = createDiscordApi({ client: () => gateway.client(), store });
  const tracker = createChannelTracker({
    store,
    logger,
    fetchAfter: (channelId, afterId) => api.messagesAfter(channelId, afterId),
    handle: (message) => forwardMessage(message),
    orderKeyOf: (channelId) => orderKeyOf(channelId),
    trackingMs: options.trackingDays * DAY_MS,
    keepsPointer: (channelId) => options.channelIds.includes(channelId) || options.supportChannelIds.includes(channelId),
    concurrency: CATCH_UP_CONCURRENCY,
    retryMinMs: options.retryMinMs,
    retryMaxMs: Math.max(options.retryMinMs, options.retryMaxMs),
  });
  const lostCounter = context.metrics.counter(
    'parley_discord_inbound_lost_total',
    'Discord edits and button presses that could not be handed to Parley, by kind and reason (unavailable, rejected)',
    ['kind', 'reason'],
  );
  let started = false;
  // Aborted by stop(): a hand-off waiting to be tried again gives up at once instead of holding it.
  let lifetime = new AbortController();

  /**
   * Messages of a thread share a conversation with its channel's top level when the channel is a
   * support channel (a customer's first message is there) or threads are folded per channel: their
   * work then runs in the channel's order.
   */
  function orderKeyOf(channelId: string): string {
    const channel = gateway.client()?.channels.cache.get(channelId);
    const parentId = channel?.isThread() ? channel.parentId : null;
    if (!parentId) return channelId;
    const shared = options.supportChannelIds.includes(parentId) || options.guildConversations === 'per-channel';
    return shared ? parentId : channelId;
  }

  function onMessage(message: Message): void {
    if (isIgnorable(message)) return;
    const place = quickPlaceOf(message);
    // A thread whose parent is unknown yet is decided in forwardMessage(), once it is fetched.
    if (place && !isServed(place, options)) return;
    if (!message.guildId) api.rememberDmChannel(message.author.id, message.channelId);
    tracker.live(message);
  }

  /** Forwards a live or history message; false when its place is not served (nothing to track). */
  async function forwardMessage(message: Message): Promise<boolean> {
    if (isIgnorable(message)) return false;
    const place = await placeOf(message);
    if (!isServed(place, options)) return false;
    const origin = await originOf(message, place, { openThread: true });
    const events = messageToInbound(message, origin, context.media);
    if (events.length === 0) {
      logger.debug({ messageId: message.id }, 'Ignored a Discord message with nothing to forward (is the Message Content intent on?)');
    }
    for (const event of events) await context.receive(event);
    return true;
  }

  function onEdit(previous: Message | PartialMessage, next: Message): void {
    if (next.partial || isIgnorable(next) || !next.editedTimestamp) return;
    // Discord also "updates" a message when it unfurls a link or pins it: only new text is an edit.
    if (!previous.partial && previous.content === next.content) return;
    const deadline = Date.now() + HANDOFF_RETRY_LIMIT_MS;
    tracker.serialize(next.channelId, async () => {
      const place = await placeOf(next);
      if (!isServed(place, options)) return;
      const edit = editToInbound(next, await originOf(next, place, { openThread: false }));
      if (edit) await handOff(edit, deadline, { kind: 'edit', messageId: next.id, channelId: next.channelId, userId: next.author.id });
    });
  }

  /**
   * Hands an edit or a button press to core. Discord sends neither again (a press is acknowledged
   * before this, and catch-up reads only messages newer than the last one forwarded, not edits),
   * so a failure that may pass is tried again with backoff, in the channel's order, until
   * `deadline`. What core refuses for good, or still cannot take then, is lost: logged as an error
   * naming it, and counted.
   */
  async function handOff(
    event: InboundEvent,
    deadline: number,
    lost: { kind: 'edit' | 'button-press' } & Record<string, unknown>,
  ): Promise<void> {
    const retryMaxMs = Math.max(options.retryMinMs, options.retryMaxMs);
    for (let attempt = 1; ; attempt += 1) {
      let failure: unknown;
      try {
        await context.receive(event);
        return;
      } catch (error) {
        failure = error;
      }
      const retryable = isRetryable(failure);
      const delayMs = Math.min(retryMaxMs, options.retryMinMs * 2 ** (attempt - 1));
      if (retryable && Date.now() + delayMs <= deadline && !lifetime.signal.aborted) {
        logger.warn({ err: failure, ...lost, attempt, delayMs }, 'Could not hand a Discord event to Parley; trying again');
        const waited = await sleep(delayMs, true, { signal: lifetime.signal }).catch(() => false);
        if (waited) continue;
      }
      lostCounter.inc({ kind: lost.kind, reason: retryable ? 'unavailable' : 'rejected' });
      logger.error(
        { err: failure, ...lost, attempts: attempt },
        `Lost a Discord ${lost.kind === 'edit' ? 'edit' : 'button press'}: Parley could not take it`,
      );
      return;
    }
  }

  async function onTyping(typing: Typing): Promise<void> {
    try {
      const client = gateway.client();
      if (typing.user.bot || typing.user.id === client?.user?.id) return;
      const channel = typing.channel;
      const place: Place = {
        ...(typing.guild ? { guildId: typing.guild.id } : {}),
        channelId: channel.id,
        ...(channel.isThread() && channel.parentId ? { parentId: channel.parentId } : {}),
        authorId: typing.user.id,
      };
      if (!isServed(place, options)) return;
      if (isSupportChannelRoot(place, options)) {
        // Only a customer with a thread has a conversation to show typing in.
        const threadId = await store.get(supportThreadKey(place.channelId, place.authorId));
        if (!threadId) return;
        place.customerThreadId = threadId;
      }
      const customer = toCustomer(conversationOf(place, options), typing.user, typing.member?.displayName);
      await context.receive(typingToInbound(customer, typing.startedAt));
    } catch (error) {
      logger.debug({ err: error }, 'Could not forward customer typing');
    }
  }

  function onInteraction(interaction: Interaction): void {
    if (!interaction.isButton()) return;
    const deadline = Date.now() + HANDOFF_RETRY_LIMIT_MS;
    // Discord wants an answer within 3 s whatever happens next; acknowledging without a visible
    // change keeps the buttons for a customer who wants to press again.
    interaction.deferUpdate().catch((error: unknown) => {
      // Mapped before logging: the raw error's URL holds the interaction token.
      logger.warn({ err: discordError('interaction', error) }, 'Could not acknowledge a Discord button press');
    });
    tracker.serialize(interaction.channelId ?? interaction.user.id, () => forwardPress(interaction, deadline));
  }

  async function forwardPress(interaction: ButtonInteraction, deadline: number): Promise<void> {
    const channel = interaction.channel;
    const place: Place = {
      ...(interaction.guildId ? { guildId: interaction.guildId } : {}),
      channelId: interaction.channelId,
      ...(channel?.isThread() && channel.parentId ? { parentId: channel.parentId } : {}),
      authorId: interaction.user.id,
    };
    if (!isServed(place, options)) return;
    const parsed = parseCustomId(interaction.customId);
    const origin = parsed ? parseOrigin(await store.get(buttonOriginKey(parsed.nonce))) : undefined;
    const component = interaction.component as { label?: string | null } | undefined;
    const label = component?.label ?? undefined;
    const event = buttonPressToInbound(
      {
        interactionId: interaction.id,
        customId: interaction.customId,
        ...(label ? { label } : {}),
        payload: parsed?.payload ?? interaction.customId,
        customer: toCustomer(conversationOf(place, options), interaction.user, interaction.inCachedGuild() ? interaction.member.displayName : undefined),
        customAttributes: { discordUserId: interaction.user.id, discordUsername: interaction.user.username },
        time: interaction.createdAt,
      },
      origin,
    );
    await handOff(event, deadline, {
      kind: 'button-press',
      interactionId: interaction.id,
      customId: interaction.customId,
      payload: parsed?.payload ?? interaction.customId,
      channelId: interaction.channelId,
      userId: interaction.user.id,
    });
  }

  /** The place of a message when the cache knows it; undefined for a thread of unknown parent. */
  function quickPlaceOf(message: Message): Place | undefined {
    const channel = message.channel;
    const thread = channel.isThread() ? channel : undefined;
    if (thread && !thread.parentId) return undefined;
    return {
      ...(message.guildId ? { guildId: message.guildId } : {}),
      channelId: message.channelId,
      ...(thread?.parentId ? { parentId: thread.parentId } : {}),
      authorId: message.author.id,
    };
  }

  async function placeOf(message: Message): Promise<Place> {
    const quick = quickPlaceOf(message);
    if (quick) return quick;
    // A thread the cache has no parent for (created while Parley was away): ask Discord.
    const parentId = await api.parentOf(message.channelId);
    return {
      ...(message.guildId ? { guildId: message.guildId } : {}),
      channelId: message.channelId,
      ...(parentId ? { parentId } : {}),
      authorId: message.author.id,
    };
  }

  /** The conversation of a message, opening the customer's thread in a support channel. */
  async function originOf(message: Message, place: Place, options_: { openThread: boolean }): Promise<Origin> {
    if (isSupportChannelRoot(place, options)) {
      const threadId = await supportThreadOf(message, place, options_.openThread);
      if (threadId) place = { ...place, customerThreadId: threadId };
    }
    const channel = message.channel;
    const thread = channel.isThread() ? channel : undefined;
    const parentName = thread?.parent?.name;
    const channelName = 'name' in channel ? channel.name : undefined;
    return {
      customerId: conversationOf(place, options),
      place,
      ...(message.guild ? { guildName: message.guild.name } : {}),
      ...(thread ? (parentName ? { channelName: parentName } : {}) : channelName ? { channelName } : {}),
      ...(thread ? { threadName: thread.name } : {}),
    };
  }

  async function supportThreadOf(message: Message, place: Place, open: boolean): Promise<string | undefined> {
    const key = supportThreadKey(place.channelId, place.authorId);
    const ttlMs = options.trackingDays * DAY_MS;
    const known = await store.get(key);
    if (known || !open) {
      if (known) await store.set(key, known, { ttlMs });
      return known;
    }
    const name = (message.member?.displayName ?? message.author.displayName).slice(0, MAX_THREAD_NAME_LENGTH);
    let threadId: string;
    try {
      threadId = await api.startThread(place.channelId, message.id, name, options.supportThreadArchiveMinutes);
    } catch (error) {
      // Without the thread the customer is still served, in the channel's conversation.
      if (!(error instanceof PermanentError)) throw error;
      logger.warn({ err: error, channelId: place.channelId }, 'Could not open a support thread; using the channel');
      return undefined;
    }
    await store.set(key, threadId, { ttlMs });
    logger.info({ channelId: place.channelId, threadId }, 'Opened a support thread for a customer');
    return threadId;
  }

  return {
    async start() {
      if (started) return;
      started = true;
      lifetime = new AbortController();
      try {
        await tracker.load();
        await gateway.start();
      } catch (error) {
        started = false;
        await tracker.stop();
        await gateway.stop();
        throw error;
      }
    },
    async stop() {
      if (!started) return;
      started = false;
      // Work in flight finishes first (it may still need REST), then the gateway goes; a hand-off
      // waiting to be tried again is not waited for.
      lifetime.abort();
      await tracker.stop();
      await gateway.stop();
    },
    send: (message) => sendMessage(api, context, message),
    async sendTyping(to) {
      await api.sendTyping(await channelOf(api, to));
    },
    async openMedia(ref) {
      const parts = parseMediaRef(ref);
      if (!parts) throw new PermanentError('MEDIA_INVALID', 'Not a Discord file reference');
      return api.openAttachment(parts.channelId, parts.messageId, parts.attachmentId);
    },
    readiness: () => gateway.status(),
  };
}

/**
 * Sends the Discord messages that make up one agent message. A delivery may be retried after a
 * part went out (a 429 on the third of four parts), so the ids already sent are kept in the store
 * and a retry resumes after them; each part also carries a nonce derived from the Genesys message
 * id, so a part whose answer was lost (timeout, crash) is not posted twice either.
 */
async function sendMessage(api: DiscordApi, context: ConnectorContext, message: OutboundMessage): Promise<SendResult> {
  const channelId = await channelOf(api, message.to);
  const steps = planOutbound(message);
  if (steps.length === 0) {
    throw new PermanentError('PAYLOAD_INVALID', 'The message has no text, file or buttons to show', {
      reasonCode: 'InvalidMessageStructure',
    });
  }
  const progress = await loadSendProgress(context.store, message.id, steps.length);
  for (const step of steps.slice(progress.sent.length)) {
    const nonce = nonceOf(message.id, progress.sent.length);
    const file = step.attachment ? await context.downloadAttachment(step.attachment) : undefined;
    if (step.buttonType) {
      // Before the send: a press can arrive as soon as the customer sees the buttons.
      const origin: ButtonOrigin = {
        genesysMessageId: message.id,
        type: step.buttonType,
        buttons: Object.fromEntries(payloadButtonsOf(step, nonce).map(({ customId, text, payload }) => [customId, { text, payload }])),
      };
      await context.store.set(buttonOriginKey(nonce), JSON.stringify(origin), { ttlMs: BUTTON_ORIGIN_TTL_MS });
    }
    const sent = await api.sendMessage(channelId, messageBodyOf(step, nonce, file?.filename), file);
    await progress.record(sent.id);
  }
  return progress.result();
}

/** The Discord channel an agent message to `customerId` is posted in. */
async function channelOf(api: DiscordApi, customerId: string): Promise<string> {
  const address = addressOf(customerId);
  if (!address) {
    throw new PermanentError('PAYLOAD_INVALID', `"${customerId}" is not a Discord customer`, {
      reasonCode: 'InvalidDestination',
    });
  }
  return address.kind === 'dm' ? api.dmChannelOf(address.userId) : targetChannelOf(address);
}

function parseOrigin(raw: string | undefined): ButtonOrigin | undefined {
  if (!raw) return undefined;
  try {
    const value = JSON.parse(raw) as Partial<ButtonOrigin>;
    return typeof value.genesysMessageId === 'string' &&
      (value.type === 'QuickReply' || value.type === 'Button') &&
      typeof value.buttons === 'object' &&
      value.buttons !== null
      ? { genesysMessageId: value.genesysMessageId, type: value.type, buttons: value.buttons }
      : undefined;
  } catch {
    return undefined;
  }
}

