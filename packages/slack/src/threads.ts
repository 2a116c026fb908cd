/**
 * Channel threads that are Genesys conversations. A mention starts one; from then on the
 * customer's replies in that thread reach the agent without mentioning the app again, and so do
 * replies in a thread the agent started. Kept in the connector's store so a restart remembers.
 */
import type { KeyValueStore } from '@parley/core';

/** A support thread may sit idle for weeks and still be answered. */
const ACTIVE_THREAD_TTL_MS = 30 * 24 * 60 * 60 * 1000;

export interface ThreadRegistry {
  isActive(channel: string, threadTs: string): Promise<boolean>;
  markActive(channel: string, threadTs: string): Promise<void>;
}

export function createThreadRegistry(store: KeyValueStore): ThreadRegistry {
  const key = (channel: string, threadTs: string) => `thread:${channel}:${threadTs}`;
  return {
    async isActive(channel, threadTs) {
      return (await store.get(key(channel, threadTs))) !== undefined;
    },
    async markActive(channel, threadTs) {
      await store.set(key(channel, threadTs), '1', { ttlMs: ACTIVE_THREAD_TTL_MS });
    },
  };
}
