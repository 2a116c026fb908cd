/**
 * The Discord REST calls the connector makes, through the REST manager of the running discord.js
 * client (it owns the token, the rate-limit buckets and the 429 waits). Every failure leaves here
 * as a Parley error (see `errors.ts`), so callers never interpret Discord errors themselves.
 */
import { Readable } from 'node:stream';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import type { DownloadedMedia, KeyValueStore, MediaContent } from '@parley/core';
import { PermanentError, RetryableError } from '@parley/core';
import {
  RESTJSONErrorCodes,
  Routes,
  DiscordAPIError,
  type APIChannel,
  type APIMessage,
  type Client,
  type Message,
  type RESTPostAPIChannelMessageJSONBody,
} from 'discord.js';
import { compareSnowflakes } from './addresses.js';
import { discordError, networkError, type ApiCall } from './errors.js';

/** The most messages one history request returns. */
export const HISTORY_PAGE_SIZE = 100;
const DAY_MS = 24 * 60 * 60 * 1000;

export interface DiscordApi {
  /** Posts a message (with one uploaded file when `file` is given). */
  sendMessage(channelId: string, body: RESTPostAPIChannelMessageJSONBody, file?: DownloadedMedia): Promise<APIMessage>;
  sendTyping(channelId: string): Promise<void>;
  /** The DM channel with `userId`, opened when needed and remembered. */
  dmChannelOf(userId: string): Promise<string>;
  /** Remembers a DM channel seen on a customer message, saving a request later. */
  rememberDmChannel(userId: string, channelId: string): void;
  /** Up to {@link HISTORY_PAGE_SIZE} messages after `afterId`, oldest first. */
  messagesAfter(channelId: string, afterId: string): Promise<Message[]>;
  /** The channel a thread belongs to, asked of Discord (for a thread the cache does not know). */
  parentOf(threadId: string): Promise<string | undefined>;
  /** Opens a thread on a message; returns the thread id (also when one already existed). */
  startThread(channelId: string, messageId: string, name: string, autoArchiveMinutes: number): Promise<string>;
  /** Streams a file of a message with a fresh CDN link (Discord's links expire). */
  openAttachment(channelId: string, messageId: string, attachmentId: string): Promise<MediaContent>;
}

/** Creates the REST calls over whichever client is connected (none between runs). */
export function createDiscordApi(options: { client: () => Client | undefined; store: KeyValueStore }): DiscordApi {
  const { store } = options;
  const dmChannels = new Map<string, string>();
  const dmKey = (userId: string) => `dm-channel:${userId}`;

  function client(): Client {
    const current = options.client();
    if (!current) throw new RetryableError('PLATFORM_UNAVAILABLE', 'The Discord connector is not connected');
    return current;
  }

  async function call<T>(name: ApiCall, run: (client: Client) => Promise<T>): Promise<T> {
    const current = client();
    try {
      return await run(current);
    } catch (error) {
      throw discordError(name, error);
    }
  }

  return {
    sendMessage: (channelId, body, file) =>
      call('send', async (current) => {
        const files = file ? [{ name: file.filename, data: file.data, contentType: file.mime }] : undefined;
        return (await current.rest.post(Routes.channelMessages(channelId), { body, ...(files ? { files } : {}) })) as APIMessage;
      }),

    sendTyping: (channelId) =>
      call('typing', async (current) => {
        await current.rest.post(Routes.channelTyping(channelId));
      }),

    async dmChannelOf(userId) {
      const known = dmChannels.get(userId) ?? (await store.get(dmKey(userId)));
      if (known) {
        dmChannels.set(userId, known);
        return known;
      }
      const channel = await call('open-dm', async (current) =>
        (await current.rest.post(Routes.userChannels(), { body: { recipient_id: userId } })) as APIChannel,
      );
      dmChannels.set(userId, channel.id);
      // A DM channel never changes; keeping it saves a request per customer after every restart.
      await store.set(dmKey(userId), channel.id, { ttlMs: 30 * DAY_MS });
      return channel.id;
    },

    rememberDmChannel(userId, channelId) {
      dmChannels.set(userId, channelId);
    },

    messagesAfter: (channelId, afterId) =>
      call('history', async (current) => {
        // Fetched afresh: its last message id tells whether there is anything to read at all, which
        // spares most tracked channels a history request after a restart.
        const channel = await current.channels.fetch(channelId, { force: true });
        if (!channel?.isTextBased() || !('messages' in channel)) return [];
        const lastId = 'lastMessageId' in channel ? channel.lastMessageId : null;
        if (lastId && compareSnowflakes(lastId, afterId) <= 0) return [];
        const page = await channel.messages.fetch({ after: afterId, limit: HISTORY_PAGE_SIZE, cache: false });
        // Discord lists newest first; catch-up forwards in the order the customer wrote.
        return [...page.values()].sort((a, b) => compareSnowflakes(a.id, b.id));
      }),

    parentOf: (threadId) =>
      call('channel', async (current) => {
        const thread = await current.channels.fetch(threadId, { force: true });
        return (thread?.isThread() ? thread.parentId : null) ?? undefined;
      }),

    async startThread(channelId, messageId, name, autoArchiveMinutes) {
      try {
        const thread = (await client().rest.post(Routes.threads(channelId, messageId), {
          body: { name, auto_archive_duration: autoArchiveMinutes },
        })) as APIChannel;
        return thread.id;
      } catch (error) {
        // A thread started from a message has the message's id: a retry finds it again.
        if (error instanceof DiscordAPIError && error.code === RESTJSONErrorCodes.ThreadAlreadyCreatedForMessage) {
          return messageId;
        }
        throw discordError('thread', error);
      }
    },

    async openAttachment(channelId, messageId, attachmentId) {
      const message = await call('file', async (current) =>
        (await current.rest.get(Routes.channelMessage(channelId, messageId))) as APIMessage,
      );
      const attachment = message.attachments.find((candidate) => candidate.id === attachmentId);
      if (!attachment) throw new PermanentError('MEDIA_INVALID', 'The file was removed from the Discord message');
      let response: Response;
      try {
        // CDN links are signed in their query string: no Authorization header, no token.
        response = await fetch(attachment.url);
      } catch (error) {
        throw networkError('file', error);
      }
      if (!response.ok || !response.body) {
        await response.body?.cancel();
        if (response.status === 404 || response.status === 403) {
          throw new PermanentError('MEDIA_INVALID', 'The file is no longer available on Discord');
        }
        throw new RetryableError('PLATFORM_UNAVAILABLE', `Discord's file server answered HTTP ${response.status}`);
      }
      const length = Number(response.headers.get('content-length'));
      const mime = (response.headers.get('content-type') ?? attachment.content_type)?.split(';')[0]?.trim();
      return {
        body: Readable.fromWeb(response.body as WebReadableStream<Uint8Array>),
        ...(mime ? { mime } : {}),
        ...(Number.isFinite(length) && length > 0 ? { sizeBytes: length } : { sizeBytes: attachment.size }),
        filename: attachment.filename,
      };
    },
  };
}
