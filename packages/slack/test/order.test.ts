/**
 * Per-conversation order on the way to Genesys, through the real pipeline in both modes. Each
 * message waits for profile lookups before it is handed to core, and Slack sends events without
 * waiting for earlier acknowledgements: a message whose lookup is slow must still reach the agent
 * before the customer's next one, while Slack gets every answer within its 3 s, and other
 * conversations do not wait for it.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { customerIdOf } from '../src/index.js';
import { eventually, messagesFrom, startSlackPipeline, waitForText, type SlackPipeline } from './support.js';

let pipeline: SlackPipeline | undefined;
afterEach(async () => {
  await pipeline?.close();
  pipeline = undefined;
});

/** A customer in a DM whose own profile is cached already (one message forwarded), and two people to mention. */
async function dmCustomer(p: SlackPipeline) {
  const { h, fake } = p;
  const grace = fake.addUser({ name: 'grace' });
  const alan = fake.addUser({ name: 'alan', displayName: 'Alan T.' });
  const edsger = fake.addUser({ name: 'edsger', displayName: 'Edsger D.' });
  const dm = fake.openDm(grace.id);
  const customerId = customerIdOf({ team: fake.team.id, channel: dm.id });
  await fake.post({ user: grace.id, channel: dm.id, text: 'hello' });
  await waitForText(h, customerId, 'hello');
  return { grace, alan, edsger, dm, customerId };
}

/** Resolves once the fake got a users.info call for `userId`: the message mentioning them is waiting for it. */
function lookupStarted(p: SlackPipeline, userId: string) {
  return eventually(() => p.fake.calls('users.info').some((call) => call.params['user'] === userId), `users.info of ${userId}`);
}

describe.each(['socket', 'http'] as const)('Slack message order (%s mode)', (mode) => {
  it('forwards a message that waits for a slow profile lookup before the next message of the same conversation', async () => {
    pipeline = await startSlackPipeline({ mode });
    const { h, fake } = pipeline;
    const { grace, alan, dm, customerId } = await dmCustomer(pipeline);

    fake.failNext({ method: 'users.info', delayMs: 800 });
    const first = fake.post({ user: grace.id, channel: dm.id, text: `ask <@${alan.id}> about the invoice` });
    await lookupStarted(pipeline, alan.id);
    const second = fake.post({ user: grace.id, channel: dm.id, text: 'it is urgent' });

    await Promise.all([first, second]);
    await waitForText(h, customerId, 'it is urgent');
    await waitForText(h, customerId, 'ask @Alan T. about the invoice');
    expect(messagesFrom(h, customerId).map((record) => record.body.text)).toEqual([
      'hello',
      'ask @Alan T. about the invoice',
      'it is urgent',
    ]);
  });

  it('answers Slack within 3 s when a message with slow lookups of its own waits behind one with slow lookups', async () => {
    pipeline = await startSlackPipeline({ mode, options: { lookupTimeoutMs: 2000 } });
    const { h, fake } = pipeline;
    const { grace, alan, edsger, dm, customerId } = await dmCustomer(pipeline);

    // Both lookups outlast lookupTimeoutMs: each message goes on without the name after 2 s.
    // Waiting for them one after the other would take 4 s, past Slack's 3 s.
    fake.failNext({ method: 'users.info', delayMs: 2500, times: 2 });
    const first = fake.post({ user: grace.id, channel: dm.id, text: `ask <@${alan.id}>` });
    await lookupStarted(pipeline, alan.id);
    const second = fake.post({ user: grace.id, channel: dm.id, text: `or <@${edsger.id}>` });

    const posted = await Promise.all([first, second]);
    for (const { deliveries } of posted) {
      expect(deliveries.map((delivery) => ({ acked: delivery.acked, attempts: delivery.attempts.length }))).toEqual([{ acked: true, attempts: 1 }]);
    }
    await waitForText(h, customerId, `or @${edsger.id}`);
    expect(messagesFrom(h, customerId).map((record) => record.body.text)).toEqual(['hello', `ask @${alan.id}`, `or @${edsger.id}`]);
  });

  it('bridges a thread reply sent while the mention that starts its thread waits for a slow lookup, after that mention', async () => {
    pipeline = await startSlackPipeline({ mode });
    const { h, fake } = pipeline;
    const { grace, alan } = await dmCustomer(pipeline);
    const channel = fake.addChannel({ name: 'it-help', members: [grace.id, alan.id] });

    fake.failNext({ method: 'users.info', delayMs: 800 });
    const mention = fake.post({ user: grace.id, channel: channel.id, text: `<@${fake.bot.userId}> <@${alan.id}> broke the printer` });
    await lookupStarted(pipeline, alan.id);
    // The reply comes before the mention made its thread a conversation.
    const top = fake.messages(channel.id)[0]!;
    const reply = fake.post({ user: grace.id, channel: channel.id, threadTs: top.ts, text: 'the one on floor 2' });

    await Promise.all([mention, reply]);
    const customerId = customerIdOf({ team: fake.team.id, channel: channel.id, threadTs: top.ts });
    await waitForText(h, customerId, 'the one on floor 2');
    expect(messagesFrom(h, customerId).map((record) => record.body.text)).toEqual(['@Alan T. broke the printer', 'the one on floor 2']);
  });

  it('does not hold up another conversation behind a slow lookup', async () => {
    pipeline = await startSlackPipeline({ mode });
    const { h, fake } = pipeline;
    const { grace, alan, dm, customerId } = await dmCustomer(pipeline);
    const ada = fake.addUser({ name: 'ada' });
    const adaDm = fake.openDm(ada.id);
    const adaId = customerIdOf({ team: fake.team.id, channel: adaDm.id });

    fake.failNext({ method: 'users.info', delayMs: 1000 });
    const slow = fake.post({ user: grace.id, channel: dm.id, text: `ask <@${alan.id}>` });
    await lookupStarted(pipeline, alan.id);
    await fake.post({ user: ada.id, channel: adaDm.id, text: 'hi there' });
    await waitForText(h, adaId, 'hi there');
    // Ada's message went through while Grace's was still waiting for Alan's profile.
    expect(messagesFrom(h, customerId).map((record) => record.body.text)).toEqual(['hello']);
    await slow;
    await waitForText(h, customerId, 'ask @Alan T.');
  });
});
