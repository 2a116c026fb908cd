/** Genesys conversations: one per (integration, customer id), as Genesys threads open messages. */
import { newUuid } from './ids.js';
import type { Conversation } from './types.js';

/** The `channel.from` of an inbound body, as far as a conversation cares. */
export interface CustomerProfile {
  id: string;
  nickname?: string;
  firstName?: string;
  lastName?: string;
}

/** The conversations the emulator knows, by id and by (integration, customer). */
export class ConversationBook {
  readonly #byId = new Map<string, Conversation>();
  /** `integrationId \0 customerId` → conversation id. */
  readonly #byCustomer = new Map<string, string>();

  /** The customer's conversation, created on first contact; the profile is refreshed each time. */
  open(integrationId: string, profile: CustomerProfile): { conversation: Conversation; created: boolean } {
    const customer = pickProfile(profile);
    const existing = this.find(integrationId, profile.id);
    if (existing) {
      existing.customer = customer;
      return { conversation: existing, created: false };
    }
    const conversation: Conversation = { id: newUuid(), integrationId, customerId: profile.id, customer };
    this.#byId.set(conversation.id, conversation);
    this.#byCustomer.set(key(integrationId, profile.id), conversation.id);
    return { conversation, created: true };
  }

  find(integrationId: string, customerId: string): Conversation | undefined {
    const id = this.#byCustomer.get(key(integrationId, customerId));
    return id === undefined ? undefined : this.#byId.get(id);
  }

  get(conversationId: string): Conversation | undefined {
    return this.#byId.get(conversationId);
  }

  list(): Conversation[] {
    return [...this.#byId.values()];
  }

  clear(): void {
    this.#byId.clear();
    this.#byCustomer.clear();
  }
}

function key(integrationId: string, customerId: string): string {
  return `${integrationId}\u0000${customerId}`;
}

function pickProfile(profile: CustomerProfile): Conversation['customer'] {
  return {
    id: profile.id,
    ...(profile.nickname !== undefined ? { nickname: profile.nickname } : {}),
    ...(profile.firstName !== undefined ? { firstName: profile.firstName } : {}),
    ...(profile.lastName !== undefined ? { lastName: profile.lastName } : {}),
  };
}
