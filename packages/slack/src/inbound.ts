/**
 * Slack events → Parley inbound events. Pure functions: no I/O, so every mapping rule is visible
 * in one place and testable on its own. `listeners.ts` gathers what they need (profiles, channel
 * names) and hands the result to core.
 */
import { markEdited, mediaTypeOf } from '@parley/core';
import type {
  Customer,
  InboundAttachment,
  InboundButtonResponse,
  InboundMessage,
  MediaPublisher,
} from '@parley/core';
import type { ConversationPolicy, EventRules } from './options.js';
import type { BlockActionsPayload, SlackConversation, SlackFile, SlackMessage, SlackUser } from './protocol.js';

/** Where a Genesys conversation lives in Slack: a DM or channel, and a thread per policy. */
export interface SlackAddress {
  team: string;
  channel: string;
  threadTs?: string;
}

/**
 * Customer ids are `slack:<team>:<channel>[:<thread_ts>]` (DESIGN §4): the Genesys reply's
 * `channel.to.id` routes back to the DM, channel or thread with no lookup, and survives a lost
 * store. `<channel>` may also be a user id (U…/W…): the agent then writes to that person's DM.
 */
const CUSTOMER_ID = /^slack:([A-Z0-9]+):([A-Z0-9]+)(?::(\d+\.\d+))?$/;

/** The Genesys customer id (`channel.from.id`) of a Slack address. */
export function customerIdOf(address: SlackAddress): string {
  return `slack:${address.team}:${address.channel}${address.threadTs ? `:${address.threadTs}` : ''}`;
}

/** The address of a customer id, or undefined when the id was not made by this connector. */
export function addressOf(customerId: string): SlackAddress | undefined {
  const match = CUSTOMER_ID.exec(customerId);
  if (!match) return undefined;
  const [, team, channel, threadTs] = match;
  return { team: team!, channel: channel!, ...(threadTs ? { threadTs } : {}) };
}

/** DM channel ids start with D; `channel_type` says so too where Slack sends it. */
export function isDirectMessage(channel: string, channelType?: string): boolean {
  return channelType === 'im' || channelType === 'app_home' || channel.startsWith('D');
}

/** The conversation a message belongs to under `policy` (see the `conversations` option). */
export function conversationOf(
  message: { team: string; channel: string; ts: string; threadTs?: string; direct: boolean },
  policy: ConversationPolicy,
): SlackAddress {
  const base = { team: message.team, channel: message.channel };
  const perThread = message.direct ? policy.directMessages === 'thread' : policy.channels === 'thread';
  // A top-level message starts a thread of its own: its ts becomes the thread's id.
  return perThread ? { ...base, threadTs: message.threadTs ?? message.ts } : base;
}

/**
 * The conversation an Events API or interactivity body is about, as `<channel>[:<thread_ts>]`
 * under `policy`; undefined for bodies about no message (they need no order). Read from the raw
 * body, before Bolt, so events can be put in order as they arrive: a message, an edit (by the
 * edited message's place) and a button press (by the message that holds the button).
 */
export function orderKeyOf(body: Record<string, unknown>, policy: ConversationPolicy): string | undefined {
  const place = placeOf(body);
  if (!place) return undefined;
  const address = conversationOf({ team: '', ...place, direct: isDirectMessage(place.channel, place.channelType) }, policy);
  return address.threadTs ? `${address.channel}:${address.threadTs}` : address.channel;
}

function placeOf(body: Record<string, unknown>): { channel: string; ts: string; threadTs?: string; channelType?: string } | undefined {
  if (body['type'] === 'event_callback') {
    const event = body['event'] as Partial<SlackMessage> | undefined;
    const message = event?.subtype === 'message_changed' ? event.message : event;
    if (!event?.channel || !message?.ts) return undefined;
    return {
      channel: event.channel,
      ts: message.ts,
      ...(message.thread_ts ? { threadTs: message.thread_ts } : {}),
      ...(event.channel_type ? { channelType: event.channel_type } : {}),
    };
  }
  if (body['type'] === 'block_actions') {
    const payload = body as unknown as BlockActionsPayload;
    const channel = payload.channel?.id ?? payload.container?.channel_id;
    const ts = payload.message?.ts ?? payload.container?.message_ts;
    const threadTs = payload.message?.thread_ts ?? payload.container?.thread_ts;
    if (!channel || !ts) return undefined;
    return { channel, ts, ...(threadTs ? { threadTs } : {}) };
  }
  return undefined;
}

/**
 * The platform message id: a message's ts is unique within its channel and stable across Slack's
 * retries and across the two events (`message` and `app_mention`) of one message.
 */
export function platformMessageIdOf(channel: string, ts: string): string {
  return `${channel}:${ts}`;
}

/** An edit gets an id of its own (the edit's ts), so each edit reaches Genesys once. */
export function editIdOf(channel: string, ts: string, editTs: string): string {
  return `${channel}:${ts}:edit:${editTs}`;
}

/** Subtypes that are a person writing; everything else (joins, topic changes, deletions…) is not. */
const WRITTEN_SUBTYPES = new Set([undefined, 'file_share', 'thread_broadcast', 'me_message']);

/** Whether a message event is a person writing (not a system notice, not a bot). */
export function isCustomerWriting(message: SlackMessage, botUserId: string): boolean {
  if (!WRITTEN_SUBTYPES.has(message.subtype)) return false;
  return !isFromBot(message, botUserId);
}

/** The app's own messages and other bots' messages are never bridged. */
export function isFromBot(message: SlackMessage, botUserId: string): boolean {
  return (
    message.bot_id !== undefined ||
    message.bot_profile !== undefined ||
    message.subtype === 'bot_message' ||
    message.user === undefined ||
    message.user === botUserId
  );
}

/**
 * Whether an Events API body is Slack telling the app about a message the app itself posted.
 * Slack sends one for every agent message (in DMs and channels the app is in); recognising it
 * before Bolt runs saves Bolt's per-event work on half of the events an agent conversation makes.
 */
export function isOwnMessageEvent(body: Record<string, unknown>, app: { userId: string; botId?: string }): boolean {
  if (body['type'] !== 'event_callback') return false;
  const event = body['event'] as Partial<SlackMessage> | undefined;
  if (event?.type !== 'message' || (event.subtype !== undefined && event.subtype !== 'bot_message')) return false;
  return event.user === app.userId || (app.botId !== undefined && event.bot_id === app.botId);
}

/** Why a message is bridged; undefined: it is not. */
export type BridgeReason = 'direct-message' | 'mention' | 'listed-channel' | 'thread-reply';

/**
 * Applies the `events` option. `inActiveThread` says whether the message replies in a thread
 * that is already a Genesys conversation (started by a mention, or by the agent).
 */
export function bridgeReason(
  message: { channel: string; direct: boolean; text?: string; threadTs?: string; isMentionEvent: boolean },
  rules: EventRules,
  context: { botUserId: string; inActiveThread: boolean },
): BridgeReason | undefined {
  if (message.direct) return rules.directMessages ? 'direct-message' : undefined;
  if (rules.channels.includes(message.channel)) return 'listed-channel';
  if (rules.mentions && (message.isMentionEvent || mentions(message.text, context.botUserId))) return 'mention';
  if (rules.mentions && message.threadTs !== undefined && context.inActiveThread) return 'thread-reply';
  return undefined;
}

function mentions(text: string | undefined, userId: string): boolean {
  return text !== undefined && (text.includes(`<@${userId}>`) || text.includes(`<@${userId}|`));
}

/** How Slack shows a person: the display name, else the full name, else the handle. */
export function displayNameOf(user: SlackUser): string {
  return user.profile?.display_name || user.profile?.real_name || user.real_name || user.name || user.id;
}

/** The customer as Genesys sees them: the routing id plus the Slack profile. */
export function toCustomer(customerId: string, userId: string, user: SlackUser | undefined): Customer {
  const profile = user?.profile ?? {};
  const realName = profile.real_name || user?.real_name || '';
  const [first, ...rest] = realName.split(/\s+/).filter(Boolean);
  const firstName = profile.first_name || first;
  const lastName = profile.last_name || (rest.length > 0 ? rest.join(' ') : undefined);
  return {
    id: customerId,
    nickname: user ? displayNameOf(user) : userId,
    ...(firstName ? { firstName } : {}),
    ...(lastName ? { lastName } : {}),
    ...(profile.email ? { email: profile.email } : {}),
    ...(profile.image_72 ? { image: profile.image_72 } : {}),
  };
}

/** What Genesys may show about where the customer wrote (participant data). */
export function customAttributesOf(input: {
  team: string;
  teamName?: string;
  channel: string;
  conversation?: SlackConversation;
  userId: string;
}): Record<string, string> {
  return {
    slackTeamId: input.team,
    ...(input.teamName ? { slackTeamName: input.teamName } : {}),
    slackChannelId: input.channel,
    ...(input.conversation?.name ? { slackChannelName: input.conversation.name } : {}),
    ...(input.conversation?.is_ext_shared ? { slackConnect: 'true' } : {}),
    slackUserId: input.userId,
  };
}

/**
 * The customer's files as Parley media URLs: Slack's `url_private_download` needs the bot token,
 * so Genesys fetches the file from a signed, expiring Parley URL that `openMedia` serves.
 * Files Parley cannot forward (too large, deleted, details withheld) come back as notes for the
 * agent instead.
 */
export function filesToAttachments(
  files: SlackFile[] | undefined,
  media: MediaPublisher,
  maxBytes: number,
): { attachments: InboundAttachment[]; notes: string[] } {
  const attachments: InboundAttachment[] = [];
  const notes: string[] = [];
  for (const file of files ?? []) {
    const name = file.name ?? file.title ?? file.id;
    const url = file.url_private_download ?? file.url_private;
    if (!url || file.mode === 'tombstone' || file.mode === 'external') {
      notes.push(`[The customer shared a file that cannot be forwarded: ${name}]`);
      continue;
    }
    if (file.size !== undefined && file.size > maxBytes) {
      notes.push(`[The customer shared a file too large to forward (${Math.ceil(file.size / 1048576)} MB): ${name}]`);
      continue;
    }
    const mime = file.mimetype || 'application/octet-stream';
    attachments.push({
      mediaType: mediaTypeOf(mime),
      url: media.url(url, { mime, filename: name }),
      mime,
      filename: name,
      ...(file.size !== undefined ? { sizeBytes: file.size } : {}),
    });
  }
  return { attachments, notes };
}


/**
 * A customer message. `text` is already rendered (see `mrkdwn.ts`). Returns undefined for a
 * message with neither text nor file (nothing to forward).
 */
export function toInboundMessage(input: {
  platformMessageId: string;
  customer: Customer;
  text: string;
  attachments: InboundAttachment[];
  notes: string[];
  customAttributes: Record<string, string>;
  ts: string;
  edited?: boolean;
}): InboundMessage | undefined {
  const body = [input.text, ...input.notes].filter((part) => part.length > 0).join('\n');
  if (!body && input.attachments.length === 0) return undefined;
  // An edit of a file share without text is still marked, or it would read as a new message.
  const text = input.edited ? markEdited(body) : body;
  return {
    kind: 'message',
    platformMessageId: input.platformMessageId,
    customer: input.customer,
    ...(text ? { text } : {}),
    ...(input.attachments.length > 0 ? { attachments: input.attachments } : {}),
    customAttributes: input.customAttributes,
    time: timeOf(input.ts),
  };
}

/** Slack's ts is Unix seconds with microseconds: `1700000000.000100`. */
export function timeOf(ts: string): Date {
  const seconds = Number(ts);
  return Number.isFinite(seconds) ? new Date(Math.round(seconds * 1000)) : new Date();
}

/** Which Genesys message a Block Kit button came from: kept in the button's `block_id`. */
export interface ButtonOrigin {
  genesysMessageId: string;
  type: 'QuickReply' | 'Button';
}

const BLOCK_ID_PREFIX = 'parley';
const ORIGIN_CODES = { QuickReply: 'qr', Button: 'btn' } as const;

/**
 * The `block_id` of an actions block with Genesys buttons. Carrying the origin in the message
 * itself means a press maps to its Genesys message with no store lookup, even months later.
 * Block ids must be unique within a message, hence `index`.
 */
export function buttonBlockId(origin: ButtonOrigin, index: number): string {
  return `${BLOCK_ID_PREFIX}|${ORIGIN_CODES[origin.type]}|${origin.genesysMessageId}|${index}`;
}

/** Reads a {@link buttonBlockId}; undefined for blocks Parley did not send. */
export function buttonOriginOf(blockId: string): ButtonOrigin | undefined {
  const [prefix, code, genesysMessageId] = blockId.split('|');
  if (prefix !== BLOCK_ID_PREFIX || !genesysMessageId) return undefined;
  if (code === ORIGIN_CODES.QuickReply) return { genesysMessageId, type: 'QuickReply' };
  if (code === ORIGIN_CODES.Button) return { genesysMessageId, type: 'Button' };
  return undefined;
}

/**
 * A press of a Genesys button (quick reply or card postback) → a Genesys structured response.
 * Returns undefined for presses Parley has nothing to say about: link buttons (Slack reports
 * those too) and buttons of other apps' blocks.
 */
export function blockActionToInbound(
  payload: BlockActionsPayload,
  customer: Customer,
  customAttributes: Record<string, string>,
): InboundButtonResponse | undefined {
  const action = payload.actions[0];
  if (!action || action.url !== undefined || action.value === undefined) return undefined;
  const origin = buttonOriginOf(action.block_id);
  if (!origin) return undefined;
  const channel = payload.channel?.id ?? payload.container?.channel_id ?? '';
  return {
    kind: 'button-response',
    // action_ts is unique per press and the same when Slack delivers the press again.
    platformMessageId: `action:${channel}:${action.action_ts}`,
    customer,
    originatingMessageId: origin.genesysMessageId,
    type: origin.type,
    text: action.text?.text ?? action.value,
    payload: action.value,
    customAttributes,
    time: timeOf(action.action_ts),
  };
}
