/**
 * Cached lookups of Slack users and conversations. An event is answered within Slack's 3 s only
 * if these are fast: results are cached, concurrent lookups of one id share one request, and a
 * lookup that is slow or fails gives way (undefined) so the message goes on with ids instead of
 * names rather than waiting or failing.
 */
import type { KeyValueStore, Logger } from '@parley/core';
import type { SlackApi } from './api-client.js';
import type { SlackConversation, SlackUser } from './protocol.js';

/** Most entries per cache; the oldest go first. */
const MAX_ENTRIES = 5000;
/** A DM channel never changes for a pair of users. */
const DM_CHANNEL_TTL_MS = 365 * 24 * 60 * 60 * 1000;

export interface Directory {
  /** The profile of `userId`, or undefined when Slack did not answer in time. */
  user(userId: string): Promise<SlackUser | undefined>;
  /** The conversation `channelId` (name, Slack Connect flag), or undefined when unknown. */
  conversation(channelId: string): Promise<SlackConversation | undefined>;
  /** The DM channel with `userId`; throws Slack's error (used on the send path, where it must). */
  directMessageChannel(userId: string): Promise<string>;
}

export interface DirectoryOptions {
  api: SlackApi;
  store: KeyValueStore;
  logger: Logger;
  ttlMs: number;
  lookupTimeoutMs: number;
  now?: () => number;
}

export function createDirectory(options: DirectoryOptions): Directory {
  const { api, logger } = options;
  const now = options.now ?? Date.now;
  const users = new LookupCache<SlackUser>(options.ttlMs, now);
  const conversations = new LookupCache<SlackConversation>(options.ttlMs, now);

  async function lookup<T>(what: string, id: string, load: () => Promise<T>): Promise<T | undefined> {
    try {
      return await withDeadline(load(), options.lookupTimeoutMs);
    } catch (error) {
      logger.debug({ err: error, [what]: id }, `Could not look up a Slack ${what}; going on without it`);
      return undefined;
    }
  }

  return {
    user: (userId) => lookup('user', userId, () => users.get(userId, () => api.userInfo(userId))),
    conversation: (channelId) =>
      lookup('channel', channelId, () => conversations.get(channelId, () => api.conversationInfo(channelId))),
    async directMessageChannel(userId) {
      const key = `dm-channel:${userId}`;
      const known = await options.store.get(key);
      if (known) return known;
      const channel = await api.openDirectMessage(userId);
      await options.store.set(key, channel, { ttlMs: DM_CHANNEL_TTL_MS });
      return channel;
    },
  };
}

/** Resolves with `promise`'s value, or with undefined after `ms` (the promise keeps running). */
function withDeadline<T>(promise: Promise<T>, ms: number): Promise<T | undefined> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<undefined>((resolve) => {
    timer = setTimeout(resolve, ms, undefined);
  });
  return Promise.race([promise, deadline]).finally(() => clearTimeout(timer));
}

/** A small TTL cache of promises: a failed load is forgotten so the next call tries again. */
class LookupCache<T> {
  readonly #entries = new Map<string, { value: Promise<T>; expires: number }>();

  constructor(
    private readonly ttlMs: number,
    private readonly now: () => number,
  ) {}

  get(key: string, load: () => Promise<T>): Promise<T> {
    const entry = this.#entries.get(key);
    if (entry && entry.expires > this.now()) return entry.value;
    this.#entries.delete(key);
    if (this.#entries.size >= MAX_ENTRIES) this.#entries.delete(this.#entries.keys().next().value!);
    const value = load();
    const created = { value, expires: this.now() + this.ttlMs };
    this.#entries.set(key, created);
    value.catch(() => {
      if (this.#entries.get(key) === created) this.#entries.delete(key);
    });
    return value;
  }
}
