/**
 * Agent → Slack through the real pipeline: escaping and splitting, files with the external-upload
 * flow, Block Kit for quick replies and cards, an agent writing first, and what the agent learns
 * when Slack refuses (Failed receipts with Slack's reason) or throttles (retried).
 */
import { randomBytes } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { customerIdOf } from '../src/index.js';
import { unescapeMrkdwn } from '../src/testing/index.js';
import { postAgentMessage, receiptOf, startSlackPipeline, waitForText, type SlackPipeline } from './support.js';

let pipeline: SlackPipeline | undefined;
afterEach(async () => {
  await pipeline?.close();
  pipeline = undefined;
});

async function dm(p: SlackPipeline) {
  const user = p.fake.addUser({ name: 'ada' });
  const channel = p.fake.openDm(user.id);
  return { user, channel, customerId: customerIdOf({ team: p.fake.team.id, channel: channel.id }) };
}

describe('agent messages to Slack', () => {
  it('escapes mrkdwn and splits long text at Slack limits, in order', async () => {
    pipeline = await startSlackPipeline();
    const { h, fake } = pipeline;
    const { channel, customerId } = await dm(pipeline);
    const id = await postAgentMessage(h, customerId, { text: 'Use <b>bold</b> & ping <!channel> <@U0PARLEYBOT>' });
    const escaped = await fake.waitForSent((message) => message.text.startsWith('Use'));
    expect(escaped.text).toBe('Use &lt;b&gt;bold&lt;/b&gt; &amp; ping &lt;!channel&gt; &lt;@U0PARLEYBOT&gt;');
    await receiptOf(h, id);

    const paragraph = `${'word '.repeat(199)}end.`;
    const long = Array.from({ length: 8 }, (_, index) => `${index + 1}. ${paragraph}`).join('\n');
    const longId = await postAgentMessage(h, customerId, { text: long });
    expect((await receiptOf(h, longId)).status).toBe('Delivered');
    const parts = fake.sent(channel.id).slice(1);
    expect(parts.length).toBeGreaterThan(2);
    for (const part of parts) expect(part.text.length).toBeLessThanOrEqual(3000);
    expect(parts.map((part) => part.text).join('\n')).toBe(long);
  });

  it('uploads an agent file with the external-upload flow into the customer thread', async () => {
    pipeline = await startSlackPipeline();
    const { h, fake } = pipeline;
    const grace = fake.addUser({ name: 'grace' });
    const channel = fake.addChannel({ name: 'it-help', members: [grace.id] });
    const top = await fake.post({ user: grace.id, channel: channel.id, text: `<@${fake.bot.userId}> need the VPN guide` });
    const customerId = customerIdOf({ team: fake.team.id, channel: channel.id, threadTs: top.ts });
    await waitForText(h, customerId, 'need the VPN guide');

    const data = randomBytes(4000);
    const url = h.hostFile({ data, mime: 'application/pdf', filename: 'vpn-guide.pdf' });
    const id = await postAgentMessage(h, customerId, {
      text: 'Here it is',
      content: [{ contentType: 'Attachment', attachment: { mediaType: 'File', url, mime: 'application/pdf', filename: 'vpn-guide.pdf', text: 'VPN guide' } }],
    });
    expect((await receiptOf(h, id)).status).toBe('Delivered');
    const [text, file] = fake.sent(channel.id);
    expect(text).toMatchObject({ text: 'Here it is', threadTs: top.ts });
    expect(file).toMatchObject({ text: 'VPN guide', threadTs: top.ts });
    expect(file!.files).toHaveLength(1);
    expect(file!.files[0]).toMatchObject({ name: 'vpn-guide.pdf', mimetype: 'application/pdf' });
    expect(file!.files[0]!.data.equals(data)).toBe(true);
    expect(fake.calls().map((call) => call.method)).toEqual(expect.arrayContaining(['files.getUploadURLExternal', 'files.completeUploadExternal']));
  });

  it('resumes a partly sent message after a failure without repeating the parts already shown', async () => {
    pipeline = await startSlackPipeline();
    const { h, fake } = pipeline;
    const { channel, customerId } = await dm(pipeline);
    const url = h.hostFile({ data: randomBytes(100), mime: 'image/png', filename: 'a.png' });
    fake.failNext({ method: 'files.completeUploadExternal', status: 503 });
    const id = await postAgentMessage(h, customerId, {
      text: 'before the file',
      content: [{ contentType: 'Attachment', attachment: { mediaType: 'Image', url, mime: 'image/png', filename: 'a.png' } }],
    });
    expect((await receiptOf(h, id)).status).toBe('Delivered');
    const sent = fake.sent(channel.id);
    expect(sent.map((message) => [message.text, message.files.length])).toEqual([
      ['before the file', 0],
      ['', 1],
    ]);
  });

  it('shows a carousel as Block Kit cards; a postback press comes back as a Button response', async () => {
    pipeline = await startSlackPipeline({ mode: 'socket' });
    const { h, fake } = pipeline;
    const { user, channel, customerId } = await dm(pipeline);
    await fake.post({ user: user.id, channel: channel.id, text: 'which plan?' });
    const inbound = await waitForText(h, customerId, 'which plan?');
    const card = (title: string, payload: string) => ({
      title,
      description: `${title} & more`,
      actions: [
        { type: 'Postback', text: `Choose ${title}`, payload },
        { type: 'Link', text: 'Details', url: `https://example.com/${payload}` },
      ],
    });
    const delivery = await h.emulator.agent.send(inbound.conversationId!, {
      type: 'Structured',
      content: [{ contentType: 'Carousel', carousel: { cards: [card('Basic', 'plan-basic'), card('Premium', 'plan-premium')] } }],
      originatingEntity: 'Bot',
    });
    expect((await receiptOf(h, delivery.messageId)).status).toBe('Delivered');
    const cards = fake.sent(channel.id);
    expect(cards).toHaveLength(2);
    expect(cards[1]!.blocks).toEqual([
      { type: 'section', text: { type: 'mrkdwn', text: '*Premium*\nPremium &amp; more' } },
      {
        type: 'actions',
        block_id: `parley|btn|${delivery.messageId}|0`,
        elements: [
          { type: 'button', text: { type: 'plain_text', text: 'Choose Premium', emoji: true }, action_id: 'parley-0', value: 'plan-premium' },
          { type: 'button', text: { type: 'plain_text', text: 'Details', emoji: true }, action_id: 'parley-link-1', url: 'https://example.com/plan-premium' },
        ],
      },
    ]);
    expect(unescapeMrkdwn(cards[1]!.text)).toBe('*Premium*\nPremium & more');

    // Slack reports link presses too; they are acknowledged and not forwarded.
    expect((await fake.pressButton({ user: user.id, channel: channel.id, messageTs: cards[1]!.ts, actionId: 'parley-link-1' })).acked).toBe(true);
    await fake.pressButton({ user: user.id, channel: channel.id, messageTs: cards[1]!.ts, value: 'plan-premium' });
    const response = await h.emulator.waitForInbound((record) => record.kind === 'structured-response');
    expect(response.body).toMatchObject({
      originatingMessageId: delivery.messageId,
      buttonResponse: { type: 'Button', text: 'Choose Premium', payload: 'plan-premium' },
    });
    expect(h.emulator.inbound({ kind: 'structured-response' })).toHaveLength(1);
  });

  it('writes first to a person named by user id, opening the DM once', async () => {
    pipeline = await startSlackPipeline();
    const { h, fake } = pipeline;
    const user = fake.addUser({ name: 'ada' });
    const customerId = customerIdOf({ team: fake.team.id, channel: user.id });
    const first = await postAgentMessage(h, customerId, { text: 'Your laptop is ready for pickup' });
    const second = await postAgentMessage(h, customerId, { text: 'Desk 4B' });
    expect((await receiptOf(h, first)).status).toBe('Delivered');
    expect((await receiptOf(h, second)).status).toBe('Delivered');
    expect(fake.sent(fake.openDm(user.id).id).map((message) => message.text)).toEqual(['Your laptop is ready for pickup', 'Desk 4B']);
    expect(fake.calls('conversations.open')).toHaveLength(1);
  });

  it("turns each refusal Slack can give into a Failed receipt that names Slack's error", async () => {
    pipeline = await startSlackPipeline();
    const { h, fake } = pipeline;
    const { customerId } = await dm(pipeline);
    const refusals = [
      ['channel_not_found', 'InvalidDestination'],
      ['not_in_channel', 'InvalidDestination'],
      ['is_archived', 'InvalidDestination'],
      ['account_inactive', 'GeneralError'],
      ['invalid_auth', 'GeneralError'],
      ['missing_scope', 'GeneralError'],
    ] as const;
    for (const [error, code] of refusals) {
      fake.failNext({ method: 'chat.postMessage', error });
      const failed = await postAgentMessage(h, customerId, { text: `will not arrive (${error})` });
      const receipt = await receiptOf(h, failed);
      expect(receipt.status, error).toBe('Failed');
      expect(receipt.reasons?.[0], error).toMatchObject({ code, message: expect.stringContaining(`(${error})`) });
      expect(receipt.reasons?.[0]?.message).not.toContain(fake.botToken);
    }
    const next = await postAgentMessage(h, customerId, { text: 'the next one' });
    expect((await receiptOf(h, next)).status).toBe('Delivered');
    expect(fake.sent().map((message) => message.text)).toEqual(['the next one']);
  });

  it('fails a message to an archived channel with is_archived, as Slack answers it', async () => {
    pipeline = await startSlackPipeline();
    const { h, fake } = pipeline;
    const channel = fake.addChannel({ name: 'old-project' });
    fake.archive(channel.id);
    const failed = await postAgentMessage(h, customerIdOf({ team: fake.team.id, channel: channel.id }), { text: 'hello?' });
    expect((await receiptOf(h, failed)).reasons?.[0]).toEqual({ code: 'InvalidDestination', message: 'The Slack channel is archived (is_archived)' });
  });

  it('retries after 429 (Retry-After) and 5xx, then delivers once', async () => {
    pipeline = await startSlackPipeline();
    const { h, fake } = pipeline;
    const { channel, customerId } = await dm(pipeline);
    fake.failNext({ method: 'chat.postMessage', status: 429, retryAfterSeconds: 1 });
    fake.failNext({ method: 'chat.postMessage', status: 503 });
    const started = Date.now();
    const id = await postAgentMessage(h, customerId, { text: 'eventually' });
    expect((await receiptOf(h, id)).status).toBe('Delivered');
    expect(Date.now() - started).toBeGreaterThanOrEqual(900);
    expect(fake.sent(channel.id).map((message) => message.text)).toEqual(['eventually']);
    expect(fake.calls('chat.postMessage')).toHaveLength(3);
  });

  it('looks a profile up once for many messages (users.info is cached)', async () => {
    pipeline = await startSlackPipeline();
    const { h, fake } = pipeline;
    const { user, channel, customerId } = await dm(pipeline);
    for (const text of ['one', 'two', 'three']) await fake.post({ user: user.id, channel: channel.id, text });
    await waitForText(h, customerId, 'three');
    expect(fake.calls('users.info')).toHaveLength(1);
  });
});
