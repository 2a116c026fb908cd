/**
 * The conformance driver of the fake Telegram, and the conformance subject that pairs it with
 * the Telegram connector (in polling or webhook mode).
 */
import { randomBytes } from 'node:crypto';
import type { ConformanceSubject, PlatformDriver, ReceivedMessage } from '@parley/testkit/conformance';
import { telegramConnector } from '../connector.js';
import { customerIdOf } from '../inbound.js';
import type { TelegramOptionsInput } from '../options.js';
import { startTelegramFake, type FakeCustomer, type SentMessage, type TelegramFake, type TelegramFakeOptions } from './fake.js';

/**
 * A {@link PlatformDriver} over a running fake Telegram. Each customer name gets its own private
 * chat; profiles are derived from the name (`alice` → username and nickname `alice`, first name
 * `Alice`, last name `Tester`).
 */
export function telegramPlatformDriver(fake: TelegramFake): PlatformDriver {
  const customers = new Map<string, FakeCustomer>();
  let lastUpdateId: number | undefined;

  const profileOf = (name: string) => ({
    nickname: name,
    firstName: name.charAt(0).toUpperCase() + name.slice(1),
    lastName: 'Tester',
  });
  const customerOf = (name: string): FakeCustomer => {
    let customer = customers.get(name);
    if (!customer) {
      const profile = profileOf(name);
      customer = fake.privateChat({ username: name, firstName: profile.firstName, lastName: profile.lastName, languageCode: 'en' });
      customers.set(name, customer);
    }
    return customer;
  };
  const remember = (update: { update_id: number }) => {
    lastUpdateId = update.update_id;
  };

  return {
    customerId: (name) => customerIdOf({ chatId: customerOf(name).chat.id }),
    profile: profileOf,
    async sendText(name, text) {
      remember(customerOf(name).sendText(text));
    },
    async sendFile(name, file) {
      // Sent "as a file", as people do to keep the exact bytes (a photo would be re-encoded).
      remember(customerOf(name).sendDocument({ data: file.data, mime: file.mime, filename: file.filename }));
    },
    async pressButton(name, payload) {
      const customer = customerOf(name);
      const message = fake
        .sent(customer.chat.id)
        .findLast((candidate) => candidate.buttons.some((button) => button.callbackData === payload));
      if (!message) throw new Error(`No bot message to ${name} has a button with payload "${payload}"`);
      remember(customer.pressButton(message.messageId, payload));
    },
    async redeliverLast() {
      if (lastUpdateId === undefined) throw new Error('No customer update to redeliver yet');
      fake.redeliver(lastUpdateId);
    },
    sent: (name) => fake.sent(customerOf(name).chat.id).map(toReceived),
    typingShown: (name) => fake.chatActions(customerOf(name).chat.id).filter((entry) => entry.action === 'typing').length,
    failNextSend(failure) {
      const times = failure.times ?? 1;
      if (failure.kind === 'permanent') fake.failNext({ method: 'send', status: 403, times });
      else if (failure.retryAfterSeconds !== undefined) fake.failNext({ method: 'send', status: 429, retryAfterSeconds: failure.retryAfterSeconds, times });
      else fake.failNext({ method: 'send', status: 502, times });
    },
    close: () => fake.close(),
  };
}

/** A bot message as the conformance suite reads it. */
function toReceived(message: SentMessage): ReceivedMessage {
  const inline = message.buttons.map((button) => ({
    text: button.text,
    ...(button.callbackData !== undefined ? { payload: button.callbackData } : {}),
    ...(button.url !== undefined ? { url: button.url } : {}),
  }));
  const keyboard = (message.keyboard ?? []).flat().map((text) => ({ text }));
  return {
    ...(message.text !== undefined ? { text: message.text } : {}),
    files: message.file ? [{ data: message.file.data, ...(message.file.mime ? { mime: message.file.mime } : {}), ...(message.file.filename ? { filename: message.file.filename } : {}) }] : [],
    buttons: [...inline, ...keyboard],
  };
}

/** Options of {@link telegramConformanceSubject}. */
export interface TelegramConformanceOptions {
  /** How the connector receives updates; default polling. */
  mode?: 'polling' | 'webhook';
  /** Options of the fake Telegram. */
  fake?: TelegramFakeOptions;
  /** Connector options on top of those pointing it at the fake. */
  options?: Partial<TelegramOptionsInput>;
}

/**
 * The Telegram connector as a conformance subject: every scenario gets a fresh fake Telegram.
 * Retry pauses are short so a scenario that breaks polling or the webhook recovers in milliseconds.
 *
 * @example
 * runConformanceSuite(telegramConformanceSubject({ mode: 'webhook' }));
 */
export function telegramConformanceSubject(options: TelegramConformanceOptions = {}): ConformanceSubject<TelegramOptionsInput> {
  const mode = options.mode ?? 'polling';
  return {
    name: mode === 'polling' ? 'telegram' : 'telegram-webhook',
    definition: telegramConnector,
    async setup() {
      const fake = await startTelegramFake({ webhookRetryMs: 50, ...options.fake });
      return {
        driver: telegramPlatformDriver(fake),
        options: {
          token: fake.token,
          apiRoot: fake.url,
          mode,
          pollTimeoutSeconds: 5,
          pollRetryMinMs: 20,
          pollRetryMaxMs: 200,
          ...(mode === 'webhook' ? { webhookSecret: randomBytes(16).toString('hex') } : {}),
          ...options.options,
        },
      };
    },
  };
}
