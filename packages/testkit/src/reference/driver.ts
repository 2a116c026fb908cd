/**
 * The conformance driver of the reference platform, and the conformance subject that pairs it
 * with the reference connector. A connector package ships the same two things in its `testing`
 * export for its own platform fake.
 */
import type { ConformanceSubject, PlatformDriver } from '../conformance/types.js';
import { referenceConnector } from './connector.js';
import { customerIdOf } from './inbound.js';
import type { ReferenceOptionsInput } from './options.js';
import { startReferencePlatform, type ReferencePlatform, type ReferencePlatformOptions } from './platform.js';

/**
 * A {@link PlatformDriver} over a running reference platform. Each customer name gets its own
 * chat; profiles are derived from the name (`alice` → nickname `alice`, first name `Alice`).
 */
export function referencePlatformDriver(platform: ReferencePlatform): PlatformDriver {
  const chats = new Map<string, string>();
  let lastUpdateId: number | undefined;

  const chatOf = (customer: string): string => {
    let chatId = chats.get(customer);
    if (!chatId) {
      chatId = String(1000 + chats.size + 1);
      chats.set(customer, chatId);
    }
    return chatId;
  };
  const profileOf = (customer: string) => ({
    nickname: customer,
    firstName: customer.charAt(0).toUpperCase() + customer.slice(1),
    lastName: 'Tester',
  });
  const handle = (customer: string) => {
    const profile = profileOf(customer);
    return platform.customer(chatOf(customer), {
      name: profile.nickname,
      firstName: profile.firstName,
      lastName: profile.lastName,
      language: 'en',
    });
  };
  const remember = (update: { update_id: number }) => {
    lastUpdateId = update.update_id;
  };

  return {
    customerId: (customer) => customerIdOf(chatOf(customer)),
    profile: profileOf,
    async sendText(customer, text) {
      remember(handle(customer).sendText(text));
    },
    async sendFile(customer, file) {
      remember(handle(customer).sendFile(file));
    },
    async typing(customer) {
      remember(handle(customer).typing());
    },
    async pressButton(customer, payload) {
      const chatId = chatOf(customer);
      const message = platform
        .sent(chatId)
        .findLast((candidate) => candidate.buttons.some((button) => button.payload === payload));
      if (!message) throw new Error(`No bot message to ${customer} has a button with payload "${payload}"`);
      remember(handle(customer).pressButton(message.id, payload));
    },
    async redeliverLast() {
      if (lastUpdateId === undefined) throw new Error('No customer update to redeliver yet');
      platform.redeliver(lastUpdateId);
    },
    sent: (customer) =>
      platform.sent(chatOf(customer)).map((message) => ({
        ...(message.text !== undefined ? { text: message.text } : {}),
        files: message.attachment
          ? [{ data: message.attachment.data, mime: message.attachment.mime, filename: message.attachment.filename }]
          : [],
        buttons: message.buttons,
      })),
    typingShown: (customer) => platform.typingShown(chatOf(customer)),
    failNextSend(failure) {
      if (failure.kind === 'permanent') {
        platform.failNext({ method: 'messages', status: 403, times: failure.times ?? 1 });
      } else if (failure.retryAfterSeconds !== undefined) {
        platform.failNext({ method: 'messages', status: 429, retryAfterSeconds: failure.retryAfterSeconds, times: failure.times ?? 1 });
      } else {
        platform.failNext({ method: 'messages', status: 503, times: failure.times ?? 1 });
      }
    },
    close: () => platform.close(),
  };
}

/**
 * The reference connector as a conformance subject: every scenario gets a fresh platform.
 * `pollRetryMinMs` is short so a scenario that breaks polling recovers in milliseconds.
 */
export function referenceConformanceSubject(
  platformOptions: ReferencePlatformOptions = {},
): ConformanceSubject<ReferenceOptionsInput> {
  return {
    name: 'reference',
    definition: referenceConnector,
    async setup() {
      const platform = await startReferencePlatform(platformOptions);
      return {
        driver: referencePlatformDriver(platform),
        options: { apiUrl: platform.url, token: platform.token, pollTimeoutSeconds: 5, pollRetryMinMs: 20, pollRetryMaxMs: 200 },
      };
    },
  };
}
