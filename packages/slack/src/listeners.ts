/**
 * The Bolt listeners: Slack events and button presses → Parley inbound events → `context.receive()`.
 * The mapping rules live in `inbound.ts` (pure); this module gathers what they need first
 * (profiles, channel names, whether a thread is already a conversation) within Slack's 3 s.
 *
 * A listener returns only after `receive()` resolved: the receiver acknowledges Slack after that
 * (see `receiver.ts`). A listener that throws makes Slack deliver the event again.
 *
 * Order: each listener gathers its event's lookups at once, then waits for the earlier events of
 * its conversation (`earlierEventsHandled`) before `receive()`, so the agent reads a customer's
 * messages in the order they were written even when one waited for a slow profile lookup.
 */
import type { App } from '@slack/bolt';
import type { ConnectorContext } from '@parley/core';
import type { SlackIdentity } from './api-client.js';
import type { Directory } from './directory.js';
import {
  blockActionToInbound,
  bridgeReason,
  conversationOf,
  customAttributesOf,
  customerIdOf,
  displayNameOf,
  editIdOf,
  filesToAttachments,
  isCustomerWriting,
  isDirectMessage,
  platformMessageIdOf,
  toCustomer,
  toInboundMessage,
  type SlackAddress,
} from './inbound.js';
import { referencedIds, toPlainText } from './mrkdwn.js';
import type { SlackOptions } from './options.js';
import type { BlockActionsPayload, SlackConversation, SlackMessage, SlackUser } from './protocol.js';
import { earlierEventsHandled } from './receiver.js';
import type { ThreadRegistry } from './threads.js';

export interface ListenerDeps {
  context: ConnectorContext;
  options: SlackOptions;
  identity: SlackIdentity;
  directory: Directory;
  threads: ThreadRegistry;
}

/** Registers the listeners on a Bolt app. */
export function registerListeners(app: App, deps: ListenerDeps): void {
  app.event('message', async ({ event, context }) => {
    const message = event as unknown as SlackMessage;
    if (message.subtype === 'message_changed') await onEdit(deps, message, earlierEventsHandled(context));
    else await onMessage(deps, message, false, earlierEventsHandled(context));
  });
  // A mention in a channel arrives twice (`message` and `app_mention`): both map to the same
  // platform message id, so whichever comes second is dropped by core as a duplicate.
  app.event('app_mention', async ({ event, context }) => {
    await onMessage(deps, event as unknown as SlackMessage, true, earlierEventsHandled(context));
  });
  app.action({ type: 'block_actions' }, async ({ body, ack, context }) => {
    await onButtonPress(deps, body as unknown as BlockActionsPayload, earlierEventsHandled(context));
    await ack();
  });
}

async function onMessage(deps: ListenerDeps, message: SlackMessage, isMentionEvent: boolean, earlier: Promise<void>): Promise<void> {
  const { context, identity } = deps;
  const channel = message.channel;
  if (!channel || !isCustomerWriting(message, identity.userId)) {
    return void context.logger.debug({ subtype: message.subtype, ts: message.ts }, 'Ignored a Slack message that no customer wrote');
  }
  const direct = isDirectMessage(channel, message.channel_type);
  let bridged = await isBridged(deps, message, channel, direct, isMentionEvent);
  if (!bridged && repliesInThread(deps, message, direct)) {
    // The mention that makes this thread a conversation may be an earlier event still on its
    // way: once it is handled, the thread is marked active.
    await earlier;
    bridged = await isBridged(deps, message, channel, direct, isMentionEvent);
  }
  if (!bridged) {
    return void context.logger.debug({ channel, ts: message.ts }, 'Ignored a Slack message outside the bridged events');
  }
  const address = conversationOf(
    { team: identity.teamId, channel, ts: message.ts, ...optionalThread(message.thread_ts), direct },
    deps.options.conversations,
  );
  const inbound = await buildMessage(deps, message, address, platformMessageIdOf(channel, message.ts), false);
  if (!inbound) return void context.logger.debug({ channel, ts: message.ts }, 'Ignored an empty Slack message');
  await earlier;
  await context.receive(inbound);
  if (address.threadTs && !direct) await deps.threads.markActive(channel, address.threadTs);
}

async function onEdit(deps: ListenerDeps, event: SlackMessage, earlier: Promise<void>): Promise<void> {
  const { context, identity } = deps;
  const edited = event.message;
  const channel = event.channel;
  if (!edited || !channel || !isCustomerWriting(edited, identity.userId)) return;
  // Slack also reports link unfurls and file changes as edits; only a changed text is news.
  if (event.previous_message && event.previous_message.text === edited.text) {
    return void context.logger.debug({ channel, ts: edited.ts }, 'Ignored a Slack edit that left the text unchanged');
  }
  const direct = isDirectMessage(channel, event.channel_type);
  if (!(await isBridged(deps, edited, channel, direct, false))) return;
  const address = conversationOf(
    { team: identity.teamId, channel, ts: edited.ts, ...optionalThread(edited.thread_ts), direct },
    deps.options.conversations,
  );
  const id = editIdOf(channel, edited.ts, edited.edited?.ts ?? event.ts);
  const inbound = await buildMessage(deps, edited, address, id, true);
  if (!inbound) return;
  await earlier;
  await context.receive(inbound);
}

async function onButtonPress(deps: ListenerDeps, payload: BlockActionsPayload, earlier: Promise<void>): Promise<void> {
  const { context, identity } = deps;
  const channel = payload.channel?.id ?? payload.container?.channel_id;
  if (!channel) return;
  const direct = isDirectMessage(channel);
  const messageTs = payload.message?.ts ?? payload.container?.message_ts ?? '';
  const address = conversationOf(
    { team: identity.teamId, channel, ts: messageTs, ...optionalThread(payload.message?.thread_ts ?? payload.container?.thread_ts), direct },
    deps.options.conversations,
  );
  const userId = payload.user.id;
  const [user, conversation] = await Promise.all([
    deps.directory.user(userId),
    direct ? undefined : deps.directory.conversation(channel),
  ]);
  const press = blockActionToInbound(
    payload,
    toCustomer(customerIdOf(address), userId, user),
    customAttributesOf({ team: identity.teamId, ...teamName(identity), channel, ...optionalConversation(conversation), userId }),
  );
  if (!press) return void context.logger.debug({ channel }, 'Ignored a press of a button Parley did not send');
  await earlier;
  await context.receive(press);
}

async function isBridged(
  deps: ListenerDeps,
  message: SlackMessage,
  channel: string,
  direct: boolean,
  isMentionEvent: boolean,
): Promise<boolean> {
  const rules = deps.options.events;
  const threadTs = message.thread_ts;
  // The store is read only when a thread reply could be bridged for no other reason.
  const inActiveThread = repliesInThread(deps, message, direct) ? await deps.threads.isActive(channel, threadTs!) : false;
  const candidate = { channel, direct, isMentionEvent, ...optionalThread(threadTs), ...(message.text !== undefined ? { text: message.text } : {}) };
  return bridgeReason(candidate, rules, { botUserId: deps.identity.userId, inActiveThread }) !== undefined;
}

/** A reply in a channel thread, which the `mentions` rule bridges when its thread is a conversation. */
function repliesInThread(deps: ListenerDeps, message: SlackMessage, direct: boolean): boolean {
  return !direct && deps.options.events.mentions && message.thread_ts !== undefined && message.thread_ts !== message.ts;
}

async function buildMessage(deps: ListenerDeps, message: SlackMessage, address: SlackAddress, platformMessageId: string, edited: boolean) {
  const { context, directory, identity, options } = deps;
  const userId = message.user!;
  const channel = address.channel;
  const text = message.text ?? '';
  const ids = referencedIds(text);
  // All lookups at once: each gives way after lookupTimeoutMs, so this stays well inside 3 s.
  const [user, conversation, mentionedUsers, mentionedChannels] = await Promise.all([
    directory.user(userId),
    isDirectMessage(channel) ? undefined : directory.conversation(channel),
    Promise.all(ids.users.map((id) => directory.user(id))),
    Promise.all(ids.channels.map((id) => directory.conversation(id))),
  ]);
  const userNames = new Map(ids.users.map((id, index) => [id, nameOf(mentionedUsers[index])]));
  const channelNames = new Map(ids.channels.map((id, index) => [id, mentionedChannels[index]?.name]));
  const rendered = toPlainText(text, {
    user: (id) => userNames.get(id),
    channel: (id) => channelNames.get(id),
    botUserId: identity.userId,
  });
  // An edit changes the text only; its files were forwarded with the original message.
  const files = edited ? { attachments: [], notes: [] } : filesToAttachments(message.files, context.media, options.maxFileBytes);
  return toInboundMessage({
    platformMessageId,
    customer: toCustomer(customerIdOf(address), userId, user),
    text: rendered,
    ...files,
    customAttributes: customAttributesOf({ team: identity.teamId, ...teamName(identity), channel, ...optionalConversation(conversation), userId }),
    ts: message.ts,
    edited,
  });
}

function nameOf(user: SlackUser | undefined): string | undefined {
  return user ? displayNameOf(user) : undefined;
}

function optionalThread(threadTs: string | undefined): { threadTs?: string } {
  return threadTs ? { threadTs } : {};
}

function optionalConversation(conversation: SlackConversation | undefined): { conversation?: SlackConversation } {
  return conversation ? { conversation } : {};
}

function teamName(identity: SlackIdentity): { teamName?: string } {
  return identity.teamName ? { teamName: identity.teamName } : {};
}
