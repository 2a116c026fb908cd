/**
 * The platform message id ⇄ Genesys message id map. Both ids are unique per connector, so a
 * receipt for a Genesys id and a reply to a platform id each find exactly one link.
 */
import type { Database, Statement } from 'better-sqlite3';
import type { MessageLink, MessageLinks } from '../types.js';
import type { Write, WriteRequest } from './write-batch.js';
import type { RunResult } from './writer-thread.js';

/**
 * Every statement on `message_links`, exported so a test can check each one is an index lookup.
 * A new pairing replaces any link holding either of its ids (REPLACE deletes every row that
 * conflicts on either unique key), so both unique keys stay true; re-recording the same pair
 * keeps its createdAt and, unless given a new one, its status (read before the replace). One
 * statement rather than two deletes and an upsert: the relay records a link per message.
 */
export const LINK_SQL = {
  record: `INSERT OR REPLACE INTO message_links (connector_id, platform_message_id, genesys_message_id, direction, status, created_at)
     VALUES (@connectorId, @platformMessageId, @genesysMessageId, @direction,
       coalesce(@status, (SELECT status FROM message_links
         WHERE connector_id = @connectorId AND platform_message_id = @platformMessageId AND genesys_message_id = @genesysMessageId)),
       coalesce((SELECT created_at FROM message_links
         WHERE connector_id = @connectorId AND platform_message_id = @platformMessageId AND genesys_message_id = @genesysMessageId), @now))`,
  byPlatformId: `SELECT * FROM message_links WHERE connector_id = ? AND platform_message_id = ?`,
  byGenesysId: `SELECT * FROM message_links WHERE connector_id = ? AND genesys_message_id = ?`,
  setStatus: `UPDATE message_links SET status = ? WHERE connector_id = ? AND genesys_message_id = ?`,
  // Bounded like the job prune, so no batch holds the write lock for long.
  pruneOld: `DELETE FROM message_links WHERE (connector_id, platform_message_id) IN
    (SELECT connector_id, platform_message_id FROM message_links WHERE created_at < ? LIMIT +?)`,
} as const;

/** The statements the writer thread runs for links, by the name steps use. */
export const LINK_WRITE_STATEMENTS = {
  'links.record': LINK_SQL.record,
  'links.setStatus': LINK_SQL.setStatus,
  'links.pruneOld': LINK_SQL.pruneOld,
} as const;

/** Records a link (see `LINK_SQL.record`), as a write for the store's write batch. */
export function recordLink(link: Omit<MessageLink, 'createdAt'>, now: number): WriteRequest<void> {
  const { connectorId, platformMessageId, genesysMessageId, direction } = link;
  const params = { connectorId, platformMessageId, genesysMessageId, direction, status: link.status ?? null, now };
  return { steps: [{ sql: 'links.record', mode: 'run', params }] };
}

/** Deletes up to `limit` links recorded before `cutoff`, as a write for the store's write batch; resolves with how many. */
export function pruneOldLinks(cutoff: number, limit: number): WriteRequest<number> {
  return {
    steps: [{ sql: 'links.pruneOld', mode: 'run', params: [cutoff, limit] }],
    result: ([pruned]) => (pruned as RunResult).changes,
  };
}

interface LinkRow {
  connector_id: string;
  platform_message_id: string;
  genesys_message_id: string;
  direction: MessageLink['direction'];
  status: string | null;
  created_at: number;
}

/**
 * Builds the links API: writes go through the store's write batch, reads are plain statements on
 * `db` (the store's main connection). `guard` runs first in every call (throws once the store is
 * closed).
 */
export function createMessageLinks(db: Database, now: () => number, guard: () => void, write: Write): MessageLinks {
  const read = {
    byPlatformId: db.prepare(LINK_SQL.byPlatformId) as Statement<unknown[], unknown>,
    byGenesysId: db.prepare(LINK_SQL.byGenesysId) as Statement<unknown[], unknown>,
  };

  return {
    async record(link) {
      guard();
      await write(recordLink(link, now()));
    },
    async byPlatformId(connectorId, platformMessageId) {
      guard();
      return toLink(read.byPlatformId.get(connectorId, platformMessageId) as LinkRow | undefined);
    },
    async byGenesysId(connectorId, genesysMessageId) {
      guard();
      return toLink(read.byGenesysId.get(connectorId, genesysMessageId) as LinkRow | undefined);
    },
    async setStatus(connectorId, genesysMessageId, status) {
      guard();
      await write({ steps: [{ sql: 'links.setStatus', mode: 'run', params: [status, connectorId, genesysMessageId] }] });
    },
  };
}

function toLink(row: LinkRow | undefined): MessageLink | undefined {
  if (!row) return undefined;
  return {
    connectorId: row.connector_id,
    platformMessageId: row.platform_message_id,
    genesysMessageId: row.genesys_message_id,
    direction: row.direction,
    ...(row.status === null ? {} : { status: row.status }),
    createdAt: row.created_at,
  };
}
