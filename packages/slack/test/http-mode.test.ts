/**
 * http mode through the real pipeline: Slack's signed Events API and interactivity requests to
 * `/connectors/<id>/webhook`, the acknowledgement after the durable enqueue, Slack's retries and
 * duplicates, and requests that are not Slack's.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { customerIdOf } from '../src/index.js';
import { messagesFrom, metricsOf, receiptOf, startSlackPipeline, waitForText, type SlackPipeline } from './support.js';

let pipeline: SlackPipeline | undefined;
afterEach(async () => {
  await pipeline?.close();
  pipeline = undefined;
});

async function dmCustomer(p: SlackPipeline, name = 'ada') {
  const user = p.fake.addUser({ name, firstName: 'Ada', lastName: 'Lovelace', email: `${name}@example.com` });
  const dm = p.fake.openDm(user.id);
  return { user, dm, customerId: customerIdOf({ team: p.fake.team.id, channel: dm.id }) };
}

describe('Slack over http (Events API)', () => {
  it('answers url_verification with the challenge', async () => {
    pipeline = await startSlackPipeline();
    expect(await pipeline.fake.verifyRequestUrl()).toBe(true);
  });

  it('relays a DM both ways: profile to Genesys, agent reply in the DM, Delivered receipt', async () => {
    pipeline = await startSlackPipeline();
    const { h, fake } = pipeline;
    const { user, dm, customerId } = await dmCustomer(pipeline);

    const posted = await fake.post({ user: user.id, channel: dm.id, text: 'My laptop will not boot' });
    expect(posted.deliveries).toMatchObject([{ acked: true, attempts: [{ status: 200 }] }]);
    const inbound = await waitForText(h, customerId, 'My laptop will not boot');
    expect(inbound.body.channel.from).toMatchObject({ id: customerId, nickname: 'ada', firstName: 'Ada', lastName: 'Lovelace', email: 'ada@example.com' });
    expect(inbound.body.channel.messageId).toBe(`${dm.id}:${posted.ts}`);
    expect(inbound.body.channel.metadata.customAttributes).toMatchObject({ slackTeamId: fake.team.id, slackTeamName: 'Parley Test', slackChannelId: dm.id, slackUserId: user.id });

    const delivery = await h.emulator.agent.sendText(inbound.conversationId!, 'Hold the power button for 10 s');
    const reply = await fake.waitForSent((message) => message.text === 'Hold the power button for 10 s');
    expect(reply).toMatchObject({ channel: dm.id });
    expect(reply.threadTs).toBeUndefined();
    expect((await receiptOf(h, delivery.messageId)).status).toBe('Delivered');
  });

  it('rejects a wrong signature, a stale timestamp and missing headers with 401, and queues nothing', async () => {
    pipeline = await startSlackPipeline();
    const { h, fake } = pipeline;
    const { user, dm, customerId } = await dmCustomer(pipeline);
    const forged = (text: string) =>
      JSON.stringify({
        token: 'x',
        team_id: fake.team.id,
        type: 'event_callback',
        event_id: `EvForged${text.length}`,
        event_time: Math.floor(Date.now() / 1000),
        event: { type: 'message', channel: dm.id, channel_type: 'im', user: user.id, text, ts: `${Math.floor(Date.now() / 1000)}.000100` },
      });

    const wrongSecret = await fake.postSigned({ body: forged('forged: wrong secret'), secret: 'not-the-signing-secret' });
    const stale = await fake.postSigned({ body: forged('forged: ten minutes old'), timestamp: Math.floor(Date.now() / 1000) - 600 });
    const unsigned = await fake.postSigned({ body: forged('forged: no headers'), signature: null });
    const tampered = await fake.postSigned({ body: forged('forged: other body'), signature: 'v0=0123456789abcdef' });
    expect([wrongSecret.status, stale.status, unsigned.status, tampered.status]).toEqual([401, 401, 401, 401]);

    // Per-conversation order: once the genuine message is at Genesys, a forged one would be too.
    await fake.post({ user: user.id, channel: dm.id, text: 'the genuine one' });
    await waitForText(h, customerId, 'the genuine one');
    expect(messagesFrom(h, customerId).map((record) => record.body.text)).toEqual(['the genuine one']);
    expect(await metricsOf(h)).toMatch(/parley_inbound_events_total\{[^}]*kind="message"[^}]*outcome="queued"[^}]*\} 1\n/);
  });

  it('answers 405 to GET, 400 to a signed body that is not JSON, and 413 to an oversized body', async () => {
    pipeline = await startSlackPipeline();
    const { fake, webhookUrl } = pipeline;
    const get = await fetch(webhookUrl);
    expect(get.status).toBe(405);
    expect((await fake.postSigned({ body: '{"type": "event_callback"' })).status).toBe(400);
    expect((await fake.postSigned({ body: JSON.stringify({ padding: 'x'.repeat(1_100_000) }) })).status).toBe(413);
  });

  it('reaches Genesys once when Slack retries an event it thinks timed out', async () => {
    // Slack gives up waiting after 300 ms here, while the first attempt waits 1 s for users.info: a
    // margin wide enough that a busy machine (late timers) cannot make the slow answer look fast.
    // The last retry comes after that answer, so one attempt is acknowledged.
    pipeline = await startSlackPipeline({
      fake: { ackTimeoutMs: 300, retryDelaysMs: [0, 50, 50, 500] },
      options: { lookupTimeoutMs: 3000 },
    });
    const { h, fake } = pipeline;
    const { user, dm, customerId } = await dmCustomer(pipeline);
    fake.failNext({ method: 'users.info', delayMs: 1000 });

    const posted = await fake.post({ user: user.id, channel: dm.id, text: 'are you there?' });
    const [delivery] = posted.deliveries;
    expect(delivery!.attempts[0]).toMatchObject({ retryNum: 0, error: 'http_timeout' });
    expect(delivery!.acked).toBe(true);
    expect(delivery!.attempts.length).toBeGreaterThan(1);
    // The first attempt is still waiting for users.info: let it finish before the next message.
    await waitForText(h, customerId, 'are you there?');

    await fake.post({ user: user.id, channel: dm.id, text: 'the next message' });
    await waitForText(h, customerId, 'the next message');
    expect(messagesFrom(h, customerId).map((record) => record.body.text)).toEqual(['are you there?', 'the next message']);
  });

  it('reaches Genesys once when Slack delivers the same event_id again', async () => {
    pipeline = await startSlackPipeline();
    const { h, fake } = pipeline;
    const { user, dm, customerId } = await dmCustomer(pipeline);
    await fake.post({ user: user.id, channel: dm.id, text: 'only once' });
    const again = await fake.redeliver();
    expect(again).toMatchObject({ acked: true, attempts: [{ retryNum: 1, status: 200 }] });
    await fake.post({ user: user.id, channel: dm.id, text: 'after the duplicate' });
    await waitForText(h, customerId, 'after the duplicate');
    expect(messagesFrom(h, customerId).map((record) => record.body.text)).toEqual(['only once', 'after the duplicate']);
  });

  it('forwards a message without the profile when users.info fails, instead of failing it', async () => {
    pipeline = await startSlackPipeline();
    const { h, fake } = pipeline;
    const { user, dm, customerId } = await dmCustomer(pipeline);
    fake.failNext({ method: 'users.info', error: 'ratelimited' });
    const posted = await fake.post({ user: user.id, channel: dm.id, text: 'still forwarded without a profile' });
    expect(posted.deliveries[0]!.acked).toBe(true);
    const inbound = await waitForText(h, customerId, 'still forwarded without a profile');
    expect(inbound.body.channel.from.nickname).toBe(user.id);
  });

  it('sends a quick-reply press (signed, form-encoded interactivity) to Genesys as a structured response', async () => {
    pipeline = await startSlackPipeline();
    const { h, fake } = pipeline;
    const { user, dm, customerId } = await dmCustomer(pipeline);
    await fake.post({ user: user.id, channel: dm.id, text: 'I need a new badge' });
    const inbound = await waitForText(h, customerId, 'I need a new badge');
    const delivery = await h.emulator.agent.send(inbound.conversationId!, {
      type: 'Structured',
      text: 'Which building?',
      content: [
        { contentType: 'QuickReply', quickReply: { text: 'North', payload: 'building-n', action: 'Message' } },
        { contentType: 'QuickReply', quickReply: { text: 'South', payload: 'building-s', action: 'Message' } },
      ],
      originatingEntity: 'Bot',
    });
    const question = await fake.waitForSent((message) => message.blocks !== undefined);
    expect(question.text).toBe('Which building?');
    const press = await fake.pressButton({ user: user.id, channel: dm.id, messageTs: question.ts, value: 'building-s' });
    expect(press).toMatchObject({ acked: true, attempts: [{ status: 200 }] });
    const response = await h.emulator.waitForInbound((record) => record.kind === 'structured-response');
    expect(response.body).toMatchObject({
      channel: { from: { id: customerId } },
      originatingMessageId: delivery.messageId,
      buttonResponse: { type: 'QuickReply', text: 'South', payload: 'building-s' },
    });
  });
});
