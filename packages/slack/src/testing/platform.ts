/**
 * A protocol fake of Slack on 127.0.0.1, so the real Bolt client (App, WebClient, Socket Mode
 * client) runs against it unmodified: point `slackApiUrl`/`apiUrl` at `fake.apiUrl`.
 *
 * - Web API at `/api/<method>` (see `platform-web-api.ts`), file upload and download URLs;
 * - Events API: customer actions (`post`, `edit`, `pressButton`) become signed POSTs to the
 *   Request URL (mode `http`) or envelopes over Socket Mode (mode `socket`), retried like Slack;
 * - error injection per method (`failNext`), redelivery of a past event (`redeliver`), and a
 *   low-level `postSigned` for signature tests.
 *
 * @example
 * const slack = await startSlackFake({ mode: 'http' });
 * const ada = slack.addUser({ name: 'ada', firstName: 'Ada', lastName: 'Lovelace' });
 * slack.setRequestUrl(`${parleyUrl}/connectors/help-desk/webhook`);
 * await slack.post({ user: ada.id, channel: slack.openDm(ada.id).id, text: 'Hello' });
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { setMaxListeners } from 'node:events';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import { waitForMatch } from '@parley/testkit';
import type { EventCallback, SlackMessage } from '../protocol.js';
import { FailurePlan, type SlackFailure } from './platform-faults.js';
import { EventSender, SocketModeServer, type Delivery } from './platform-events.js';
import {
  SlackWorkspace,
  type AddChannelInput,
  type FakeConversation,
  type FakeFileInput,
  type FakeMessage,
  type FakeUser,
  type FakeUserProfile,
} from './platform-state.js';
import { webApiRoutes, type ApiCall } from './platform-web-api.js';

export type { AddChannelInput, FakeConversation, FakeFile, FakeFileInput, FakeMessage, FakeUser, FakeUserProfile } from './platform-state.js';
export type { SlackFailure } from './platform-faults.js';
export type { Delivery, DeliveryAttempt } from './platform-events.js';
export type { ApiCall } from './platform-web-api.js';

export interface SlackFakeOptions {
  /** How events reach the app: signed HTTP POSTs to the Request URL, or Socket Mode. Default `http`. */
  mode?: 'http' | 'socket';
  /** Default 0: a free port. */
  port?: number;
  /** Default `127.0.0.1`. */
  host?: string;
  /** Default random `xoxb-…`, `xapp-…` and hex values. */
  botToken?: string;
  appToken?: string;
  signingSecret?: string;
  team?: { id: string; name: string };
  /** How long Slack waits for the app's answer or ack, in ms. Slack: 3000 (the default). */
  ackTimeoutMs?: number;
  /**
   * Pauses before Slack's retries of an unacknowledged event, in ms; the array's length is the
   * number of retries. Slack retries three times (at once, after 1 min, after 5 min); the default
   * [50, 250, 1000] keeps that shape at test speed.
   */
  retryDelaysMs?: number[];
  /** Send the app's own messages back to it as `message` events, as Slack does. Default true. */
  echoBotMessages?: boolean;
}

/** A customer's message as posted, with what became of its events. */
export interface PostedMessage {
  channel: string;
  ts: string;
  /** One per event Slack sent for it (`message`, and `app_mention` when it mentions the app). */
  deliveries: Delivery[];
}

export interface SlackFake {
  /** `http://127.0.0.1:PORT`. */
  readonly url: string;
  /** `<url>/api/`: the connector's `apiUrl` (Bolt's `slackApiUrl`). */
  readonly apiUrl: string;
  readonly mode: 'http' | 'socket';
  readonly botToken: string;
  readonly appToken: string;
  readonly signingSecret: string;
  readonly team: { id: string; name: string };
  /** The app's bot user. */
  readonly bot: { userId: string; botId: string; appId: string; name: string };
  /** Where events and interactivity go in http mode (the app's Request URL). */
  setRequestUrl(url: string): void;
  /** Slack's Request URL check: a signed `url_verification`; true when the challenge came back. */
  verifyRequestUrl(url?: string): Promise<boolean>;
  addUser(profile?: FakeUserProfile): FakeUser;
  /** The DM between a person and the app. */
  openDm(userId: string): FakeConversation;
  /** A channel; the app is a member unless `botMember: false`. */
  addChannel(input: AddChannelInput): FakeConversation;
  archive(channelId: string): void;
  /** A person writes (and shares files); resolves once Slack's events about it were delivered or given up. */
  post(input: { user: string; channel: string; text?: string; threadTs?: string; files?: FakeFileInput[] }): Promise<PostedMessage>;
  /** A person edits a message (`message_changed`). */
  edit(input: { channel: string; ts: string; text: string }): Promise<Delivery | undefined>;
  /** A person presses a button of an app message, found by `value` (or `actionId`). */
  pressButton(input: { user: string; channel: string; messageTs: string; value?: string; actionId?: string }): Promise<Delivery>;
  /** Sends any event (wrapped in an `event_callback` envelope). */
  sendEvent(event: Record<string, unknown>): Promise<Delivery>;
  /** Delivers a past event again, marked as Slack's retry (`X-Slack-Retry-Num`/`retry_attempt` 1). */
  redeliver(eventId?: string): Promise<Delivery>;
  /** Id of the last event sent about a person's action. */
  lastEventId(): string | undefined;
  /** A body posted to the Request URL with full control over the signature headers. */
  postSigned(input: Parameters<EventSender['postSigned']>[0]): Promise<{ status: number; body: string }>;
  /** Every message of a conversation (or of all), people's and the app's. */
  messages(channel?: string): FakeMessage[];
  /** The app's messages, in order. */
  sent(channel?: string): FakeMessage[];
  /** The first app message (past or future) matching `predicate`; rejects after `timeoutMs` (default 5000). */
  waitForSent(predicate: (message: FakeMessage) => boolean, timeoutMs?: number): Promise<FakeMessage>;
  /** Web API calls received, optionally of one method. */
  calls(method?: string): ApiCall[];
  /** Makes the next call(s) of a Web API method (or `upload`, `download`) fail. */
  failNext(failure: SlackFailure): void;
  /** Socket Mode connections. */
  readonly socket: { connections(): number; connectionsEver(): number; requestReconnect(reason?: string): void; dropConnections(): void };
  close(): Promise<void>;
}

/** Starts the Slack fake on 127.0.0.1 (or `host`). */
export async function startSlackFake(options: SlackFakeOptions = {}): Promise<SlackFake> {
  const mode = options.mode ?? 'http';
  const botToken = options.botToken ?? `xoxb-${randomBytes(12).toString('hex')}`;
  const appToken = options.appToken ?? `xapp-${randomBytes(12).toString('hex')}`;
  const signingSecret = options.signingSecret ?? randomBytes(16).toString('hex');
  const team = options.team ?? { id: 'T0PARLEY01', name: 'Parley Test' };
  const bot = { userId: 'U0PARLEYBOT', botId: 'B0PARLEYBOT', appId: 'A0PARLEYAPP', name: 'parley' };
  const workspace = new SlackWorkspace(team, bot);
  const failures = new FailurePlan();
  const socket = new SocketModeServer(bot.appId);
  const calls: ApiCall[] = [];
  // Aborted on close so that retries and waits for acks end at once.
  const closing = new AbortController();
  // Every delivery in flight listens to it: hundreds at a time under load are expected.
  setMaxListeners(0, closing.signal);
  const pending = new Set<Promise<unknown>>();
  const history = new Map<string, EventCallback<object>>();
  let requestUrl: string | undefined;
  let lastEventId: string | undefined;
  let url = '';

  const sender = new EventSender({
    mode,
    signingSecret,
    ackTimeoutMs: options.ackTimeoutMs ?? 3000,
    retryDelaysMs: options.retryDelaysMs ?? [50, 250, 1000],
    requestUrl: () => requestUrl,
    socket,
    signal: closing.signal,
  });

  const track = <T>(promise: Promise<T>): Promise<T> => {
    pending.add(promise);
    void promise.finally(() => pending.delete(promise)).catch(() => undefined);
    return promise;
  };

  const envelope = (event: object, conversation?: FakeConversation): EventCallback<object> => {
    const eventId = `Ev${workspace.nextId('')}${randomBytes(2).toString('hex').toUpperCase()}`;
    const built: EventCallback<object> = {
      token: 'fake-verification-token',
      team_id: team.id,
      api_app_id: bot.appId,
      event,
      type: 'event_callback',
      event_id: eventId,
      event_time: Math.floor(Date.now() / 1000),
      authorizations: [{ enterprise_id: null, team_id: team.id, user_id: bot.userId, is_bot: true }],
      is_ext_shared_channel: conversation?.shared ?? false,
    };
    history.set(eventId, built);
    return built;
  };

  const deliver = (event: object, conversation?: FakeConversation, remember = true): Promise<Delivery> => {
    const built = envelope(event, conversation);
    if (remember) lastEventId = built.event_id;
    return track(sender.deliverEvent(built));
  };

  /** Whether Slack tells the app about messages in `conversation` (it must be a member). */
  const appSees = (conversation: FakeConversation) => conversation.kind === 'im' || conversation.members.has(bot.userId);

  const conversationOrFail = (channel: string): FakeConversation => {
    const conversation = workspace.conversations.get(channel);
    if (!conversation) throw new Error(`The Slack fake has no conversation ${channel}`);
    return conversation;
  };

  const messageEvent = (message: FakeMessage, conversation: FakeConversation): SlackMessage => {
    const user = workspace.users.get(message.user);
    const fromBot = message.botId !== undefined;
    return {
      type: 'message',
      ...(message.files.length > 0 && !fromBot ? { subtype: 'file_share' } : {}),
      channel: message.channel,
      channel_type: conversation.kind,
      user: message.user,
      ...(user?.team_id ? { team: user.team_id } : {}),
      text: message.text,
      ts: message.ts,
      event_ts: message.ts,
      ...(message.threadTs ? { thread_ts: message.threadTs } : {}),
      ...(fromBot ? { bot_id: message.botId, app_id: bot.appId, bot_profile: { id: message.botId, app_id: bot.appId, name: bot.name } } : { client_msg_id: randomUUID() }),
      ...(message.files.length > 0 ? { files: message.files.map((file) => workspace.fileObject(file)) } : {}),
    };
  };

  const onBotMessage = (message: FakeMessage) => {
    if (options.echoBotMessages === false) return;
    const conversation = workspace.conversations.get(message.channel);
    if (conversation && appSees(conversation)) void deliver(messageEvent(message, conversation), conversation, false);
  };

  const app = express();
  app.disable('x-powered-by');
  app.use(webApiRoutes({ workspace, failures, botToken, appToken, socket, baseUrl: () => url, onBotMessage, calls }));
  app.use((_req, res) => void res.status(404).json({ ok: false, error: 'unknown_method' }));

  const server = createServer(app);
  server.on('upgrade', (req, duplex, head) => socket.handleUpgrade(req, duplex, head));
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, options.host ?? '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address() as AddressInfo;
  url = `http://${address.family === 'IPv6' ? `[${address.address}]` : address.address}:${address.port}`;
  let closed: Promise<void> | undefined;

  return {
    url,
    apiUrl: `${url}/api/`,
    mode,
    botToken,
    appToken,
    signingSecret,
    team,
    bot,
    setRequestUrl(value) {
      requestUrl = value;
    },
    async verifyRequestUrl(target) {
      const challenge = randomBytes(16).toString('hex');
      const answer = await sender.postSigned({
        body: JSON.stringify({ token: 'fake-verification-token', challenge, type: 'url_verification' }),
        ...(target ? { url: target } : {}),
      });
      try {
        return answer.status === 200 && (JSON.parse(answer.body) as { challenge?: unknown }).challenge === challenge;
      } catch {
        return false;
      }
    },
    addUser: (profile) => workspace.addUser(profile),
    openDm: (userId) => workspace.openDm(userId),
    addChannel: (input) => workspace.addChannel(input),
    archive(channelId) {
      conversationOrFail(channelId).archived = true;
    },
    async post(input) {
      const conversation = conversationOrFail(input.channel);
      conversation.members.add(input.user);
      const files = (input.files ?? []).map((file) => workspace.addFile(file, input.user, url));
      const message = workspace.addMessage({
        channel: conversation.id,
        ts: workspace.nextTs(),
        user: input.user,
        text: input.text ?? '',
        ...(input.threadTs ? { threadTs: input.threadTs } : {}),
        files,
      });
      if (!appSees(conversation)) return { channel: conversation.id, ts: message.ts, deliveries: [] };
      const event = messageEvent(message, conversation);
      const events: object[] = [event];
      if (conversation.kind !== 'im' && message.text.includes(`<@${bot.userId}`)) {
        const { channel_type: _type, subtype: _subtype, ...mention } = event;
        events.push({ ...mention, type: 'app_mention' });
      }
      const deliveries = await Promise.all(events.map((item) => deliver(item, conversation)));
      return { channel: conversation.id, ts: message.ts, deliveries };
    },
    async edit(input) {
      const conversation = conversationOrFail(input.channel);
      const message = workspace.message(input.channel, input.ts);
      if (!message) throw new Error(`No message ${input.ts} in ${input.channel}`);
      const before = messageEvent(message, conversation);
      const editTs = workspace.nextTs();
      message.text = input.text;
      message.edited = { user: message.user, ts: editTs };
      if (!appSees(conversation)) return undefined;
      const after = { ...messageEvent(message, conversation), edited: message.edited };
      return deliver(
        {
          type: 'message',
          subtype: 'message_changed',
          hidden: true,
          channel: conversation.id,
          channel_type: conversation.kind,
          ts: editTs,
          event_ts: editTs,
          message: after,
          previous_message: before,
        },
        conversation,
      );
    },
    async pressButton(input) {
      const conversation = conversationOrFail(input.channel);
      const message = workspace.message(input.channel, input.messageTs);
      if (!message?.blocks) throw new Error(`No message with buttons at ${input.messageTs} in ${input.channel}`);
      for (const block of message.blocks) {
        if (block.type !== 'actions') continue;
        const element = block.elements.find((candidate) =>
          input.actionId !== undefined ? candidate.action_id === input.actionId : candidate.value === input.value,
        );
        if (!element) continue;
        const user = workspace.users.get(input.user);
        return track(
          sender.deliverInteractive({
            type: 'block_actions',
            user: { id: input.user, username: user?.name, name: user?.name, team_id: user?.team_id ?? team.id },
            api_app_id: bot.appId,
            token: 'fake-verification-token',
            container: {
              type: 'message',
              message_ts: message.ts,
              channel_id: conversation.id,
              is_ephemeral: false,
              ...(message.threadTs ? { thread_ts: message.threadTs } : {}),
            },
            trigger_id: `${Date.now()}.${randomBytes(6).toString('hex')}`,
            team: { id: team.id, domain: 'parley-test' },
            enterprise: null,
            is_enterprise_install: false,
            channel: { id: conversation.id, name: conversation.name ?? 'directmessage' },
            message: {
              type: 'message',
              user: message.user,
              ...(message.botId ? { bot_id: message.botId } : {}),
              text: message.text,
              ts: message.ts,
              ...(message.threadTs ? { thread_ts: message.threadTs } : {}),
              blocks: message.blocks,
            },
            state: { values: {} },
            response_url: `${url}/actions/${randomBytes(8).toString('hex')}`,
            actions: [
              {
                type: 'button',
                action_id: element.action_id,
                block_id: block.block_id ?? '',
                text: element.text,
                ...(element.value !== undefined ? { value: element.value } : {}),
                ...(element.url !== undefined ? { url: element.url } : {}),
                action_ts: workspace.nextTs(),
              },
            ],
          }),
        );
      }
      throw new Error(`No button ${input.actionId ?? input.value} on message ${input.messageTs}`);
    },
    sendEvent: (event) => deliver(event),
    async redeliver(eventId = lastEventId) {
      const past = eventId === undefined ? undefined : history.get(eventId);
      if (!past) throw new Error(`No event ${eventId ?? '(none yet)'} to deliver again`);
      return track(sender.deliverEvent(past, 1));
    },
    lastEventId: () => lastEventId,
    postSigned: (input) => sender.postSigned(input),
    messages: (channel) => workspace.messages(channel),
    sent: (channel) => workspace.messages(channel).filter((message) => message.botId !== undefined),
    waitForSent: (predicate, timeoutMs = 5000) =>
      waitForMatch({
        // The app's own messages only: people's messages are in the same workspace history.
        find: () => workspace.messages().find((message) => message.botId !== undefined && predicate(message)),
        subscribe: (wake) => workspace.onMessage(wake),
        timeoutMs,
        what: 'app message',
      }),
    calls: (method) => calls.filter((call) => method === undefined || call.method === method),
    failNext: (failure) => failures.add(failure),
    socket: {
      connections: () => socket.connections(),
      connectionsEver: () => socket.connectionsEver(),
      requestReconnect: (reason) => socket.requestReconnect(reason),
      dropConnections: () => socket.dropConnections(),
    },
    close() {
      closed ??= (async () => {
        closing.abort();
        socket.close();
        await Promise.allSettled([...pending]);
        await sender.close();
        await new Promise<void>((resolve) => {
          server.close(() => resolve());
          server.closeAllConnections();
        });
      })();
      return closed;
    },
  };
}
