/**
 * Agent messages on their way to Discord: long text, button presses, and what the agent learns
 * when Discord refuses or slows down a send. Nothing reaches the customer twice.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { closeWorld, inboundMessage, receiptOf, startWorld, type World } from './support.js';

let world: World | undefined;
afterEach(async () => {
  await closeWorld(world);
  world = undefined;
});

/** A customer who wrote to the bot in a DM, and their Genesys conversation. */
async function dmCustomer(w: World, username: string) {
  const user = w.fake.user({ username });
  user.dm(`hi from ${username}`);
  const recorded = await inboundMessage(w, (body) => body.text === `hi from ${username}`);
  return { user, conversationId: recorded.conversationId!, channelId: user.dmChannelId() };
}

describe('agent messages', () => {
  it('splits text longer than 2000 characters into messages, in order', async () => {
    world = await startWorld();
    const { conversationId, channelId } = await dmCustomer(world, 'olga');
    // Genesys caps agent text at 4000 characters: two Discord messages.
    const text = Array.from({ length: 700 }, (_, index) => `word${index}`).join(' ').slice(0, 3990);
    const delivery = await world.harness.emulator.agent.sendText(conversationId, text);
    expect((await receiptOf(world, delivery.messageId)).body.status).toBe('Delivered');
    const parts = world.fake.sent(channelId).map((sent) => sent.content ?? '');
    expect(parts.length).toBe(Math.ceil(text.length / 2000));
    expect(parts.every((part) => part.length <= 2000)).toBe(true);
    expect(parts.join(' ')).toBe(text);
  });

  it('resumes a split message after the part that went out, without repeating it', async () => {
    world = await startWorld({ connector: { rateLimitMaxWaitMs: 0 } });
    const { conversationId, channelId } = await dmCustomer(world, 'pete');
    // The second part meets a rate limit too long to wait in place: the queue retries the delivery.
    world.fake.failNext({ route: 'send', status: 429, retryAfterSeconds: 0.2, skip: 1 });
    const file = { data: Buffer.from('%PDF-1.4 receipt'), mime: 'application/pdf', filename: 'receipt.pdf' };
    const delivery = await world.harness.emulator.agent.send(conversationId, {
      text: `${'a'.repeat(1990)}\n${'b'.repeat(1990)}`,
      content: [{ contentType: 'Attachment', attachment: { mediaType: 'File', url: world.harness.hostFile(file), mime: file.mime, filename: file.filename } }],
    });
    expect((await receiptOf(world, delivery.messageId)).body.status).toBe('Delivered');
    const sent = world.fake.sent(channelId);
    expect(sent.map((message) => message.content?.[0] ?? message.files[0]?.filename)).toEqual(['a', 'b', 'receipt.pdf']);
    expect(sent[2]!.files[0]!.data.equals(file.data)).toBe(true);
    expect(world.harness.logs().some((line) => line.includes('PLATFORM_RATE_LIMITED'))).toBe(true);
  });

  it('does not post twice when Discord accepted a message but the answer was lost', async () => {
    world = await startWorld();
    const { conversationId, channelId } = await dmCustomer(world, 'quinn');
    world.fake.failNext({ route: 'send', status: 500, afterAccept: true });
    const delivery = await world.harness.emulator.agent.sendText(conversationId, 'exactly once');
    expect((await receiptOf(world, delivery.messageId)).body.status).toBe('Delivered');
    expect(world.fake.requests().filter((request) => request.route === 'send').length).toBeGreaterThan(1);
    expect(world.fake.sent(channelId).map((sent) => sent.content)).toEqual(['exactly once']);
  });

  it('acknowledges a button press at once, keeping the buttons', async () => {
    world = await startWorld();
    const { user, conversationId, channelId } = await dmCustomer(world, 'rosa');
    await world.harness.emulator.agent.send(conversationId, {
      type: 'Structured',
      text: 'Rate us',
      content: [{ contentType: 'QuickReply', quickReply: { text: 'Great', payload: 'great', action: 'Message' } }],
    });
    const sent = await world.fake.waitForSent((message) => message.buttons.length > 0);
    const interactionId = user.pressButton(channelId, sent.id, sent.buttons[0]!.customId!);
    await world.harness.emulator.waitForInbound((record) => record.kind === 'structured-response', 10_000);
    // Type 6: "deferred update", the acknowledgement that changes nothing on screen.
    await expect.poll(() => world!.fake.acks()).toEqual([{ interactionId, type: 6 }]);
  });
});

describe('refusals reach the agent as Failed receipts with a reason', () => {
  it('maps "cannot DM this user", "unknown channel" and "missing permissions"', async () => {
    world = await startWorld({ connector: (fake) => ({ channelIds: [fake.guild('Support').channel('general'), fake.guild('Support').channel('help')] }) });
    const { fake, harness } = world;
    const guild = fake.guild('Support');

    const blocked = await dmCustomer(world, 'sam');
    blocked.user.blockBot();
    const writer = fake.user({ username: 'tess' });
    writer.post(guild.channel('general'), 'in general');
    writer.post(guild.channel('help'), 'in help');
    const general = await inboundMessage(world, (body) => body.text === 'in general');
    const help = await inboundMessage(world, (body) => body.text === 'in help');
    fake.deleteChannel(guild.channel('general'));
    fake.setCanSend(guild.channel('help'), false);

    const cases = [
      { conversationId: blocked.conversationId, code: 'RecipientOptedOut', message: /does not let the bot message this customer/ },
      { conversationId: general.conversationId!, code: 'InvalidDestination', message: /channel no longer exists/ },
      { conversationId: help.conversationId!, code: 'MessageNotAllowed', message: /lacks a Discord permission/ },
    ];
    for (const expected of cases) {
      const delivery = await harness.emulator.agent.sendText(expected.conversationId, 'will not arrive');
      const receipt = await receiptOf(world, delivery.messageId);
      expect(receipt.body.status).toBe('Failed');
      expect(receipt.body.reasons[0].code).toBe(expected.code);
      expect(receipt.body.reasons[0].message).toMatch(expected.message);
    }
    expect(fake.sent().some((sent) => sent.content === 'will not arrive')).toBe(false);
  });
});
