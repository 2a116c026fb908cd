/** Identifiers shaped like the ones Genesys hands out. */
import { randomBytes, randomUUID } from 'node:crypto';

/** A Genesys message id: 32 lowercase hex digits (research/genesys.md §1.4). */
export function newMessageId(): string {
  return randomBytes(16).toString('hex');
}

/** Conversation, integration and context ids are UUIDs in Genesys. */
export function newUuid(): string {
  return randomUUID();
}

/** An opaque bearer token. */
export function newAccessToken(): string {
  return randomBytes(32).toString('base64url');
}
