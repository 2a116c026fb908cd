/**
 * Conformance scenarios about what crosses the bridge: text, files, typing and buttons, both ways.
 */
import { randomBytes } from 'node:crypto';
import type { ConnectorCapabilities } from '@parley/core';
import { request } from 'undici';
import { expect, it } from 'vitest';
import type { Harness } from './harness.js';
import {
  eventually,
  openConversation,
  quickReply,
  waitForMessage,
  waitForReceipt,
  waitForSentText,
} from './helpers.js';

const SCENARIO_TIMEOUT_MS = 20_000;

export function messagingScenarios(harness: () => Harness, capabilities: ConnectorCapabilities): void {
  it('forwards customer text to Genesys with the customer id, profile, message id and time', async () => {
    const h = harness();
    const sentAt = Date.now();
    await h.driver.sendText('alice', 'Hello from the customer');
    const recorded = await waitForMessage(h, 'alice', (body) => body.text === 'Hello from the customer');

    const channel = recorded.body.channel;
    expect(channel.from.id).toBe(h.driver.customerId('alice'));
    expect(channel.from.idType).toBe('Opaque');
    expect(channel.from.nickname).toEqual(expect.stringMatching(/\S/));
    const profile = h.driver.profile?.('alice');
    if (profile) {
      expect(channel.from).toMatchObject(
        Object.fromEntries(Object.entries(profile).filter(([, value]) => value !== undefined)),
      );
    }
    expect(channel.messageId).toEqual(expect.stringMatching(/\S/));
    // Platform clocks often have one-second precision, hence the margin.
    const time = Date.parse(channel.time);
    expect(time).toBeGreaterThanOrEqual(sentAt - 60_000);
    expect(time).toBeLessThanOrEqual(Date.now() + 60_000);
  }, SCENARIO_TIMEOUT_MS);

  it('shows agent text to the customer and sends a Delivered receipt', async () => {
    const h = harness();
    const conversationId = await openConversation(h, 'bob');
    const delivery = await h.emulator.agent.sendText(conversationId, 'Hello from the agent');
    await waitForSentText(h, 'bob', 'Hello from the agent');

    const receipt = await waitForReceipt(h, delivery.messageId);
    expect(receipt.body.status).toBe('Delivered');
    expect(receipt.body.channel.to.id).toBe(h.driver.customerId('bob'));
    expect(await delivery.done).toMatchObject({ delivered: true });
  }, SCENARIO_TIMEOUT_MS);

  it.skipIf(!capabilities.attachments.inbound)(
    'publishes a customer file through a Parley media URL that serves the exact bytes',
    async (context) => {
      const h = harness();
      if (!h.driver.sendFile) return context.skip('the driver cannot send files');
      const data = randomBytes(3000);
      await h.driver.sendFile('carol', { data, mime: 'image/png', filename: 'photo.png' });
      const recorded = await waitForMessage(h, 'carol', (body) => Array.isArray(body.content) && body.content.length > 0);

      const attachment = recorded.body.content[0].attachment;
      expect(attachment).toMatchObject({ mediaType: 'Image', mime: 'image/png' });
      expect(attachment.url.startsWith(`${h.url}/media/`)).toBe(true);
      for (const secret of h.secrets) expect(attachment.url).not.toContain(secret);

      const response = await request(attachment.url);
      const bytes = Buffer.from(await response.body.arrayBuffer());
      expect(response.statusCode).toBe(200);
      expect(String(response.headers['content-type'])).toMatch(/^image\/png/);
      expect(bytes.equals(data)).toBe(true);
    },
    SCENARIO_TIMEOUT_MS,
  );

  it.skipIf(!capabilities.attachments.outbound)(
    'uploads an agent file to the platform with the same bytes',
    async () => {
      const h = harness();
      const conversationId = await openConversation(h, 'dave');
      const data = randomBytes(5000);
      const url = h.hostFile({ data, mime: 'image/png', filename: 'agent.png' });
      const delivery = await h.emulator.agent.send(conversationId, {
        content: [{ contentType: 'Attachment', attachment: { mediaType: 'Image', url, mime: 'image/png', filename: 'agent.png' } }],
      });

      const file = await eventually(
        () => h.driver.sent('dave').flatMap((message) => message.files).find((candidate) => candidate.data.equals(data)),
        'the agent file to reach dave',
      );
      if (file.mime !== undefined) expect(file.mime).toBe('image/png');
      expect((await waitForReceipt(h, delivery.messageId)).body.status).toBe('Delivered');
    },
    SCENARIO_TIMEOUT_MS,
  );

  it.skipIf(!capabilities.typing.inbound)('forwards customer typing to Genesys', async (context) => {
    const h = harness();
    if (!h.driver.typing) return context.skip('the driver cannot type');
    await openConversation(h, 'erin');
    await h.driver.typing('erin');
    const customerId = h.driver.customerId('erin');
    const recorded = await h.emulator.waitForInbound(
      (record) => record.kind === 'event' && record.body?.channel?.from?.id === customerId,
    );
    expect(recorded.body.events[0].eventType).toBe('Typing');
  }, SCENARIO_TIMEOUT_MS);

  it.skipIf(!capabilities.typing.outbound)('shows agent typing to the customer', async (context) => {
    const h = harness();
    const typingShown = h.driver.typingShown?.bind(h.driver);
    if (!typingShown) return context.skip('the driver cannot observe typing');
    const conversationId = await openConversation(h, 'frank');
    await h.emulator.agent.sendTyping(conversationId);
    await eventually(() => typingShown('frank') > 0, 'typing to be shown to frank');
  }, SCENARIO_TIMEOUT_MS);

  it.skipIf(!capabilities.quickReplies)(
    'shows quick replies as buttons and sends a press back as a structured response',
    async (context) => {
      const h = harness();
      if (!h.driver.pressButton) return context.skip('the driver cannot press buttons');
      const conversationId = await openConversation(h, 'grace');
      const delivery = await h.emulator.agent.send(conversationId, {
        type: 'Structured',
        text: 'Shall we proceed?',
        content: [quickReply('Yes', 'yes'), quickReply('No', 'no')],
        originatingEntity: 'Bot',
      });
      const message = await eventually(
        () => h.driver.sent('grace').find((sent) => sent.buttons.some((button) => button.payload === 'yes')),
        'the quick replies to reach grace',
      );
      expect(message.buttons.map(({ text, payload }) => ({ text, payload }))).toEqual([
        { text: 'Yes', payload: 'yes' },
        { text: 'No', payload: 'no' },
      ]);
      expect((await waitForReceipt(h, delivery.messageId)).body.status).toBe('Delivered');

      await h.driver.pressButton('grace', 'yes');
      const customerId = h.driver.customerId('grace');
      const response = await h.emulator.waitForInbound(
        (record) => record.kind === 'structured-response' && record.body?.channel?.from?.id === customerId,
      );
      expect(response.body.originatingMessageId).toBe(delivery.messageId);
      expect(response.body.buttonResponse).toMatchObject({ type: 'QuickReply', text: 'Yes', payload: 'yes' });
    },
    SCENARIO_TIMEOUT_MS,
  );

  it.skipIf(!capabilities.cards)(
    'shows a card with its actions as buttons and sends a postback press back',
    async (context) => {
      const h = harness();
      const conversationId = await openConversation(h, 'heidi');
      const delivery = await h.emulator.agent.send(conversationId, {
        type: 'Structured',
        content: [
          {
            contentType: 'Card',
            card: {
              title: 'Premium plan',
              description: 'Everything, every day',
              actions: [
                { type: 'Postback', text: 'Choose it', payload: 'plan-premium' },
                { type: 'Link', text: 'Details', url: 'https://example.com/premium' },
              ],
            },
          },
        ],
        originatingEntity: 'Bot',
      });
      const message = await eventually(
        () => h.driver.sent('heidi').find((sent) => sent.buttons.some((button) => button.payload === 'plan-premium')),
        'the card to reach heidi',
      );
      expect(message.text ?? '').toContain('Premium plan');
      expect(message.buttons).toContainEqual(expect.objectContaining({ text: 'Details', url: 'https://example.com/premium' }));
      await waitForReceipt(h, delivery.messageId);

      if (!h.driver.pressButton) return context.skip('the driver cannot press buttons');
      await h.driver.pressButton('heidi', 'plan-premium');
      const customerId = h.driver.customerId('heidi');
      const response = await h.emulator.waitForInbound(
        (record) => record.kind === 'structured-response' && record.body?.channel?.from?.id === customerId,
      );
      expect(response.body.originatingMessageId).toBe(delivery.messageId);
      expect(response.body.buttonResponse).toMatchObject({ type: 'Button', text: 'Choose it', payload: 'plan-premium' });
    },
    SCENARIO_TIMEOUT_MS,
  );
}
