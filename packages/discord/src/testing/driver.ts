/**
 * The conformance driver of the fake Discord, and the conformance subject that pairs it with the
 * Discord connector. Conformance customers write to the bot in direct messages; the connector's
 * own tests cover server channels, threads and support channels.
 */
import type { ConformanceSubject, PlatformDriver, ReceivedMessage } from '@parley/testkit/conformance';
import { customerIdOf } from '../addresses.js';
import { discordConnector } from '../connector.js';
import type { DiscordOptionsInput } from '../options.js';
import { parseCustomId } from '../outbound.js';

const payloadOf = (customId: string) => parseCustomId(customId)?.payload ?? customId;
import { startDiscordFake, type DiscordFake, type DiscordFakeOptions, type FakeUser, type SentMessage } from './fake.js';

/** What a customer sees of a bot message: the text with the embeds' text, the files, the buttons. */
export function receivedMessageOf(message: SentMessage): ReceivedMessage {
  const embedText = message.embeds.flatMap((embed) => [embed.title, embed.description].filter((part): part is string => Boolean(part)));
  const text = [message.content, ...embedText].filter(Boolean).join('\n');
  return {
    ...(text ? { text } : {}),
    files: message.files.map((file) => ({ data: file.data, mime: file.contentType, filename: file.filename })),
    buttons: message.buttons.map((button) => ({
      text: button.label,
      ...(button.customId !== undefined ? { payload: payloadOf(button.customId) } : {}),
      ...(button.url !== undefined ? { url: button.url } : {}),
    })),
  };
}

/**
 * A {@link PlatformDriver} over a running fake Discord. Each customer name is a Discord user who
 * writes to the bot in a direct message; their display name is the name capitalised
 * (`alice` → `Alice`), which becomes the Genesys nickname.
 */
export function discordPlatformDriver(fake: DiscordFake): PlatformDriver {
  const users = new Map<string, FakeUser>();
  let last: { channelId: string; messageId: string } | undefined;

  const displayNameOf = (customer: string) => customer.charAt(0).toUpperCase() + customer.slice(1);
  const userOf = (customer: string): FakeUser => {
    let user = users.get(customer);
    if (!user) {
      user = fake.user({ username: customer, globalName: displayNameOf(customer) });
      users.set(customer, user);
    }
    return user;
  };
  const dm = (customer: string, message: Parameters<FakeUser['dm']>[0]) => {
    const sent = userOf(customer).dm(message);
    last = { channelId: sent.channel_id, messageId: sent.id };
  };

  return {
    customerId: (customer) => customerIdOf({ kind: 'dm', userId: userOf(customer).id }),
    profile: (customer) => ({ nickname: displayNameOf(customer) }),
    async sendText(customer, text) {
      dm(customer, text);
    },
    async sendFile(customer, file) {
      dm(customer, { files: [{ data: file.data, filename: file.filename, contentType: file.mime }] });
    },
    async typing(customer) {
      userOf(customer).typing();
    },
    async pressButton(customer, payload) {
      const user = userOf(customer);
      const channelId = user.dmChannelId();
      const message = fake
        .sent(channelId)
        .findLast((candidate) => candidate.buttons.some((button) => button.customId && payloadOf(button.customId) === payload));
      const button = message?.buttons.find((candidate) => candidate.customId && payloadOf(candidate.customId) === payload);
      if (!message || !button?.customId) throw new Error(`No bot message to ${customer} has a button with payload "${payload}"`);
      user.pressButton(channelId, message.id, button.customId);
    },
    async redeliverLast() {
      if (!last) throw new Error('No customer message to redeliver yet');
      fake.redispatch(last.channelId, last.messageId);
    },
    sent: (customer) => fake.sent(userOf(customer).dmChannelId()).map(receivedMessageOf),
    typingShown: (customer) => fake.typingShown(userOf(customer).dmChannelId()),
    failNextSend(failure) {
      const times = failure.times ?? 1;
      if (failure.kind === 'permanent') fake.failNext({ route: 'send', status: 403, code: 50007, times });
      else if (failure.retryAfterSeconds !== undefined) {
        fake.failNext({ route: 'send', status: 429, retryAfterSeconds: failure.retryAfterSeconds, times });
      } else fake.failNext({ route: 'send', status: 503, times });
    },
    close: () => fake.close(),
  };
}

/**
 * The Discord connector as a conformance subject: every scenario gets a fresh fake. Retries and
 * re-identifies are fast, so a scenario that breaks something recovers in milliseconds.
 */
export function discordConformanceSubject(fakeOptions: DiscordFakeOptions = {}): ConformanceSubject<DiscordOptionsInput> {
  return {
    name: 'discord',
    definition: discordConnector,
    async setup() {
      const fake = await startDiscordFake(fakeOptions);
      return { driver: discordPlatformDriver(fake), options: testOptionsFor(fake) };
    },
  };
}

/** Connector options pointing at `fake`, with timings made for tests. */
export function testOptionsFor(fake: DiscordFake, extra: Partial<DiscordOptionsInput> = {}): DiscordOptionsInput {
  return {
    token: fake.token,
    apiUrl: fake.apiUrl,
    identifyIntervalMs: 0,
    retryMinMs: 20,
    retryMaxMs: 200,
    requestTimeoutMs: 5000,
    ...extra,
  };
}
