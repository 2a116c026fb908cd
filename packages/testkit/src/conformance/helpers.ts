/**
 * Small steps the conformance scenarios share: waiting for something to happen, opening a Genesys
 * conversation, and posting hand-made Genesys webhooks (for the signature and dedupe scenarios).
 */
import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { SIGNATURE_HEADER } from '@parley/core';
import { request } from 'undici';
import type { RecordedInbound } from '../emulator/index.js';
import type { Harness } from './harness.js';

/** How long a scenario waits for one observable effect before it fails. */
export const WAIT_MS = 10_000;

/**
 * Resolves with the first truthy result of `probe`, checked every few milliseconds; rejects with
 * `what` after `timeoutMs`. A wait for an effect, not a measurement of speed.
 */
export async function eventually<T>(
  probe: () => T | undefined | null | false | Promise<T | undefined | null | false>,
  what: string,
  timeoutMs = WAIT_MS,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const result = await probe();
    if (result) return result;
    if (Date.now() > deadline) throw new Error(`Timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(10);
  }
}

/** Accepted customer messages of `customer` at the emulator, in arrival order. */
export function messagesFrom(harness: Harness, customer: string): RecordedInbound[] {
  const customerId = harness.driver.customerId(customer);
  return harness.emulator
    .inbound({ integrationId: harness.integrationId, kind: 'message' })
    .filter((record) => record.body?.channel?.from?.id === customerId);
}

/** Waits for a customer message of `customer` whose body satisfies `match`. */
export function waitForMessage(
  harness: Harness,
  customer: string,
  match: (body: any) => boolean,
  what = `a message from ${customer}`,
): Promise<RecordedInbound> {
  const customerId = harness.driver.customerId(customer);
  return harness.emulator
    .waitForInbound(
      (record) =>
        record.kind === 'message' &&
        record.integrationId === harness.integrationId &&
        record.body?.channel?.from?.id === customerId &&
        match(record.body),
      WAIT_MS,
    )
    .catch((error: unknown) => {
      throw new Error(`Genesys never received ${what}: ${String(error)}`);
    });
}

/** Waits for the receipt Parley sends about the agent message `genesysMessageId`. */
export function waitForReceipt(harness: Harness, genesysMessageId: string): Promise<RecordedInbound> {
  return harness.emulator
    .waitForInbound((record) => record.kind === 'receipt' && record.body?.id === genesysMessageId, WAIT_MS)
    .catch((error: unknown) => {
      throw new Error(`Genesys never received a receipt for ${genesysMessageId}: ${String(error)}`);
    });
}

/** Texts of the bot messages `customer` received. */
export function sentTexts(harness: Harness, customer: string): string[] {
  return harness.driver.sent(customer).flatMap((message) => (message.text === undefined ? [] : [message.text]));
}

/** Waits until `customer` received a bot message with exactly `text`. */
export function waitForSentText(harness: Harness, customer: string, text: string): Promise<true> {
  return eventually(() => sentTexts(harness, customer).includes(text), `"${text}" to reach ${customer}`);
}

/**
 * Makes `customer` write to the bot and returns the Genesys conversation that message opened:
 * agents can only answer within a conversation.
 */
export async function openConversation(harness: Harness, customer: string): Promise<string> {
  const text = `Hi, this is ${customer}`;
  await harness.driver.sendText(customer, text);
  const recorded = await waitForMessage(harness, customer, (body) => body.text === text, `the opening message of ${customer}`);
  const conversationId =
    recorded.conversationId ??
    harness.emulator.conversationFor(harness.integrationId, harness.driver.customerId(customer))?.id;
  if (!conversationId) throw new Error(`The emulator opened no conversation for ${customer}`);
  return conversationId;
}

/** The exact bytes of an agent text webhook as Genesys would send it to this connector. */
export function agentTextWebhook(
  harness: Harness,
  input: { conversationId: string; customer: string; text: string },
): { id: string; body: string } {
  const id = randomBytes(16).toString('hex');
  const body = JSON.stringify({
    id,
    channel: {
      id: harness.integrationId,
      platform: 'Open',
      type: 'Private',
      messageId: id,
      to: { id: harness.driver.customerId(input.customer), idType: 'Opaque' },
      from: { nickname: 'Conformance', id: harness.integrationId, idType: 'Opaque' },
      time: new Date().toISOString(),
    },
    conversationId: input.conversationId,
    type: 'Text',
    text: input.text,
    direction: 'Outbound',
    originatingEntity: 'Human',
  });
  return { id, body };
}

/** Posts a Genesys webhook to the connector; returns the HTTP status. */
export async function postGenesysWebhook(harness: Harness, body: string, signature: string | undefined): Promise<number> {
  const response = await request(harness.genesysWebhookUrl, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(signature !== undefined ? { [SIGNATURE_HEADER]: signature } : {}) },
    body,
  });
  await response.body.dump();
  return response.statusCode;
}

/** A Genesys quick reply content item. */
export function quickReply(text: string, payload: string): unknown {
  return { contentType: 'QuickReply', quickReply: { text, payload, action: 'Message' } };
}
