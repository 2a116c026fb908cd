/**
 * The connector on its own, with a hand-made ConnectorContext in place of the host, against the
 * fake Discord: what the conformance harness cannot show. A real restart is a new connector
 * instance on the same store (the harness only stops and starts one instance, whose memory keeps
 * what the store forgot), here core's SQLite store with its real expiry. A hand-off to core that
 * fails is a `receive()` that throws what core throws (the harness builds its store privately,
 * so a briefly locked store cannot be arranged through it).
 */
import { setTimeout as sleep } from 'node:timers/promises';
import {
  createLogger,
  createSqliteStore,
  type Connector,
  type ConnectorContext,
  type InboundEvent,
  type KeyValueStore,
  type ReceiveResult,
  type SqliteStore,
} from '@parley/core';
import { afterEach, describe, expect, it } from 'vitest';
import { discordConnector } from '../src/connector.js';
import { discordOptionsSchema, type DiscordOptionsInput } from '../src/options.js';
import { startDiscordFake, testOptionsFor, type DiscordFake } from '../src/testing/index.js';

interface TestContext extends ConnectorContext {
  received: InboundEvent[];
  lines: string[];
  /** Counter increments, as `name {labels}`. */
  counted: string[];
  /** What the next receive() calls throw; then they queue normally. */
  failures: Error[];
  /** receive() calls so far, failed ones included. */
  calls(): number;
}

function testContext(store: KeyValueStore): TestContext {
  const lines: string[] = [];
  const received: InboundEvent[] = [];
  const counted: string[] = [];
  const failures: Error[] = [];
  const seen = new Set<string>();
  let calls = 0;
  return {
    id: 'support-discord',
    webhookUrl: 'http://127.0.0.1/connectors/support-discord/webhook',
    logger: createLogger({ level: 'debug', destination: { write: (line: string) => void lines.push(line) } }),
    metrics: {
      counter: (name) => ({ inc: (labels) => void counted.push(`${name} ${JSON.stringify(labels ?? {})}`) }),
      histogram: () => ({ observe: () => undefined }),
    },
    store,
    media: { url: (ref) => `http://parley.test/media/${encodeURIComponent(ref)}` },
    async receive(event): Promise<ReceiveResult> {
      calls += 1;
      const failure = failures.shift();
      if (failure) throw failure;
      const key = event.kind === 'typing' ? '' : event.platformMessageId;
      if (seen.has(key)) return { duplicate: true };
      seen.add(key);
      received.push(event);
      return { duplicate: false };
    },
    downloadAttachment: async () => {
      throw new Error('no attachments here');
    },
    received,
    lines,
    counted,
    failures,
    calls: () => calls,
  };
}

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
  const connector = discordConnector.create(discordOptionsSchema.parse(testOptionsFor(fake!, extra)), context);
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

    const before = testContext(store);
    const first = await startConnector(before, options);
    yves.post(general, 'before a quiet week');
    await expect.poll(() => texts(before)).toEqual(['before a quiet week']);
    await first.stop();

    await sleep(500);
    yves.post(general, 'while down, after the quiet week');
    const after = testContext(store);
    await startConnector(after, options);
    await expect.poll(() => texts(after)).toEqual(['while down, after the quiet week']);
    yves.post(general, 'after the restart');
    await expect.poll(() => texts(after)).toEqual(['while down, after the quiet week', 'after the restart']);
  });
});
