/**
 * The real pipeline (Genesys emulator, SQLite store, Parley's HTTP app) around the Slack
 * connector and a Slack fake, for the package's own scenarios. It reuses the conformance harness
 * and subject, which point the fake's Request URL at Parley in http mode.
 */
import { randomBytes } from 'node:crypto';
import { signGenesysBody } from '@parley/core';
import { eventually, startHarness, waitForReceipt, type Harness } from '@parley/testkit/conformance';
import type { RecordedInbound } from '@parley/testkit';
import { request } from 'undici';
import type { SlackOptionsInput } from '../src/index.js';
import { slackConformanceSubject, type SlackFake, type SlackFakeOptions } from '../src/testing/index.js';

export interface SlackPipeline {
  h: Harness;
  fake: SlackFake;
  /** `<parley>/connectors/<id>/webhook`: the Request URL. */
  webhookUrl: string;
  close(): Promise<void>;
}

/** Starts the pipeline; `options` override the connector options derived from the fake. */
export async function startSlackPipeline(input: {
  mode?: 'http' | 'socket';
  fake?: Omit<SlackFakeOptions, 'mode'>;
  options?: Partial<SlackOptionsInput>;
} = {}): Promise<SlackPipeline> {
  let fake: SlackFake | undefined;
  const subject = slackConformanceSubject({
    ...input,
    // This package's own scenarios default to http mode, the connector's default.
    mode: input.mode ?? 'http',
    onFake: (started) => {
      fake = started;
    },
  });
  const h = await startHarness(subject, { connectorId: 'help-desk' });
  return { h, fake: fake!, webhookUrl: h.webhookUrl, close: () => h.close() };
}

/** Customer messages Genesys accepted from `customerId`, in arrival order. */
export function messagesFrom(h: Harness, customerId: string): RecordedInbound[] {
  return h.emulator
    .inbound({ integrationId: h.integrationId, kind: 'message' })
    .filter((record) => record.body?.channel?.from?.id === customerId);
}

/** Waits for a customer message from `customerId` whose text satisfies `match`. */
export function waitForText(
  h: Harness,
  customerId: string,
  match: string | ((text: string) => boolean),
  timeoutMs = 10_000,
): Promise<RecordedInbound> {
  const test = typeof match === 'string' ? (text: string) => text === match : match;
  return h.emulator.waitForInbound(
    (record) => record.kind === 'message' && record.body?.channel?.from?.id === customerId && test(String(record.body?.text ?? '')),
    timeoutMs,
  );
}

/**
 * Posts a signed Genesys agent webhook to `customerId` (a conversation the emulator need not
 * know, e.g. an agent writing first); returns the Genesys message id.
 */
export async function postAgentMessage(
  h: Harness,
  customerId: string,
  message: { text?: string; content?: unknown[]; type?: string },
): Promise<string> {
  const id = randomBytes(16).toString('hex');
  const body = JSON.stringify({
    id,
    channel: {
      id: h.integrationId,
      platform: 'Open',
      type: 'Private',
      messageId: id,
      to: { id: customerId, idType: 'Opaque' },
      from: { nickname: 'Agent', id: h.integrationId, idType: 'Opaque' },
      time: new Date().toISOString(),
    },
    type: message.type ?? 'Text',
    ...(message.text !== undefined ? { text: message.text } : {}),
    ...(message.content ? { content: message.content } : {}),
    direction: 'Outbound',
    originatingEntity: 'Human',
  });
  const response = await request(h.genesysWebhookUrl, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-hub-signature-256': signGenesysBody(body, h.webhookSecret) },
    body,
  });
  await response.body.dump();
  if (response.statusCode !== 200) throw new Error(`The agent webhook got HTTP ${response.statusCode}`);
  return id;
}

/** The receipt Genesys got for an agent message. */
export async function receiptOf(h: Harness, genesysMessageId: string) {
  return (await waitForReceipt(h, genesysMessageId)).body as {
    status: string;
    reasons?: Array<{ code: string; message: string }>;
  };
}

/** Parley's Prometheus text. */
export async function metricsOf(h: Harness): Promise<string> {
  const response = await request(`${h.url}/metrics`);
  return response.body.text();
}

/**
 * How many customer messages the connector queued (or found duplicate) so far. Queued means
 * durable: a message Slack got an acknowledgement for is counted here, whether or not it has
 * reached the emulator yet.
 */
export async function inboundCounts(h: Harness): Promise<{ queued: number; duplicate: number }> {
  const text = await metricsOf(h);
  const count = (outcome: string) =>
    Number(new RegExp(`parley_inbound_events_total\\{[^}]*kind="message"[^}]*outcome="${outcome}"[^}]*\\} (\\d+)`).exec(text)?.[1] ?? 0);
  return { queued: count('queued'), duplicate: count('duplicate') };
}

export { eventually };
