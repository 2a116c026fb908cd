/**
 * The Slack connector: a Slack app as a Genesys Open Messaging channel.
 *
 * Customers (or employees, for an internal help desk) write to the app in a DM, or mention it in
 * a channel; agents answer from Genesys. Events arrive over HTTP (Events API and interactivity,
 * signed) or Socket Mode, through Bolt. Everything Slack-specific sits in small modules beside
 * this one: `options.ts` (what parley.yaml may say), `api-client.ts` (Web API calls and file
 * transfers), `errors.ts` (Slack failures → Parley errors), `inbound.ts` and `outbound.ts` (the
 * two mappings), `mrkdwn.ts` (Slack's text format), `receiver.ts` (HTTP and Socket Mode, with the
 * acknowledgement after the durable enqueue), `listeners.ts` (the Bolt listeners) and
 * `directory.ts` (cached profiles). This file only wires them to the connector contract.
 */
import { App } from '@slack/bolt';
import {
  defineConnector,
  loadSendProgress,
  PermanentError,
  type Connector,
  type ConnectorCapabilities,
  type ConnectorContext,
  type OutboundMessage,
  type SendResult,
} from '@parley/core';
import { createSlackApi, type SlackApi, type SlackIdentity } from './api-client.js';
import { boltLogger } from './bolt-logger.js';
import { createDirectory, type Directory } from './directory.js';
import { addressOf, isDirectMessage, isOwnMessageEvent, orderKeyOf, type SlackAddress } from './inbound.js';
import { registerListeners } from './listeners.js';
import { slackOptionsSchema, type SlackOptions } from './options.js';
import { planOutbound, type OutboundStep } from './outbound.js';
import {
  createDeferredAckReceiver,
  createSocketConnection,
  createWebhookHandler,
  socketModeWebhook,
  type SocketConnection,
} from './receiver.js';
import { createThreadRegistry, type ThreadRegistry } from './threads.js';

/** What a Slack app can show and report (DESIGN §3). Slack has no typing indicator for apps. */
export const slackCapabilities: ConnectorCapabilities = {
  inbound: ['webhook', 'socket'],
  attachments: { inbound: true, outbound: true },
  typing: { inbound: false, outbound: false },
  quickReplies: true,
  cards: true,
  edits: true,
  readReceipts: false,
};

/** Slack's events are small; anything near this is not from Slack. */
const WEBHOOK_BODY_LIMIT_BYTES = 1024 * 1024;

/**
 * The Slack connector definition, loaded by the host with `use: "@parley/connector-slack"`.
 *
 * @example
 * # parley.yaml
 * connectors:
 *   help-desk:
 *     use: "@parley/connector-slack"
 *     integrationId: 0f2d…
 *     webhookSecret: ${GENESYS_WEBHOOK_SECRET}
 *     options:
 *       botToken: ${SLACK_BOT_TOKEN}
 *       signingSecret: ${SLACK_SIGNING_SECRET}   # Request URL: <publicUrl>/connectors/help-desk/webhook
 */
export const slackConnector = defineConnector({
  name: 'slack',
  optionsSchema: slackOptionsSchema,
  capabilities: slackCapabilities,
  create: createSlackConnector,
});

interface Session {
  identity: SlackIdentity;
  socket?: SocketConnection;
}

function createSlackConnector(options: SlackOptions, context: ConnectorContext): Connector {
  const { logger } = context;
  // No I/O here: the clients connect on their first call, Socket Mode on start().
  const api = createSlackApi({
    apiUrl: options.apiUrl,
    botToken: options.botToken,
    requestTimeoutMs: options.requestTimeoutMs,
    logger,
  });
  const directory = createDirectory({
    api,
    store: context.store,
    logger,
    ttlMs: options.profileCacheSeconds * 1000,
    lookupTimeoutMs: options.lookupTimeoutMs,
  });
  const threads = createThreadRegistry(context.store);
  const receiver = createDeferredAckReceiver(logger, (body) => orderKeyOf(body, options.conversations));
  let session: Session | undefined;
  let starting: { generation: number; done: Promise<void> } | undefined;
  let socket: SocketConnection | undefined;
  // Bumped by stop(): a start() still connecting when stop() ran must not come alive afterwards.
  let generation = 0;

  async function connect(startedIn: number): Promise<void> {
    // Checks the bot token before anything else: a wrong token stops the host at start-up with
    // Slack's reason, instead of failing every message later. It also names the app's own user.
    const identity = await api.authTest();
    const app = new App({
      token: options.botToken,
      // Known from auth.test, so Bolt does not call it again per event.
      botUserId: identity.userId,
      botId: identity.botId ?? identity.userId,
      tokenVerificationEnabled: false,
      receiver,
      logger: boltLogger(logger),
      clientOptions: api.clientOptions(),
      convoStore: false,
    });
    // Listener errors reach the receiver, which decides between "Slack, retry" and "skip".
    app.error(async (error) => {
      throw error;
    });
    registerListeners(app, { context, options, identity, directory, threads });
    receiver.skip((body) => isOwnMessageEvent(body, identity));

    if (options.mode === 'socket') {
      socket ??= createSocketConnection({
        appToken: options.appToken!,
        clientOptions: api.clientOptions(),
        boltLogger: boltLogger(logger),
        pingTimeoutMs: options.socketPingTimeoutMs,
        receiver,
        logger,
      });
      await socket.start();
    }
    if (startedIn !== generation) {
      await socket?.stop();
      return;
    }
    session = { identity, ...(socket ? { socket } : {}) };
    logger.info({ team: identity.teamId, botUser: identity.userId, mode: options.mode }, 'Connected to Slack');
  }

  return {
    async start() {
      const mine = generation;
      // A start that a stop() cancelled may still be winding down: let it finish first.
      while (starting && starting.generation !== mine) await starting.done.catch(() => undefined);
      if (session || generation !== mine) return;
      if (!starting) {
        const attempt = { generation: mine, done: connect(mine) };
        const clear = () => {
          if (starting === attempt) starting = undefined;
        };
        attempt.done.then(clear, clear);
        starting = attempt;
      }
      await starting.done;
    },
    async stop() {
      generation += 1;
      session = undefined;
      // Also ends a connection attempt in progress; that start() then resolves without a session.
      await socket?.stop();
      await receiver.idle();
      await api.close();
    },
    send: (message) => sendMessage({ api, directory, threads, context }, message),
    webhook:
      options.mode === 'http'
        ? createWebhookHandler({
            receiver,
            signingSecret: options.signingSecret!,
            bodyLimitBytes: WEBHOOK_BODY_LIMIT_BYTES,
            ready: () => session !== undefined,
            logger,
          })
        : socketModeWebhook,
    // The token stays here: Genesys fetches the file through Parley's signed media URL.
    openMedia: (url) => api.openFile(url),
    readiness() {
      if (!session) return { ready: false, detail: 'Not connected to Slack' };
      return session.socket?.status() ?? { ready: true };
    },
  };
}

interface SendDeps {
  api: SlackApi;
  directory: Directory;
  threads: ThreadRegistry;
  context: ConnectorContext;
}

/**
 * Posts the Slack messages that make up one agent message. A delivery may be retried after a part
 * went out (a 429 on the third of four parts), so the ids already sent are kept in the store and
 * a retry resumes after them: the customer never sees a part twice.
 */
async function sendMessage(deps: SendDeps, message: OutboundMessage): Promise<SendResult> {
  const { context } = deps;
  const address = addressOrFail(message.to);
  const steps = planOutbound(message);
  if (steps.length === 0) {
    throw new PermanentError('PAYLOAD_INVALID', 'The message has no text, file or buttons to show', {
      reasonCode: 'InvalidMessageStructure',
    });
  }
  // A user id as the address: the agent writes first, to that person's DM.
  const channel = /^[UW]/.test(address.channel) ? await deps.directory.directMessageChannel(address.channel) : address.channel;
  if (address.threadTs && !isDirectMessage(channel)) {
    // The customer's replies in this thread now reach the agent without a mention.
    await deps.threads.markActive(channel, address.threadTs);
  }
  const progress = await loadSendProgress(context.store, message.id, steps.length);
  for (const step of steps.slice(progress.sent.length)) {
    await progress.record(await sendStep(deps, channel, address, step));
  }
  return progress.result();
}

async function sendStep(deps: SendDeps, channel: string, address: SlackAddress, step: OutboundStep): Promise<string> {
  const thread = address.threadTs ? { threadTs: address.threadTs } : {};
  if (step.kind === 'message') {
    const posted = await deps.api.postMessage({ channel, text: step.text, ...thread, ...(step.blocks ? { blocks: step.blocks } : {}) });
    return `${posted.channel}:${posted.ts}`;
  }
  const file = await deps.context.downloadAttachment(step.attachment);
  const fileId = await deps.api.uploadFile({
    channel,
    ...thread,
    filename: file.filename,
    data: file.data,
    ...(step.comment ? { comment: step.comment } : {}),
  });
  return `file:${fileId}`;
}

function addressOrFail(customerId: string): SlackAddress {
  const address = addressOf(customerId);
  if (!address) {
    throw new PermanentError('PAYLOAD_INVALID', `"${customerId}" is not a Slack customer id (slack:<team>:<channel>[:<thread>])`, {
      reasonCode: 'InvalidDestination',
    });
  }
  return address;
}

