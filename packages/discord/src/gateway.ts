/**
 * The gateway connection: one discord.js `Client` per run, logged in on `start()`, kept alive by
 * discord.js (heartbeats, RESUME after a drop, a new IDENTIFY when the session is lost) and
 * destroyed on `stop()`.
 *
 * What this module adds to discord.js:
 * - fatal refusals (a bad token, a privileged intent not enabled: close code 4014) fail `start()`
 *   with an error that says what to fix; a Discord that cannot be reached is retried with backoff;
 * - `sessionStarted` on every gateway READY, i.e. every new session, after which events missed
 *   between sessions must be fetched from the channel history (a RESUME replays them instead);
 * - a shutdown that leaves no reconnect behind (see `destroyClient`).
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from '@parley/core';
import { ParleyError } from '@parley/core';
import {
  Client,
  DiscordjsErrorCodes,
  Events,
  GatewayCloseCodes,
  GatewayDispatchEvents,
  GatewayIntentBits,
  Partials,
  type ClientOptions,
  type Interaction,
  type Message,
  type OmitPartialGroupDMChannel,
  type PartialMessage,
  type Typing,
} from 'discord.js';
import type { DiscordOptions } from './options.js';

/** What the connector does with gateway events. Handlers must not throw. */
export interface GatewayHandlers {
  messageCreate(message: OmitPartialGroupDMChannel<Message>): void;
  messageUpdate(
    previous: OmitPartialGroupDMChannel<Message | PartialMessage>,
    current: OmitPartialGroupDMChannel<Message>,
  ): void;
  typingStart(typing: Typing): void;
  interactionCreate(interaction: Interaction): void;
  /** A new gateway session began (READY): events between the previous one and now were not delivered. */
  sessionStarted(): void;
  /** The client's caches are filled (after READY and the guilds): a good time for catch-up. */
  ready(client: Client): void;
}

export interface DiscordGateway {
  /** Logs in; rejects on a refusal no retry can fix, resolves otherwise (retrying in the background). */
  start(): Promise<void>;
  /** Destroys the client; idempotent. */
  stop(): Promise<void>;
  /** The client of the current run, for REST calls; undefined while stopped. */
  client(): Client | undefined;
  status(): { ready: boolean; detail?: string };
}

/** Close codes after which discord.js gives up, with what an operator must do. */
const FATAL_CLOSE_CODES = new Map<number, string>([
  [GatewayCloseCodes.AuthenticationFailed, 'Discord rejected the bot token (close code 4004): check the token option'],
  [
    GatewayCloseCodes.DisallowedIntents,
    'Discord refused a privileged gateway intent (close code 4014). Open the Discord Developer Portal ' +
      '(https://discord.com/developers/applications), select the application, go to Bot → Privileged Gateway ' +
      'Intents, enable "Message Content Intent" and save, then restart Parley. (Serving only direct messages ' +
      'does not need it: leave guildIds, channelIds and supportChannelIds empty.)',
  ],
  [GatewayCloseCodes.InvalidIntents, 'Discord refused the gateway intents as invalid (close code 4013)'],
  [GatewayCloseCodes.InvalidShard, 'Discord refused the shard (close code 4010)'],
  [GatewayCloseCodes.ShardingRequired, 'Discord requires sharding for this bot (close code 4011); Parley runs one shard'],
  [GatewayCloseCodes.InvalidAPIVersion, 'Discord refused the gateway API version (close code 4012)'],
]);

/** The gateway intents the options need. Message Content is privileged: asked for only when server channels are served. */
export function intentsFor(options: DiscordOptions): number {
  const servesGuilds =
    options.guildIds.length > 0 || options.channelIds.length > 0 || options.supportChannelIds.length > 0;
  let intents = GatewayIntentBits.Guilds | GatewayIntentBits.DirectMessages;
  if (servesGuilds) intents |= GatewayIntentBits.GuildMessages | GatewayIntentBits.MessageContent;
  if (options.typingIndicators) {
    intents |= GatewayIntentBits.DirectMessageTyping;
    if (servesGuilds) intents |= GatewayIntentBits.GuildMessageTyping;
  }
  return intents;
}

export function createDiscordGateway(options: DiscordOptions, handlers: GatewayHandlers, logger: Logger): DiscordGateway {
  let current: Client | undefined;
  let running = false;
  let retry: NodeJS.Timeout | undefined;
  let failures = 0;
  let state: { ready: boolean; detail?: string } = { ready: false, detail: 'not connected yet' };
  let fatalCloseCode: number | undefined;
  // Shared by the clients of successive runs: Discord counts IDENTIFYs per bot, not per client.
  let lastIdentifyAt = 0;
  let stopSignal = new AbortController();

  const scrub = (text: string) => text.split(options.token).join('[redacted]');

  function buildClient(): Client {
    const clientOptions: ClientOptions = {
      intents: intentsFor(options),
      // DMs arrive in channels the client has never seen; edits for messages it has not cached.
      partials: [Partials.Channel, Partials.Message, Partials.User],
      rest: {
        api: options.apiUrl,
        timeout: options.requestTimeoutMs,
        globalRequestsPerSecond: options.globalRequestsPerSecond,
        // Short waits are taken in place; a long one fails the call so the queue retries it later.
        rejectOnRateLimit: (limit) => limit.retryAfter > options.rateLimitMaxWaitMs,
        // @discordjs/rest's own undici 6 sends through the process-wide dispatcher, which is undici 7's
        // once @parley/core has loaded; that one cannot send undici 6's multipart bodies ("action is
        // not a function"), so every file upload failed. Node's fetch builds the body itself.
        makeRequest: (url, init) => fetch(url, init as RequestInit),
      },
      ws: {
        buildIdentifyThrottler: () => ({
          async waitForIdentify(_shardId: number, signal: AbortSignal) {
            const waitMs = lastIdentifyAt + options.identifyIntervalMs - Date.now();
            if (waitMs > 0) await sleep(waitMs, undefined, { signal });
            lastIdentifyAt = Date.now();
          },
        }),
      },
      allowedMentions: { parse: [] },
    };
    const client = new Client(clientOptions);
    client.on(Events.MessageCreate, (message) => handlers.messageCreate(message));
    client.on(Events.MessageUpdate, (previous, next) => handlers.messageUpdate(previous, next));
    client.on(Events.TypingStart, (typing) => handlers.typingStart(typing));
    client.on(Events.InteractionCreate, (interaction) => handlers.interactionCreate(interaction));
    client.on(Events.Raw, (packet: { t?: string | null }) => {
      // Raw packets come before discord.js handles them, so this runs before the new session's events.
      if (packet.t === GatewayDispatchEvents.Ready) handlers.sessionStarted();
    });
    client.on(Events.ShardReady, () => {
      state = { ready: true };
      handlers.ready(client);
    });
    client.on(Events.ShardResume, (_shardId, replayed) => {
      state = { ready: true };
      logger.info({ replayedEvents: replayed }, 'Discord gateway session resumed');
    });
    client.on(Events.ShardReconnecting, () => {
      if (!running) return;
      state = { ready: false, detail: 'reconnecting to the Discord gateway' };
      logger.info('Discord gateway connection lost; reconnecting');
    });
    client.on(Events.ShardDisconnect, (event) => {
      fatalCloseCode = event.code;
      const detail = FATAL_CLOSE_CODES.get(event.code) ?? `Discord closed the gateway for good (close code ${event.code})`;
      state = { ready: false, detail };
      // During login the refusal fails start(); afterwards only the log and /readyz can tell.
      if (running && current === client && client.readyTimestamp !== null) logger.error({ closeCode: event.code }, detail);
    });
    client.on(Events.ShardError, (error) => logger.warn({ err: error }, 'Discord gateway connection error'));
    client.on(Events.Warn, (message) => logger.warn(scrub(message)));
    client.on(Events.Error, (error) => logger.error({ err: error }, 'discord.js reported an error'));
    client.on(Events.Debug, (message) => logger.trace(scrub(message)));
    return client;
  }

  /** One login attempt; a transient failure schedules the next one. */
  async function connect(): Promise<void> {
    const client = buildClient();
    current = client;
    fatalCloseCode = undefined;
    const ready = new Promise<void>((resolve) => client.once(Events.ClientReady, () => resolve()));
    try {
      await Promise.race([
        client.login(options.token).then(() => ready),
        new Promise<never>((_, reject) => {
          const signal = stopSignal.signal;
          const abort = () => reject(new ParleyError('SHUTDOWN', 'Stopped while logging in to Discord'));
          if (signal.aborted) abort();
          else signal.addEventListener('abort', abort, { once: true });
        }),
      ]);
      failures = 0;
      state = { ready: true };
      logger.info({ bot: client.user?.tag }, 'Connected to the Discord gateway');
    } catch (error) {
      if (current === client) current = undefined;
      // login() destroys the client itself when it fails; stop() destroys it otherwise.
      if (!running) return;
      const fatal = fatalError(error);
      if (fatal) {
        running = false;
        state = { ready: false, detail: fatal.message };
        throw fatal;
      }
      failures += 1;
      const delayMs = backoff(failures, options.retryMinMs, Math.max(options.retryMinMs, options.retryMaxMs));
      state = { ready: false, detail: `Discord login failed: ${scrub(errorMessage(error))}` };
      logger.warn({ err: new Error(scrub(errorMessage(error))), failures, delayMs }, 'Could not log in to Discord; trying again');
      retry = setTimeout(() => {
        retry = undefined;
        connect().catch((fatalOnRetry: unknown) => logger.error({ err: fatalOnRetry }, 'Discord refused the login for good'));
      }, delayMs);
    }
  }

  function fatalError(error: unknown): ParleyError | undefined {
    const closeMessage = fatalCloseCode === undefined ? undefined : FATAL_CLOSE_CODES.get(fatalCloseCode);
    if (closeMessage) return new ParleyError('PLATFORM_REJECTED', closeMessage, { details: { closeCode: fatalCloseCode } });
    const code = (error as { code?: unknown } | null)?.code;
    if (code === DiscordjsErrorCodes.TokenInvalid || code === DiscordjsErrorCodes.TokenMissing) {
      return new ParleyError('PLATFORM_REJECTED', 'Discord rejected the bot token: check the token option');
    }
    if (code === DiscordjsErrorCodes.DisallowedIntents) {
      return new ParleyError('PLATFORM_REJECTED', FATAL_CLOSE_CODES.get(GatewayCloseCodes.DisallowedIntents)!);
    }
    return undefined;
  }

  return {
    async start() {
      if (running) return;
      running = true;
      stopSignal = new AbortController();
      state = { ready: false, detail: 'connecting to the Discord gateway' };
      await connect();
    },
    async stop() {
      if (!running && !current && !retry) return;
      running = false;
      stopSignal.abort();
      if (retry) clearTimeout(retry);
      retry = undefined;
      const client = current;
      current = undefined;
      state = { ready: false, detail: 'stopped' };
      if (client) await destroyClient(client);
    },
    client: () => current,
    status: () => state,
  };
}

/** The parts of a @discordjs/ws shard that a clean shutdown needs (not public API). */
interface InternalShard {
  status: number;
  connection: { readyState: number } | null;
  internalConnect: () => Promise<void>;
}

const SHARD_IDLE = 0;
const SOCKET_CONNECTING = 0;

/**
 * Destroys a client without leaving a reconnect behind. @discordjs/ws waits 500 ms before it
 * reconnects after a drop, and `destroy()` during that wait is a no-op for the idle shard: the
 * reconnect then runs anyway, and loops forever against a gateway that is gone (a process that
 * never exits). Also, a socket still in its opening handshake is not closed by `destroy()`.
 * So the pending reconnect is disarmed on the shard instances first, a handshake in progress is
 * given a moment to finish, and only then is the client destroyed.
 */
async function destroyClient(client: Client): Promise<void> {
  const shards = internalShards(client);
  for (const shard of shards) {
    if (typeof shard.internalConnect === 'function') shard.internalConnect = async () => {};
  }
  const deadline = Date.now() + 2000;
  while (shards.some((shard) => shard.status !== SHARD_IDLE && shard.connection?.readyState === SOCKET_CONNECTING)) {
    if (Date.now() > deadline) break;
    await sleep(10);
  }
  await client.destroy();
}

function internalShards(client: Client): InternalShard[] {
  const manager = (client.ws as unknown as { _ws?: { strategy?: { shards?: Map<number, InternalShard> } } })._ws;
  const shards = manager?.strategy?.shards;
  return shards instanceof Map ? [...shards.values()] : [];
}

function backoff(failures: number, minMs: number, maxMs: number): number {
  const ceiling = Math.min(maxMs, minMs * 2 ** (failures - 1));
  return Math.round(minMs + Math.random() * Math.max(0, ceiling - minMs));
}

function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
