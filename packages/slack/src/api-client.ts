/**
 * The Slack Web API calls the connector makes, on Bolt's WebClient (`@slack/web-api`), plus the
 * two raw HTTP transfers the Web API leaves to the app: uploading bytes to the URL that
 * `files.getUploadURLExternal` hands out, and downloading a customer's file with the bot token.
 *
 * Every failure leaves this module as a Parley error (see `errors.ts`). The WebClient's own
 * retries are off: core's queue retries sends with backoff and honours Retry-After, and an
 * inbound lookup must not sit in a retry loop while Slack waits for its 3-second answer.
 *
 * The bot token travels only in Authorization headers, and only to Slack's own hosts.
 */
import type { Readable } from 'node:stream';
import { webApi } from '@slack/bolt';
import { PermanentError, type Logger } from '@parley/core';
import { Agent, fetch as undiciFetch, request, type Dispatcher } from 'undici';
import { boltLogger } from './bolt-logger.js';
import { slackError, slackHttpError, slackNetworkError, type SlackCall } from './errors.js';
import type {
  AuthTestResult,
  Block,
  CompleteUploadResult,
  PostMessageResult,
  SlackConversation,
  SlackUser,
  UploadUrlResult,
} from './protocol.js';

/** Who the bot token belongs to (`auth.test`). */
export interface SlackIdentity {
  teamId: string;
  teamName?: string;
  /** The bot user: messages from it are the app's own. */
  userId: string;
  userName?: string;
  botId?: string;
}

/** A customer file, opened for streaming to Genesys. */
export interface OpenedFile {
  body: Readable;
  mime?: string;
  sizeBytes?: number;
}

export interface SlackApiOptions {
  /** Web API base URL, ending in `/`. */
  apiUrl: string;
  botToken: string;
  requestTimeoutMs: number;
  logger: Logger;
}

/** The WebClient settings Bolt's App and the Socket Mode client share with this client. */
export type SlackClientOptions = webApi.WebClientOptions;

export interface SlackApi {
  authTest(): Promise<SlackIdentity>;
  postMessage(message: { channel: string; text: string; blocks?: Block[]; threadTs?: string }): Promise<{ channel: string; ts: string }>;
  userInfo(userId: string): Promise<SlackUser>;
  conversationInfo(channelId: string): Promise<SlackConversation>;
  /** The DM channel with `userId` (`conversations.open`; Slack returns the same one every time). */
  openDirectMessage(userId: string): Promise<string>;
  /** Uploads a file with the external-upload flow and shares it in `channel`; returns the file id. */
  uploadFile(file: { channel: string; threadTs?: string; filename: string; title?: string; data: Buffer; comment?: string }): Promise<string>;
  /** Opens a file Slack hosts (`url_private_download`) with the bot token. */
  openFile(url: string): Promise<OpenedFile>;
  /** Options for another WebClient (Bolt's, the Socket Mode client's) that should behave like this one. */
  clientOptions(): SlackClientOptions;
  /** Closes idle connections; waits for requests in flight. A later call opens new ones. */
  close(): Promise<void>;
}

/** Creates the client. Does no I/O until the first call. */
export function createSlackApi(options: SlackApiOptions): SlackApi {
  const apiOrigin = new URL(options.apiUrl).origin;
  // Created on first use and dropped on close, so the client works again after a restart.
  let agent: Agent | undefined;
  const dispatcher = (): Dispatcher => (agent ??= new Agent({ keepAliveTimeout: 30_000 }));
  // The WebClient fetches through our agent, so stop() leaves no keep-alive socket behind.
  const fetchThroughAgent = ((input: string, init?: Record<string, unknown>) =>
    undiciFetch(input, { ...init, dispatcher: dispatcher() } as Parameters<typeof undiciFetch>[1])) as unknown as typeof fetch;
  const sdkLogger = boltLogger(options.logger);
  const shared: SlackClientOptions = {
    slackApiUrl: options.apiUrl,
    logger: sdkLogger,
    fetch: fetchThroughAgent,
    timeout: options.requestTimeoutMs,
  };
  const web = new webApi.WebClient(options.botToken, {
    ...shared,
    retryConfig: { retries: 0 },
    rejectRateLimitedCalls: true,
  });

  async function call<T>(method: Exclude<SlackCall, 'file upload' | 'file download'>, args: Record<string, unknown>): Promise<T> {
    try {
      return (await web.apiCall(method, args)) as T;
    } catch (error) {
      throw slackError(method, error);
    }
  }

  async function transfer(
    name: 'file upload' | 'file download',
    url: string,
    init: { method: 'GET' | 'POST'; headers: Record<string, string>; body?: Buffer },
  ): Promise<Dispatcher.ResponseData> {
    try {
      return await request(url, {
        ...init,
        dispatcher: dispatcher(),
        headersTimeout: options.requestTimeoutMs,
        bodyTimeout: options.requestTimeoutMs,
      });
    } catch (error) {
      throw slackNetworkError(name, error);
    }
  }

  return {
    async authTest() {
      const result = await call<AuthTestResult>('auth.test', {});
      if (!result.team_id || !result.user_id) {
        throw new PermanentError('PLATFORM_REJECTED', 'The Slack token is not a bot token (auth.test names no bot user)');
      }
      return {
        teamId: result.team_id,
        userId: result.user_id,
        ...(result.team ? { teamName: result.team } : {}),
        ...(result.user ? { userName: result.user } : {}),
        ...(result.bot_id ? { botId: result.bot_id } : {}),
      };
    },
    async postMessage(message) {
      const result = await call<PostMessageResult>('chat.postMessage', {
        channel: message.channel,
        text: message.text,
        ...(message.blocks ? { blocks: message.blocks } : {}),
        ...(message.threadTs ? { thread_ts: message.threadTs } : {}),
      });
      return { channel: result.channel, ts: result.ts };
    },
    async userInfo(userId) {
      return (await call<{ user: SlackUser }>('users.info', { user: userId })).user;
    },
    async conversationInfo(channelId) {
      return (await call<{ channel: SlackConversation }>('conversations.info', { channel: channelId })).channel;
    },
    async openDirectMessage(userId) {
      return (await call<{ channel: SlackConversation }>('conversations.open', { users: userId })).channel.id;
    },
    async uploadFile(file) {
      const { upload_url: uploadUrl, file_id: fileId } = await call<UploadUrlResult>('files.getUploadURLExternal', {
        filename: file.filename,
        length: file.data.length,
      });
      // The upload URL is pre-signed: it needs no token, so none is sent.
      const uploaded = await transfer('file upload', uploadUrl, {
        method: 'POST',
        headers: { 'content-type': 'application/octet-stream' },
        body: file.data,
      });
      await uploaded.body.dump();
      if (uploaded.statusCode !== 200) throw slackHttpError('file upload', uploaded.statusCode);
      await call<CompleteUploadResult>('files.completeUploadExternal', {
        files: [{ id: fileId, title: file.title ?? file.filename }],
        channel_id: file.channel,
        ...(file.threadTs ? { thread_ts: file.threadTs } : {}),
        ...(file.comment ? { initial_comment: file.comment } : {}),
      });
      return fileId;
    },
    async openFile(url) {
      const target = parseFileUrl(url, apiOrigin);
      const response = await transfer('file download', target.href, {
        method: 'GET',
        headers: { authorization: `Bearer ${options.botToken}` },
      });
      const status = response.statusCode;
      const type = headerOf(response.headers['content-type']);
      if (status >= 300 && status < 400) {
        await response.body.dump();
        // Slack answers a download it will not serve with a redirect to its sign-in page.
        throw new PermanentError('MEDIA_INVALID', 'Slack would not serve the file (does the app have the files:read scope?)');
      }
      if (status !== 200) {
        await response.body.dump();
        if (status === 404 || status === 410) {
          throw new PermanentError('MEDIA_INVALID', 'The file no longer exists on Slack', { details: { status } });
        }
        throw slackHttpError('file download', status, Number(headerOf(response.headers['retry-after'])));
      }
      if (type?.startsWith('text/html') && !/\.html?$/i.test(target.pathname)) {
        await response.body.dump();
        throw new PermanentError('MEDIA_INVALID', 'Slack served its sign-in page instead of the file (check the files:read scope)');
      }
      const length = Number(headerOf(response.headers['content-length']));
      return {
        body: response.body,
        ...(type ? { mime: type.split(';')[0]!.trim() } : {}),
        ...(Number.isFinite(length) ? { sizeBytes: length } : {}),
      };
    },
    clientOptions: () => ({ ...shared }),
    async close() {
      const closing = agent;
      agent = undefined;
      await closing?.close();
    },
  };
}

/**
 * The bot token may only go to Slack: the Web API's own origin (a proxy or the fake) or Slack's
 * file hosts. A media reference is signed by Parley, so this is defence in depth.
 */
function parseFileUrl(url: string, apiOrigin: string): URL {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new PermanentError('MEDIA_INVALID', 'The file reference is not a URL');
  }
  const slackHost = /(^|\.)slack(-gov)?\.com$/i.test(parsed.hostname) && parsed.protocol === 'https:';
  if (parsed.origin !== apiOrigin && !slackHost) {
    throw new PermanentError('MEDIA_INVALID', `Refusing to send the bot token to ${parsed.host}: not a Slack file host`);
  }
  return parsed;
}

function headerOf(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}
