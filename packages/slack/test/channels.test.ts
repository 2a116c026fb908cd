/**
 * Channels, threads and what is (not) bridged, through the real pipeline: mentions start a thread
 * conversation, replies in it follow without a mention, listed channels are bridged whole, edits
 * arrive marked, and bots (the app included) are never bridged.
 */
import { randomBytes } from 'node:crypto';
import { request } from 'undici';
import { afterEach, describe, expect, it } from 'vitest';
import { customerIdOf } from '../src/index.js';
import { inboundCounts, messagesFrom, postAgentMessage, receiptOf, startSlackPipeline, waitForText, type SlackPipeline } from './support.js';

let pipeline: SlackPipeline | undefined;
afterEach(async () => {
  await pipeline?.close();
  pipeline = undefined;
});

function people(p: SlackPipeline) {
  const grace = p.fake.addUser({ name: 'grace', realName: 'Grace Hopper' });
  const alan = p.fake.addUser({ name: 'alan', displayName: 'Alan T.', firstName: 'Alan', lastName: 'Turing' });
  const channel = p.fake.addChannel({ name: 'it-help', members: [grace.id, alan.id] });
  return { grace, alan, channel };
}

describe('Slack channels and threads', () => {
  it('turns a mention into a thread conversation: readable text, thread replies follow, the agent answers in the thread', async () => {
    pipeline = await startSlackPipeline({ mode: 'socket' });
    const { h, fake } = pipeline;
    const { grace, alan, channel } = people(pipeline);
    const bot = fake.bot.userId;

    const top = await fake.post({
      user: grace.id,
      channel: channel.id,
      text: `<@${bot}> the printer near <#${channel.id}> is jammed, <@${alan.id}> saw it &amp; <https://wiki.example.com/printers|the wiki> did not help <!here>`,
    });
    // Slack sends a `message` and an `app_mention` event for the same message.
    expect(top.deliveries).toHaveLength(2);
    const customerId = customerIdOf({ team: fake.team.id, channel: channel.id, threadTs: top.ts });
    const inbound = await waitForText(h, customerId, (text) => text.startsWith('the printer'));
    expect(inbound.body.text).toBe(
      'the printer near #it-help is jammed, @Alan T. saw it & the wiki (https://wiki.example.com/printers) did not help @here',
    );
    expect(inbound.body.channel.from).toMatchObject({ nickname: 'grace', firstName: 'Grace', lastName: 'Hopper' });
    expect(inbound.body.channel.metadata.customAttributes).toMatchObject({ slackChannelId: channel.id, slackChannelName: 'it-help' });

    // A reply in the thread, no mention: part of the conversation.
    await fake.post({ user: grace.id, channel: channel.id, threadTs: top.ts, text: 'it is the one on floor 2' });
    await waitForText(h, customerId, 'it is the one on floor 2');
    // A top-level message without a mention is just channel chatter.
    await fake.post({ user: alan.id, channel: channel.id, text: 'lunch anyone?' });

    const replyId = await postAgentMessage(h, customerId, { text: 'A technician is on the way' });
    const reply = await fake.waitForSent((message) => message.text === 'A technician is on the way');
    expect(reply).toMatchObject({ channel: channel.id, threadTs: top.ts });
    expect((await receiptOf(h, replyId)).status).toBe('Delivered');

    await fake.post({ user: grace.id, channel: channel.id, threadTs: top.ts, text: 'thanks!' });
    await waitForText(h, customerId, 'thanks!');
    expect(messagesFrom(h, customerId).map((record) => record.body.text)).toEqual([inbound.body.text, 'it is the one on floor 2', 'thanks!']);
    // Slack got its acks only after the enqueue: the chatter was acknowledged but never queued.
    expect(await inboundCounts(h)).toEqual({ queued: 3, duplicate: 1 });
  });

  it('bridges every message of a listed channel, one conversation per channel under the channel policy', async () => {
    pipeline = await startSlackPipeline({ options: { conversations: { channels: 'channel' }, events: { channels: ['C0ACMESHARED'] } } });
    const { h, fake } = pipeline;
    const { grace, alan } = people(pipeline);
    const listed = fake.addChannel({ id: 'C0ACMESHARED', name: 'ext-acme', members: [grace.id, alan.id], shared: true });
    const other = fake.addChannel({ name: 'random', members: [grace.id] });
    const customerId = customerIdOf({ team: fake.team.id, channel: listed.id });

    const first = await fake.post({ user: grace.id, channel: listed.id, text: 'our invoices are wrong' });
    await fake.post({ user: alan.id, channel: listed.id, threadTs: first.ts, text: 'since March' });
    await fake.post({ user: grace.id, channel: other.id, text: 'not for the agent' });
    await fake.post({ user: alan.id, channel: listed.id, text: 'also the PO numbers' });
    await waitForText(h, customerId, 'also the PO numbers');
    const records = messagesFrom(h, customerId);
    expect(records.map((record) => [record.body.text, record.body.channel.from.nickname])).toEqual([
      ['our invoices are wrong', 'grace'],
      ['since March', 'Alan T.'],
      ['also the PO numbers', 'Alan T.'],
    ]);
    expect(records[0]!.body.channel.metadata.customAttributes).toMatchObject({ slackChannelName: 'ext-acme', slackConnect: 'true' });
    expect((await inboundCounts(h)).queued).toBe(3);

    await postAgentMessage(h, customerId, { text: 'Looking into it' });
    const reply = await fake.waitForSent((message) => message.text === 'Looking into it');
    expect(reply).toMatchObject({ channel: listed.id });
    expect(reply.threadTs).toBeUndefined();
  });

  it('forwards an edit marked as one, once per edit, and ignores edits that leave the text alone', async () => {
    pipeline = await startSlackPipeline();
    const { h, fake } = pipeline;
    const user = fake.addUser({ name: 'ada' });
    const dm = fake.openDm(user.id);
    const customerId = customerIdOf({ team: fake.team.id, channel: dm.id });
    const original = await fake.post({ user: user.id, channel: dm.id, text: 'my order is 1234' });
    await waitForText(h, customerId, 'my order is 1234');

    const edit = await fake.edit({ channel: dm.id, ts: original.ts, text: 'my order is 1243' });
    expect(edit?.acked).toBe(true);
    const edited = await waitForText(h, customerId, '(edited) my order is 1243');
    expect(edited.body.channel.messageId).toMatch(new RegExp(`^${dm.id}:${original.ts.replace('.', '\\.')}:edit:`));
    await fake.redeliver();
    // An unfurl or a file change comes as message_changed with the same text.
    await fake.edit({ channel: dm.id, ts: original.ts, text: 'my order is 1243' });

    await fake.post({ user: user.id, channel: dm.id, text: 'marker' });
    await waitForText(h, customerId, 'marker');
    expect(messagesFrom(h, customerId).map((record) => record.body.text)).toEqual(['my order is 1234', '(edited) my order is 1243', 'marker']);
  });

  it("ignores the app's own messages, other bots and system notices", async () => {
    pipeline = await startSlackPipeline();
    const { h, fake } = pipeline;
    const user = fake.addUser({ name: 'ada' });
    const dm = fake.openDm(user.id);
    const customerId = customerIdOf({ team: fake.team.id, channel: dm.id });
    await fake.post({ user: user.id, channel: dm.id, text: 'hello' });
    const inbound = await waitForText(h, customerId, 'hello');

    // The fake echoes the app's messages back as events, as Slack does.
    const agent = await h.emulator.agent.sendText(inbound.conversationId!, 'hello from the agent');
    await receiptOf(h, agent.messageId);
    const ts = `${Math.floor(Date.now() / 1000)}.000001`;
    const otherBot = await fake.sendEvent({ type: 'message', channel: dm.id, channel_type: 'im', bot_id: 'B0OTHER', text: 'I am a bot', ts });
    const join = await fake.sendEvent({ type: 'message', subtype: 'channel_join', channel: dm.id, channel_type: 'im', user: user.id, text: 'joined', ts });
    const command = await fake.sendEvent({ type: 'reaction_added', user: user.id, reaction: 'thumbsup', item: { type: 'message', channel: dm.id, ts } });
    expect([otherBot.acked, join.acked, command.acked]).toEqual([true, true, true]);

    await fake.post({ user: user.id, channel: dm.id, text: 'marker' });
    await waitForText(h, customerId, 'marker');
    expect(h.emulator.inbound({ kind: 'message' }).map((record) => record.body.text)).toEqual(['hello', 'marker']);
  });

  it('publishes customer files through Parley media URLs and notes the ones it cannot forward', async () => {
    pipeline = await startSlackPipeline({ options: { maxFileBytes: 10_000 } });
    const { h, fake } = pipeline;
    const user = fake.addUser({ name: 'ada' });
    const dm = fake.openDm(user.id);
    const customerId = customerIdOf({ team: fake.team.id, channel: dm.id });
    const screenshot = randomBytes(2000);
    await fake.post({
      user: user.id,
      channel: dm.id,
      text: 'see attached',
      files: [
        { data: screenshot, mime: 'image/png', filename: 'error.png' },
        { data: randomBytes(20_000), mime: 'video/mp4', filename: 'screen.mp4' },
      ],
    });
    const inbound = await waitForText(h, customerId, (text) => text.startsWith('see attached'));
    expect(inbound.body.text).toBe('see attached\n[The customer shared a file too large to forward (1 MB): screen.mp4]');
    expect(inbound.body.content).toHaveLength(1);
    const { attachment } = inbound.body.content[0];
    expect(attachment).toMatchObject({ mediaType: 'Image', mime: 'image/png', filename: 'error.png' });
    expect(attachment.url.startsWith(`${h.url}/media/`)).toBe(true);
    expect(attachment.url).not.toContain(fake.botToken);

    const response = await request(attachment.url);
    expect(response.statusCode).toBe(200);
    expect(Buffer.from(await response.body.arrayBuffer()).equals(screenshot)).toBe(true);
    // Slack's download checked the bot token.
    fake.failNext({ method: 'download', status: 503 });
    const failed = await request(attachment.url);
    await failed.body.dump();
    expect(failed.statusCode).toBe(502);
  });
});
