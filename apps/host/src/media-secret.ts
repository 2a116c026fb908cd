import { randomBytes } from 'node:crypto';
import type { Store } from '@parley/core';

/**
 * The key that signs media URLs. Configured explicitly, or generated once and kept in the store:
 * URLs handed to Genesys must keep working after a restart, and every instance sharing the store
 * must accept them.
 */
export async function mediaSecretFor(store: Store, configured: string | undefined): Promise<string> {
  if (configured) return configured;
  const kv = store.kv('parley');
  const existing = await kv.get('media-secret');
  if (existing) return existing;
  const secret = randomBytes(32).toString('base64url');
  await kv.set('media-secret', secret);
  return secret;
}
