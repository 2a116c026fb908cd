/**
 * Customers in server channels: which places are served, what one conversation is (per thread,
 * per channel, a thread per customer in a support channel), and what the agent reads (names,
 * replies, edits, stickers, embeds, files, typing).
 */
import { randomBytes } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { closeWorld, conversationOf, inboundMessage, receiptOf, startWorld, textsFrom, type World } from './support.js';

let world: World | undefined;
afterEach(async () => {
  await closeWorld(world);
  world = undefined;
});

describe('server channels', () => {
  it('forwards messages of served channels with the channel as the conversation and names as attributes', async () => {
    world = await startWorld({ connector: (fake) => ({ channelIds: [fake.guild('Support').channel('general')] }) });
    const { fake } = world;
    const guild = fake.guild('Support');
    const general = guild.channel('general');
    const dave = fake.user({ username: 'dave', globalName: 'Dave D' });
    dave.setNickname(guild.id, 'Davey');
    dave.post(guild.channel('help'), 'not served: #help is not listed');
    const message = dave.post(general, { content: 'hello', mentions: [fake.bot.id] });

    const recorded = await inboundMessage(world, (body) => body.channel?.messageId === message.id);
    expect(recorded.body.channel.from).toMatchObject({ id: `discord:${guild.id}:${general}`, nickname: 'Davey' });
    expect(recorded.body.text).toBe(`hello @${fake.bot.username}`);
    expect(recorded.body.channel.metadata.customAttributes).toMatchObject({
      discordGuildId: guild.id,
      discordGuildName: 'Support',
      discordChannelId: general,
      discordChannelName: 'general',
      discordUserId: dave.id,
      discordUsername: 'dave',
    });
    expect(world.harness.emulator.inbound({ kind: 'message' }).some((record) => String(record.body.text).includes('not served'))).toBe(false);

    // The agent's answer goes to the channel.
    const delivery = await world.harness.emulator.agent.sendText(conversationOf(world, `discord:${guild.id}:${general}`), 'Hi all');
    expect((await receiptOf(world, delivery.messageId)).body.status).toBe('Delivered');
    expect(fake.sent(general).map((sent) => sent.content)).toEqual(['Hi all']);
  });

  it('makes each thread its own conversation, or folds threads into the channel per channel', async () => {
    world = await startWorld({ connector: (fake) => ({ guildIds: [fake.guild('Support').id] }) });
    const guild = world.fake.guild('Support');
    const general = guild.channel('general');
    const erin = world.fake.user({ username: 'erin' });
    const { threadId } = erin.startThread(general, 'Billing question', 'in a thread');
    const recorded = await inboundMessage(world, (body) => body.text === 'in a thread');
    expect(recorded.body.channel.from.id).toBe(`discord:${guild.id}:${general}:${threadId}`);
    expect(recorded.body.channel.metadata.customAttributes).toMatchObject({ discordThreadId: threadId, discordThreadName: 'Billing question' });

    const delivery = await world.harness.emulator.agent.sendText(recorded.conversationId!, 'answered in the thread');
    await receiptOf(world, delivery.messageId);
    expect(world.fake.sent(threadId).map((sent) => sent.content)).toEqual(['answered in the thread']);
    await closeWorld(world);

    world = await startWorld({ connector: (fake) => ({ guildIds: [fake.guild('Support').id], guildConversations: 'per-channel' }) });
    const support = world.fake.guild('Support');
    const folded = world.fake.user({ username: 'frank' }).startThread(support.channel('general'), 'Side topic', 'folded into the channel');
    const recordedFolded = await inboundMessage(world, (body) => body.text === 'folded into the channel');
    expect(recordedFolded.body.channel.from.id).toBe(`discord:${support.id}:${support.channel('general')}`);
    expect(folded.threadId).toBeTruthy();
  });

  it("opens a thread per customer in a support channel, and keeps the customer's later messages in it", async () => {
    world = await startWorld({ connector: (fake) => ({ supportChannelIds: [fake.guild('Support').channel('help')] }) });
    const { fake } = world;
    const guild = fake.guild('Support');
    const help = guild.channel('help');
    const grace = fake.user({ username: 'grace', globalName: 'Grace' });
    const heidi = fake.user({ username: 'heidi', globalName: 'Heidi' });

    const first = grace.post(help, 'My order is late');
    const recorded = await inboundMessage(world, (body) => body.text === 'My order is late');
    // A thread opened from a message has the message's id.
    expect(fake.threadsOf(help)).toEqual([{ id: first.id, name: 'Grace' }]);
    const customerId = `discord:${guild.id}:${help}:${first.id}`;
    expect(recorded.body.channel.from.id).toBe(customerId);

    heidi.post(help, 'I need help too');
    const other = await inboundMessage(world, (body) => body.text === 'I need help too');
    expect(other.body.channel.from.id).not.toBe(customerId);
    expect(fake.threadsOf(help)).toHaveLength(2);

    grace.post(help, 'Any news?');
    grace.post(first.id, 'writing in my thread');
    await inboundMessage(world, (body) => body.text === 'writing in my thread');
    expect(textsFrom(world, customerId)).toEqual(['My order is late', 'Any news?', 'writing in my thread']);
    expect(fake.threadsOf(help)).toHaveLength(2);

    const delivery = await world.harness.emulator.agent.sendText(recorded.conversationId!, 'It ships today');
    await receiptOf(world, delivery.messageId);
    expect(fake.sent(first.id).map((sent) => sent.content)).toEqual(['It ships today']);
  });

  it("ignores the bot's own messages and other bots'", async () => {
    world = await startWorld({ connector: (fake) => ({ channelIds: [fake.guild('Support').channel('general')] }) });
    const general = world.fake.guild('Support').channel('general');
    const customer = world.fake.user({ username: 'ivan' });
    customer.post(general, 'first');
    const recorded = await inboundMessage(world, (body) => body.text === 'first');
    // The agent's message comes back on the gateway as the bot's own message.
    await receiptOf(world, (await world.harness.emulator.agent.sendText(recorded.conversationId!, 'from the agent')).messageId);
    world.fake.user({ username: 'otherbot' });
    customer.post(general, 'second');
    await inboundMessage(world, (body) => body.text === 'second');
    expect(textsFrom(world, recorded.body.channel.from.id)).toEqual(['first', 'second']);
  });
});

describe('what the agent reads', () => {
  it('forwards an edit once as a message marked "(edited)"', async () => {
    world = await startWorld();
    const judy = world.fake.user({ username: 'judy' });
    const original = judy.dm('I ordered 2');
    await inboundMessage(world, (body) => body.text === 'I ordered 2');
    const edited = judy.edit(original.channel_id, original.id, 'I ordered 3');
    // The gateway repeating the update must not repeat the edit.
    world.fake.redispatch(original.channel_id, original.id);
    judy.dm('thanks');
    await inboundMessage(world, (body) => body.text === 'thanks');
    const customerId = `discord:dm:${judy.id}`;
    expect(textsFrom(world, customerId)).toEqual(['I ordered 2', '(edited) I ordered 3', 'thanks']);
    const edit = world.harness.emulator.inbound({ kind: 'message' }).find((record) => record.body.text === '(edited) I ordered 3');
    expect(edit?.body.channel.metadata.customAttributes.discordEditedMessageId).toBe(original.id);
    expect(edit?.body.channel.messageId).toBe(`${original.id}:edit:${Date.parse(String(edited.edited_timestamp))}`);
  });

  it('quotes the message replied to and shows stickers and embeds as text', async () => {
    world = await startWorld();
    const ken = world.fake.user({ username: 'ken', globalName: 'Ken' });
    const question = ken.dm('Which plan do I have?');
    await inboundMessage(world, (body) => body.text === 'Which plan do I have?');
    ken.dm({
      content: 'this one',
      replyTo: question.id,
      stickers: ['thumbs up'],
      embeds: [{ title: 'Order #42', description: 'Two items', fields: [{ name: 'Total', value: '12 EUR' }] }],
    });
    const recorded = await inboundMessage(world, (body) => String(body.text).includes('this one'));
    expect(recorded.body.text).toBe(
      '> Ken: Which plan do I have?\nthis one\n[Sticker: thumbs up]\n[Embed] Order #42\nTwo items\nTotal: 12 EUR',
    );
    expect(recorded.body.channel.metadata.customAttributes.discordReplyToMessageId).toBe(question.id);
  });

  it('sends each file of a message as its own Genesys message, served through Parley', async () => {
    world = await startWorld();
    const files = [
      { data: randomBytes(1000), filename: 'a.png', contentType: 'image/png' },
      { data: randomBytes(2000), filename: 'b.pdf', contentType: 'application/pdf' },
    ];
    const message = world.fake.user({ username: 'liam' }).dm({ content: 'two files', files });
    const second = await inboundMessage(world, (body) => body.channel?.messageId === `${message.id}:1`);
    const first = await inboundMessage(world, (body) => body.channel?.messageId === message.id);
    expect(first.body.text).toBe('two files');
    expect(second.body.text).toBeUndefined();
    for (const [record, file] of [[first, files[0]!], [second, files[1]!]] as const) {
      const attachment = record.body.content[0].attachment;
      expect(attachment).toMatchObject({ mime: file.contentType, filename: file.filename });
      expect(attachment.url.startsWith(`${world.harness.url}/media/`)).toBe(true);
      const response = await fetch(attachment.url);
      expect(Buffer.from(await response.arrayBuffer()).equals(file.data)).toBe(true);
    }
    expect(second.body.content[0].attachment.mediaType).toBe('File');
  });

  it('forwards typing in a served server channel', async () => {
    world = await startWorld({ connector: (fake) => ({ channelIds: [fake.guild('Support').channel('general')] }) });
    const guild = world.fake.guild('Support');
    const general = guild.channel('general');
    world.fake.user({ username: 'mia' }).typing(general);
    const customerId = `discord:${guild.id}:${general}`;
    const recorded = await world.harness.emulator.waitForInbound(
      (record) => record.kind === 'event' && record.body?.channel?.from?.id === customerId,
      10_000,
    );
    expect(recorded.body.events[0].eventType).toBe('Typing');
  });

  it('serves DMs without the privileged Message Content intent', async () => {
    world = await startWorld({ fake: { messageContentIntent: false } });
    world.fake.user({ username: 'nina' }).dm('no privileged intent needed');
    await inboundMessage(world, (body) => body.text === 'no privileged intent needed');
  });
});
