/**
 * Conformance scenarios about trust and failure: forged webhooks, duplicates from both sides,
 * per-conversation order, and what the agent learns when a platform send fails.
 *
 * "Nothing was delivered" is proven without sleeping: a later message in the same conversation
 * is sent and awaited; queues keep per-conversation order, so once it arrived the earlier one
 * would have arrived too.
 */
import { signGenesysBody } from '@parley/core';
import { expect, it } from 'vitest';
import type { Harness } from './harness.js';
import {
  agentTextWebhook,
  eventually,
  messagesFrom,
  openConversation,
  postGenesysWebhook,
  sentTexts,
  waitForMessage,
  waitForReceipt,
  waitForSentText,
} from './helpers.js';

const SCENARIO_TIMEOUT_MS = 25_000;
const BURST = 20;

export function reliabilityScenarios(harness: () => Harness): void {
  it('rejects a Genesys webhook with a wrong or missing signature (401) and delivers nothing', async () => {
    const h = harness();
    const conversationId = await openConversation(h, 'ivan');
    const forged = agentTextWebhook(h, { conversationId, customer: 'ivan', text: 'forged message' });
    expect(await postGenesysWebhook(h, forged.body, signGenesysBody(forged.body, 'not-the-webhook-secret'))).toBe(401);
    expect(await postGenesysWebhook(h, forged.body, undefined)).toBe(401);
    const otherBody = agentTextWebhook(h, { conversationId, customer: 'ivan', text: 'another body' }).body;
    expect(await postGenesysWebhook(h, forged.body, signGenesysBody(otherBody, h.webhookSecret))).toBe(401);

    const genuine = agentTextWebhook(h, { conversationId, customer: 'ivan', text: 'genuine message' });
    expect(await postGenesysWebhook(h, genuine.body, signGenesysBody(genuine.body, h.webhookSecret))).toBe(200);
    await waitForSentText(h, 'ivan', 'genuine message');
    expect(sentTexts(h, 'ivan')).not.toContain('forged message');
  }, SCENARIO_TIMEOUT_MS);

  it('delivers a Genesys webhook posted twice only once', async () => {
    const h = harness();
    const conversationId = await openConversation(h, 'judy');
    const twice = agentTextWebhook(h, { conversationId, customer: 'judy', text: 'exactly once' });
    const signature = signGenesysBody(twice.body, h.webhookSecret);
    expect(await postGenesysWebhook(h, twice.body, signature)).toBe(200);
    expect(await postGenesysWebhook(h, twice.body, signature)).toBe(200);

    const marker = agentTextWebhook(h, { conversationId, customer: 'judy', text: 'after the duplicate' });
    expect(await postGenesysWebhook(h, marker.body, signGenesysBody(marker.body, h.webhookSecret))).toBe(200);
    await waitForSentText(h, 'judy', 'after the duplicate');
    await waitForReceipt(h, marker.id);
    expect(sentTexts(h, 'judy').filter((text) => text === 'exactly once')).toHaveLength(1);
    expect(h.emulator.inbound({ kind: 'receipt' }).filter((record) => record.body?.id === twice.id)).toHaveLength(1);
  }, SCENARIO_TIMEOUT_MS);

  it('forwards a customer message the platform delivered twice only once', async (context) => {
    const h = harness();
    if (!h.driver.redeliverLast) return context.skip('the driver cannot make the platform redeliver');
    await h.driver.sendText('mallory', 'only once please');
    await waitForMessage(h, 'mallory', (body) => body.text === 'only once please');
    await h.driver.redeliverLast();
    await h.driver.sendText('mallory', 'the next message');
    await waitForMessage(h, 'mallory', (body) => body.text === 'the next message');
    expect(messagesFrom(h, 'mallory').filter((record) => record.body.text === 'only once please')).toHaveLength(1);
  }, SCENARIO_TIMEOUT_MS);

  it(`keeps the order of ${BURST} agent messages sent quickly to one customer`, async () => {
    const h = harness();
    const conversationId = await openConversation(h, 'niaj');
    const texts = Array.from({ length: BURST }, (_, index) => `agent message ${index + 1} of ${BURST}`);
    for (const text of texts) await h.emulator.agent.sendText(conversationId, text);
    const received = await eventually(() => {
      const burst = sentTexts(h, 'niaj').filter((text) => text.startsWith('agent message '));
      return burst.length >= BURST && burst;
    }, `${BURST} agent messages to reach niaj`);
    expect(received).toEqual(texts);
  }, SCENARIO_TIMEOUT_MS);

  it(`keeps the order of ${BURST} customer messages on their way to Genesys`, async () => {
    const h = harness();
    const texts = Array.from({ length: BURST }, (_, index) => `customer message ${index + 1} of ${BURST}`);
    for (const text of texts) await h.driver.sendText('olivia', text);
    const received = await eventually(() => {
      const burst = messagesFrom(h, 'olivia')
        .map((record) => String(record.body.text))
        .filter((text) => text.startsWith('customer message '));
      return burst.length >= BURST && burst;
    }, `${BURST} customer messages to reach Genesys`);
    expect(received).toEqual(texts);
  }, SCENARIO_TIMEOUT_MS);

  it('retries a send the platform failed twice, then delivers it once with a Delivered receipt', async () => {
    const h = harness();
    const conversationId = await openConversation(h, 'peggy');
    h.driver.failNextSend({ kind: 'retryable', times: 2 });
    const delivery = await h.emulator.agent.sendText(conversationId, 'after two failures');
    await waitForSentText(h, 'peggy', 'after two failures');
    expect((await waitForReceipt(h, delivery.messageId)).body.status).toBe('Delivered');
    expect(sentTexts(h, 'peggy').filter((text) => text === 'after two failures')).toHaveLength(1);
  }, SCENARIO_TIMEOUT_MS);

  it('waits out a rate limit (Retry-After) and then delivers', async () => {
    const h = harness();
    const conversationId = await openConversation(h, 'rupert');
    h.driver.failNextSend({ kind: 'retryable', retryAfterSeconds: 1, times: 1 });
    const delivery = await h.emulator.agent.sendText(conversationId, 'after the rate limit');
    await waitForSentText(h, 'rupert', 'after the rate limit');
    expect((await waitForReceipt(h, delivery.messageId)).body.status).toBe('Delivered');
  }, SCENARIO_TIMEOUT_MS);

  it('reports a permanent send failure to Genesys as a Failed receipt with a reason', async () => {
    const h = harness();
    const conversationId = await openConversation(h, 'sybil');
    h.driver.failNextSend({ kind: 'permanent' });
    const failed = await h.emulator.agent.sendText(conversationId, 'this cannot be delivered');
    const receipt = await waitForReceipt(h, failed.messageId);
    expect(receipt.body.status).toBe('Failed');
    expect(receipt.body.reasons?.[0]).toMatchObject({ code: expect.any(String), message: expect.stringMatching(/\S/) });
    // The webhook itself was accepted: a failure reaches the agent as a receipt, not an HTTP error.
    expect(await failed.done).toMatchObject({ delivered: true });

    const next = await h.emulator.agent.sendText(conversationId, 'the next one arrives');
    await waitForSentText(h, 'sybil', 'the next one arrives');
    await waitForReceipt(h, next.messageId);
    expect(sentTexts(h, 'sybil')).not.toContain('this cannot be delivered');
  }, SCENARIO_TIMEOUT_MS);
}
