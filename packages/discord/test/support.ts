/**
 * The pipeline around the Discord connector for its own tests: the conformance harness (Genesys
 * emulator, SQLite store, createParley) with a fake Discord configured per test, plus the waits
 * the tests share.
 */
import { startHarness, type Harness, type HarnessOptions } from '@parley/testkit/conformance';
import type { RecordedInbound } from '@parley/testkit';
import { expect } from 'vitest';
import { discordConnector } from '../src/connector.js';
import type { DiscordOptionsInput } from '../src/options.js';
import { discordPlatformDriver, startDiscordFake, testOptionsFor, type DiscordFake, type DiscordFakeOptions } from '../src/testing/index.js';

export interface World {
  harness: Harness;
  fake: DiscordFake;
}

export interface WorldOptions {
  /** Connector options on top of the test defaults; a function gets the fake (for its ids). */
  connector?: Partial<DiscordOptionsInput> | ((fake: DiscordFake) => Partial<DiscordOptionsInput>);
  fake?: DiscordFakeOptions;
  harness?: HarnessOptions;
}

/** Starts a fake Discord and the pipeline around the connector, configured by `options`. */
export async function startWorld(options: WorldOptions = {}): Promise<World> {
  let fake: DiscordFake | undefined;
  const harness = await startHarness(
    {
      name: 'discord',
      definition: discordConnector,
      async setup() {
        fake = await startDiscordFake(options.fake);
        const extra = typeof options.connector === 'function' ? options.connector(fake) : options.connector;
        return { driver: discordPlatformDriver(fake), options: testOptionsFor(fake, extra) };
      },
    },
    options.harness,
  );
  return { harness, fake: fake! };
}

/** Stops everything and checks that no secret reached the logs. */
export async function closeWorld(world: World | undefined): Promise<void> {
  if (!world) return;
  await world.harness.close();
  const leaked = world.harness.secrets.filter((secret) => world.harness.logs().some((line) => line.includes(secret)));
  expect(leaked, 'secret option values must never reach the logs').toEqual([]);
}

/** The running connector instance. */
export function connectorOf(world: World) {
  const slot = world.harness.parley.connector(world.harness.connectorId);
  if (!slot) throw new Error('no connector');
  return slot.connector;
}

/** Waits for a customer message at Genesys whose body matches. */
export function inboundMessage(world: World, match: (body: any) => boolean, timeoutMs = 10_000): Promise<RecordedInbound> {
  return world.harness.emulator.waitForInbound((record) => record.kind === 'message' && match(record.body), timeoutMs);
}

/** Texts Genesys received from `customerId`, in order (every copy). */
export function textsFrom(world: World, customerId: string): string[] {
  return world.harness.emulator
    .inbound({ kind: 'message' })
    .filter((record) => record.body?.channel?.from?.id === customerId)
    .map((record) => String(record.body.text ?? ''));
}

/** The Genesys conversation a customer's message opened. */
export function conversationOf(world: World, customerId: string): string {
  const conversation = world.harness.emulator.conversationFor(world.harness.integrationId, customerId);
  if (!conversation) throw new Error(`no conversation for ${customerId}`);
  return conversation.id;
}

/** Waits for the receipt of an agent message. */
export function receiptOf(world: World, genesysMessageId: string): Promise<RecordedInbound> {
  return world.harness.emulator.waitForInbound((record) => record.kind === 'receipt' && record.body?.id === genesysMessageId, 10_000);
}
