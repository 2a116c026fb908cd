/**
 * The platform message id ⇄ Genesys message id map. Both ids are unique per connector, so a
 * receipt for a Genesys id and a reply to a platform id each find exactly one link.
 */
import type { Database, Statement } from 'better-sqlite3';
import type { MessageLink, MessageLinks } from '../types.js';
import type { Write } from './write-batch.js';

/**
 * Every statement on `message_links`, exported so a test can check each one is an index lookup.
 * A new pairing replaces any link holding either of its ids, so both unique keys stay true;
 * re-recording the same pair keeps its createdAt and, unless given a new one, its status. The
 * two deletes are separate statements, not one with OR: the OR form made SQLite scan every link
 * of the connector (found by profiling: it was the hottest statement under load).
 */
export const LINK_SQL = {
  dropByPlatformId: `DELETE FROM message_links WHERE connector_id = ? AND platform_message_id = ? AND genesys_message_id <> ?`,
  dropByGenesysId: `DELETE FROM message_links WHERE connector_id = ? AND genesys_message_id = ? AND platform_message_id <> ?`,
  upsert: `INSERT INTO message_links (connector_id, platform_message_id, genesys_message_id, direction, status, created_at)
     VALUES (@connectorId, @platformMessageId, @genesysMessageId, @direction, @status, @now)
     ON CONFLICT (connector_id, platform_message_id) DO UPDATE SET
       direction = excluded.direction, status = coalesce(excluded.status, message_links.status)`,
  byPlatformId: `SELECT * FROM message_links WHERE connector_id = ? AND platform_message_id = ?`,
  byGenesysId: `SELECT * FROM message_links WHERE connector_id = ? AND genesys_message_id = ?`,
  setStatus: `UPDATE message_links SET status = ? WHERE connector_id = ? AND genesys_message_id = ?`,
} as const;

interface LinkRow {
  connector_id: string;
  platform_message_id: string;
  genesys_message_id: string;
  direction: MessageLink['direction'];
  status: string | null;
  created_at: number;
}

/**
 * Builds the links API on `db`. `guard` runs first in every call (throws once the store is closed);
 * writes go through the store's write batch, reads are plain statements.
 */
export function createMessageLinks(db: Database, now: () => number, guard: () => void, write: Write): MessageLinks {
  const s = Object.fromEntries(Object.entries(LINK_SQL).map(([name, sql]) => [name, db.prepare(sql)])) as {
    [Name in keyof typeof LINK_SQL]: Statement<unknown[], unknown>;
  };

  // Both statements share the write's savepoint, so a failed upsert does not leave a link dropped.
  function record(link: Omit<MessageLink, 'createdAt'>, at: number): void {
    const { connectorId, platformMessageId, genesysMessageId } = link;
    s.dropByPlatformId.run(connectorId, platformMessageId, genesysMessageId);
    s.dropByGenesysId.run(connectorId, genesysMessageId, platformMessageId);
    s.upsert.run({ connectorId, platformMessageId, genesysMessageId, direction: link.direction, status: link.status ?? null, now: at });
  }

  return {
    async record(link) {
      guard();
      const at = now();
      await write(() => record(link, at));
    },
    async byPlatformId(connectorId, platformMessageId) {
      guard();
      return toLink(s.byPlatformId.get(connectorId, platformMessageId) as LinkRow | undefined);
    },
    async byGenesysId(connectorId, genesysMessageId) {
      guard();
      return toLink(s.byGenesysId.get(connectorId, genesysMessageId) as LinkRow | undefined);
    },
    async setStatus(connectorId, genesysMessageId, status) {
      guard();
      await write(() => void s.setStatus.run(status, connectorId, genesysMessageId));
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
