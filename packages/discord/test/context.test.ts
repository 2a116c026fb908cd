/**
 * The connector on its own, with testkit's in-memory ConnectorContext in place of the host, against
 * the fake Discord: what the conformance harness cannot show. A real restart is a new connector
 * instance on the same store (the harness only stops and starts one instance, whose memory keeps
 * what the store forgot), here core's SQLite store with its real expiry. A hand-off to core that
 * fails is a `receive()` that throws what core throws (the harness builds its store privately,
 * so a briefly locked store cannot be arranged through it).
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { createSqliteStore, PermanentError, RetryableError, type Connector, type SqliteStore } from '@parley/core';
import { createTestContext, type TestContext } from '@parley/testkit';
import { afterEach, describe, expect, it } from 'vitest';
import { discordConnector } from '../src/connector.js';
import { discordOptionsSchema, type DiscordOptionsInput } from '../src/options.js';
import { startDiscordFake, testOptionsFor, type DiscordFake } from '../src/testing/index.js';

/** What core's SQLite store throws while another process holds its write lock. */
const storeBusy = () => new RetryableError('STORE', 'Could not commit a batch of store writes');

const texts = (context: TestContext) =>
  context.received.map((event) => (event.kind === 'message' ? (event.text ?? '') : event.kind));

let fake: DiscordFake | undefined;
let sqlite: SqliteStore | undefined;
const connectors: Connector[] = [];

afterEach(async () => {
  for (const connector of connectors.splice(0)) await connector.stop();
  await sqlite?.close();
  sqlite = undefined;
  await fake?.close();
  fake = undefined;
});

async function startConnector(context: TestContext, extra: Partial<DiscordOptionsInput> = {}): Promise<Connector> {
  const connector = discordConnector.create(discordOptionsSchema.parse(testOptionsFor(fake!, extra)), context.context);
  connectors.push(connector);
  await connector.start();
  return connector;
}

describe('restart', () => {
  it('forwards what was written while down in a configured channel quiet for longer than trackingDays', async () => {
    fake = await startDiscordFake();
    sqlite = createSqliteStore({ path: ':memory:' });
    const store = sqlite.kv('connector:support-discord');
    const general = fake.guild('Support').channel('general');
    // A tracking window of 0.3 s: the channel's last forwarded message is older than that at the restart.
    const options = { channelIds: [general], trackingDays: 0.3 / 86_400 };
    const yves = fake.user({ username: 'yves' });

    const before = createTestContext({ id: 'support-discord', store });
    const first = await startConnector(before, options);
    yves.post(general, 'before a quiet week');
    await expect.poll(() => texts(before)).toEqual(['before a quiet week']);
    await first.stop();

    await sleep(500);
    yves.post(general, 'while down, after the quiet week');
    const after = createTestContext({ id: 'support-discord', store });
    await startConnector(after, options);
    await expect.poll(() => texts(after)).toEqual(['while down, after the quiet week']);
    yves.post(general, 'after the restart');
    await expect.poll(() => texts(after)).toEqual(['while down, after the quiet week', 'after the restart']);
  });
});

describe('a hand-off to core that fails', () => {
  async function customerWithButtons() {
    fake = await startDiscordFake();
    sqlite = createSqliteStore({ path: ':memory:' });
    const context = createTestContext({ id: 'support-discord', store: sqlite.kv('connector:support-discord') });
    const connector = await startConnector(context);
    const user = fake.user({ username: 'paz' });
    const hello = user.dm('hello');
    await expect.poll(() => texts(context)).toEqual(['hello']);
    await connector.send({
      id: 'genesys-rate-us',
      to: `discord:dm:${user.id}`,
      text: 'Rate us',
      attachments: [],
      quickReplies: [{ text: 'Great', payload: 'great' }],
      cards: [],
    });
    const sent = await fake.waitForSent((message) => message.buttons.length > 0);
    const press = () => user.pressButton(user.dmChannelId(), sent.id, sent.buttons[0]!.customId!);
    return { context, user, hello, press };
  }

  it('retries a button press while the store is briefly unavailable, then hands it on', async () => {
    const { context, press } = await customerWithButtons();
    context.failNextReceive(storeBusy(), storeBusy());
    const interactionId = press();

    await expect.poll(() => texts(context)).toEqual(['hello', 'button-response']);
    expect(context.received[1]).toMatchObject({ kind: 'button-response', platformMessageId: interactionId, payload: 'great' });
    expect(context.receiveCalls()).toBe(4);
    // Acknowledged at once all the same: Discord wants an answer within 3 s.
    expect(fake!.acks()).toEqual([{ interactionId, type: 6 }]);
  });

  it('retries an edit while the store is briefly unavailable, then hands it on', async () => {
    const { context, user, hello } = await customerWithButtons();
    context.failNextReceive(storeBusy());
    user.edit(user.dmChannelId(), hello.id, 'hello again');

    await expect.poll(() => texts(context)).toEqual(['hello', '(edited) hello again']);
  });

  it('gives up on a button press at stop() while the store is still unavailable, and says what was lost', async () => {
    const { context, press } = await customerWithButtons();
    context.failNextReceive(...Array.from({ length: 100 }, storeBusy));
    const interactionId = press();
    await expect.poll(() => context.logLines.filter((line) => line.includes('trying again')).length).toBeGreaterThan(1);

    const stopping = Date.now();
    await connectors.pop()!.stop();
    expect(Date.now() - stopping).toBeLessThan(2000);
    const line = JSON.parse(context.logLines.find((candidate) => candidate.includes('Lost a Discord button press'))!);
    expect(line).toMatchObject({ level: 50, interactionId, payload: 'great', err: { code: 'STORE' } });
    expect(context.counted).toContain('parley_discord_inbound_lost_total {"kind":"button-press","reason":"unavailable"}');
  });

  it('does not retry what core refuses for good, and says what was lost', async () => {
    const { context, press } = await customerWithButtons();
    context.failNextReceive(new PermanentError('PAYLOAD_INVALID', 'Cannot take this one'));
    const interactionId = press();

    await expect.poll(() => context.logLines.some((line) => line.includes('Lost a Discord button press'))).toBe(true);
    const line = JSON.parse(context.logLines.find((candidate) => candidate.includes('Lost a Discord button press'))!);
    expect(line).toMatchObject({ level: 50, interactionId, payload: 'great' });
    expect(context.counted).toContain('parley_discord_inbound_lost_total {"kind":"button-press","reason":"rejected"}');
    await sleep(100);
    expect(context.receiveCalls()).toBe(2);
    expect(texts(context)).toEqual(['hello']);
  });
});
