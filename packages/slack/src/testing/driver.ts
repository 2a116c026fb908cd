/**
 * The conformance driver of the Slack fake, and the conformance subject that pairs it with the
 * Slack connector. Each customer name is a Slack user writing to the app in a DM.
 */
import type { ConformanceSubject, PlatformDriver, ReceivedMessage } from '@parley/testkit/conformance';
import { slackConnector } from '../connector.js';
import { customerIdOf } from '../inbound.js';
import type { SlackOptionsInput } from '../options.js';
import type { Block } from '../protocol.js';
import { startSlackFake, type SlackFake, type SlackFakeOptions } from './platform.js';
import type { FakeMessage } from './platform-state.js';

/**
 * A {@link PlatformDriver} over a running Slack fake. Profiles derive from the name (`alice` →
 * display name `alice`, first name `Alice`, last name `Tester`). In http mode the fake needs its
 * Request URL (`fake.setRequestUrl`) before the first customer writes;
 * {@link slackConformanceSubject} sets it from the harness's webhook URL.
 */
export function slackPlatformDriver(fake: SlackFake): PlatformDriver {
  const customers = new Map<string, { userId: string; dm: string }>();
  const profileOf = (customer: string) => ({
    nickname: customer,
    firstName: customer.charAt(0).toUpperCase() + customer.slice(1),
    lastName: 'Tester',
  });
  const customerOf = (customer: string) => {
    let known = customers.get(customer);
    if (!known) {
      const profile = profileOf(customer);
      const user = fake.addUser({
        name: customer,
        displayName: profile.nickname,
        firstName: profile.firstName,
        lastName: profile.lastName,
        email: `${customer}@example.com`,
      });
      known = { userId: user.id, dm: fake.openDm(user.id).id };
      customers.set(customer, known);
    }
    return known;
  };
  const post = async (customer: string, input: { text?: string; files?: Array<{ data: Buffer; mime: string; filename: string }> }) => {
    const { userId, dm } = customerOf(customer);
    const posted = await fake.post({ user: userId, channel: dm, ...input });
    if (!posted.deliveries.every((delivery) => delivery.acked)) {
      throw new Error(`The app did not acknowledge the event about "${input.text ?? 'a file'}" from ${customer}`);
    }
  };

  return {
    customerId: (customer) => customerIdOf({ team: fake.team.id, channel: customerOf(customer).dm }),
    profile: profileOf,
    sendText: (customer, text) => post(customer, { text }),
    sendFile: (customer, file) => post(customer, { files: [file] }),
    async pressButton(customer, payload) {
      const { userId, dm } = customerOf(customer);
      const message = fake.sent(dm).findLast((candidate) => buttonsOf(candidate.blocks).some((button) => button.payload === payload));
      if (!message) throw new Error(`No app message to ${customer} has a button with payload "${payload}"`);
      const delivery = await fake.pressButton({ user: userId, channel: dm, messageTs: message.ts, value: payload });
      if (!delivery.acked) throw new Error(`The app did not acknowledge the press of "${payload}"`);
    },
    async redeliverLast() {
      await fake.redeliver();
    },
    sent: (customer) => fake.sent(customerOf(customer).dm).map(toReceived),
    failNextSend(failure) {
      const times = failure.times ?? 1;
      if (failure.kind === 'permanent') {
        fake.failNext({ method: 'chat.postMessage', error: 'not_in_channel', times });
      } else if (failure.retryAfterSeconds !== undefined) {
        fake.failNext({ method: 'chat.postMessage', status: 429, retryAfterSeconds: failure.retryAfterSeconds, times });
      } else {
        fake.failNext({ method: 'chat.postMessage', status: 503, times });
      }
    },
    close: () => fake.close(),
  };
}

/** An app message as the customer sees it: section texts (or the text), files and buttons. */
function toReceived(message: FakeMessage): ReceivedMessage {
  const sections = (message.blocks ?? []).flatMap((block) => (block.type === 'section' ? [block.text.text] : []));
  const text = sections.length > 0 ? sections.join('\n') : message.text;
  return {
    ...(text ? { text: unescapeMrkdwn(text) } : {}),
    files: message.files.map((file) => ({ data: file.data, filename: file.name, ...(file.mimetype ? { mime: file.mimetype } : {}) })),
    buttons: buttonsOf(message.blocks),
  };
}

function buttonsOf(blocks: Block[] | undefined): ReceivedMessage['buttons'] {
  return (blocks ?? []).flatMap((block) =>
    block.type === 'actions'
      ? block.elements.map((element) => ({
          text: element.text.text,
          ...(element.value !== undefined ? { payload: element.value } : {}),
          ...(element.url !== undefined ? { url: element.url } : {}),
        }))
      : [],
  );
}

/** What Slack shows for escaped mrkdwn. */
export function unescapeMrkdwn(text: string): string {
  return text.replace(/&(lt|gt|amp);/g, (_, name: string) => (name === 'lt' ? '<' : name === 'gt' ? '>' : '&'));
}

/** Options of {@link slackConformanceSubject}. */
export interface SlackConformanceOptions {
  /**
   * How Slack reaches the app: `socket` (Socket Mode, the default) or `http` (the Events API,
   * posting to the harness's webhook URL, which becomes the fake's Request URL).
   */
  mode?: 'http' | 'socket';
  fake?: Omit<SlackFakeOptions, 'mode'>;
  /** Connector options on top of those pointing it at the fake. */
  options?: Partial<SlackOptionsInput>;
  /** Called with each fake started, e.g. to keep a handle on it for Slack-specific steps. */
  onFake?: (fake: SlackFake) => void;
}

/**
 * The Slack connector as a conformance subject: every scenario gets a fresh fake. Timings are
 * short so that a dropped socket or a retried event recovers in milliseconds.
 *
 * @example
 * runConformanceSuite(slackConformanceSubject({ mode: 'http' }));
 */
export function slackConformanceSubject(options: SlackConformanceOptions = {}): ConformanceSubject<SlackOptionsInput> {
  const mode = options.mode ?? 'socket';
  return {
    name: `slack (${mode})`,
    definition: slackConnector,
    async setup({ webhookUrl }) {
      const fake = await startSlackFake({ ...options.fake, mode });
      // The harness already listens there (503 until Parley is attached); the fake posts only
      // once a scenario makes a customer write.
      if (mode === 'http') fake.setRequestUrl(webhookUrl);
      options.onFake?.(fake);
      return {
        driver: slackPlatformDriver(fake),
        options: {
          botToken: fake.botToken,
          mode,
          apiUrl: fake.apiUrl,
          ...(mode === 'http' ? { signingSecret: fake.signingSecret } : { appToken: fake.appToken }),
          socketPingTimeoutMs: 500,
          requestTimeoutMs: 5000,
          ...options.options,
        },
      };
    },
  };
}
