/**
 * What a connector package hands the conformance suite: its definition and a driver for its
 * platform fake. The driver speaks in customer names ("alice"); it owns the mapping from a name
 * to a platform chat or user.
 */
import type { ConnectorDefinition } from '@parley/core';

/** A file the bot sent, as the customer received it. */
export interface ReceivedFile {
  data: Buffer;
  mime?: string;
  filename?: string;
}

/** A button under a bot message. */
export interface ReceivedButton {
  text: string;
  payload?: string;
  url?: string;
}

/** One bot message as the customer saw it. */
export interface ReceivedMessage {
  text?: string;
  files: ReceivedFile[];
  buttons: ReceivedButton[];
}

/** What the suite may make the platform's next sends fail with. */
export type SendFailure =
  | { kind: 'retryable'; retryAfterSeconds?: number; times?: number }
  | { kind: 'permanent'; times?: number };

/** Drives one platform fake from the customer's side and observes what the bot did. */
export interface PlatformDriver {
  /** The `channel.from.id` Parley must send for this platform customer. */
  customerId(customer: string): string;
  /**
   * The profile the platform shows for `customer`: when present, the suite checks that the
   * nickname (and first/last name) reach Genesys unchanged.
   */
  profile?(customer: string): { nickname?: string; firstName?: string; lastName?: string };
  sendText(customer: string, text: string): Promise<void>;
  sendFile?(customer: string, file: { data: Buffer; mime: string; filename: string }): Promise<void>;
  typing?(customer: string): Promise<void>;
  /** Presses the button with `payload` on the last bot message to `customer` that has one. */
  pressButton?(customer: string, payload: string): Promise<void>;
  /** Makes the platform deliver its last customer update again (a platform-side duplicate). */
  redeliverLast?(): Promise<void>;
  /** Bot messages `customer` received, in order. */
  sent(customer: string): ReceivedMessage[];
  /** How often "typing…" was shown to `customer`. */
  typingShown?(customer: string): number;
  /** Makes the platform's next message send(s) fail like the platform does. */
  failNextSend(failure: SendFailure): void;
  close(): Promise<void>;
}

/**
 * Where Parley will answer, told to {@link ConformanceSubject.setup} before Parley is created.
 * The harness's HTTP server already listens at these URLs (answering 503 until Parley is
 * attached), so a platform fake can be pointed at its webhook before the first customer writes.
 */
export interface ConformanceSetupContext {
  /**
   * `<publicUrl>/connectors/<connectorId>/webhook`: Parley's platform webhook route, e.g. the
   * Request URL of a Slack app in http mode. The connector's `context.webhookUrl` is the same URL.
   */
  webhookUrl: string;
  /** Parley's base URL, e.g. `http://127.0.0.1:PORT`, without a trailing slash. */
  publicUrl: string;
  /** The connector id the harness registers the connector under (`connectors.<id>`). */
  connectorId: string;
}

/** A connector under test. */
export interface ConformanceSubject<Options = unknown> {
  name: string;
  definition: ConnectorDefinition;
  /**
   * Starts the platform fake; returns the driver plus the connector options pointing at it.
   * The harness always passes `context`; a subject whose platform does not push to Parley (long
   * polling, a gateway, Socket Mode, or a connector that registers its webhook itself) may declare
   * `setup()` without the parameter.
   */
  setup(context: ConformanceSetupContext): Promise<{ driver: PlatformDriver; options: Options }>;
}
