/**
 * The Open Messaging outbound webhook body (Genesys → Parley), research/genesys.md §1.2–1.4.
 *
 * Parsing is lenient by design: unknown fields are ignored, unknown `type`s are accepted as
 * "unknown" webhooks (to be answered 200), malformed optional parts are dropped with a warning.
 * Only messages have mandatory parts: `id` and `channel.to.id`, without which an agent's message
 * can neither reach a customer nor be answered with a Failed receipt (Genesys's receipt endpoint
 * needs both). Receipts, events and unknown types parse whatever they lack, so the intake can
 * answer them 200: a non-2xx answer makes Genesys fail the whole conversation.
 */
import { z } from 'zod';
import { describeZodIssue, formatIssuePath } from '../config/zod-issues.js';
import { parseGenesysContent, type GenesysContent } from './content.js';
import { parseLeniently } from './lenient.js';

/** A `channel.to` / `channel.from` party. Genesys samples also spell `nickname` as `nickName`. */
export const genesysRecipientSchema = z
  .object({
    id: z.string(),
    idType: z.string().optional(),
    nickname: z.string().optional(),
    nickName: z.string().optional(),
    firstName: z.string().optional(),
    lastName: z.string().optional(),
  })
  .transform(({ nickName, ...recipient }) =>
    recipient.nickname === undefined && nickName !== undefined ? { ...recipient, nickname: nickName } : recipient,
  );

export const genesysChannelSchema = z.object({
  /** The Open Messaging integration id. */
  id: z.string().optional(),
  platform: z.string().optional(),
  type: z.string().optional(),
  messageId: z.string().optional(),
  to: genesysRecipientSchema.optional(),
  from: genesysRecipientSchema.optional(),
  time: z.string().optional(),
  metadata: z.object({ customAttributes: z.record(z.string(), z.string()).optional() }).optional(),
});

/** A channel whose `to.id` (the customer address) is known: messages. */
export const genesysAddressedChannelSchema = genesysChannelSchema.extend({ to: genesysRecipientSchema });

const commonFields = {
  /** Genesys message id; receipts carry the id of the message they are about. */
  id: z.string().min(1),
  conversationId: z.string().optional(),
  direction: z.string().optional(),
  originatingEntity: z.enum(['Human', 'Bot']).optional(),
  metadata: z.record(z.string(), z.string()).optional(),
};

const messageFieldsSchema = z.object({
  ...commonFields,
  channel: genesysAddressedChannelSchema,
  type: z.enum(['Text', 'Structured']),
  text: z.string().optional(),
  /** Read item by item afterwards, so one odd item does not hide the others. */
  content: z.array(z.unknown()).optional(),
});

/** What receipts, events and unknown types carry: the same fields, none of them required. */
const lenientFields = { ...commonFields, id: commonFields.id.optional() };

export const genesysReceiptWebhookSchema = z.object({
  ...lenientFields,
  channel: genesysChannelSchema.optional(),
  type: z.literal('Receipt'),
  /** Sent, Delivered, Read, Failed, Published or Removed; kept as sent in case Genesys adds more. */
  status: z.string().optional(),
  reasons: z.array(z.object({ code: z.string().optional(), message: z.string().optional() })).optional(),
  isFinalReceipt: z.boolean().optional(),
});

export const genesysEventSchema = z.object({
  eventType: z.string(),
  typing: z.object({ type: z.string().optional(), duration: z.number().optional() }).optional(),
});

export const genesysEventWebhookSchema = z.object({
  ...lenientFields,
  /** `to.id` names the customer to show the typing to; without it the event is only logged. */
  channel: genesysChannelSchema.optional(),
  type: z.literal('Event'),
  events: z.array(genesysEventSchema).default([]),
});

export const genesysUnknownWebhookSchema = z.object({
  ...lenientFields,
  channel: genesysChannelSchema.optional(),
  type: z.string(),
});

type Flatten<T> = { [K in keyof T]: T[K] } & {};

/** An agent or bot message: `Text` (text and attachments) or `Structured` (quick replies, cards, templates). */
export type GenesysTextWebhook = Flatten<
  Omit<z.output<typeof messageFieldsSchema>, 'content'> & { kind: 'message'; content: GenesysContent[] }
>;
/** The status of a message the customer side sent. */
export type GenesysReceiptWebhook = Flatten<z.output<typeof genesysReceiptWebhookSchema> & { kind: 'receipt' }>;
/** Agent activity, e.g. typing. */
export type GenesysEventWebhook = Flatten<z.output<typeof genesysEventWebhookSchema> & { kind: 'event' }>;
/** A `type` Parley does not know: log it and answer 200. */
export type GenesysUnknownWebhook = Flatten<z.output<typeof genesysUnknownWebhookSchema> & { kind: 'unknown' }>;
/** Any outbound webhook; switch on `kind`. */
export type GenesysWebhook = GenesysTextWebhook | GenesysReceiptWebhook | GenesysEventWebhook | GenesysUnknownWebhook;

export type GenesysChannel = z.output<typeof genesysChannelSchema>;
export type GenesysRecipient = z.output<typeof genesysRecipientSchema>;
export type GenesysEvent = z.output<typeof genesysEventSchema>;

export type ParseGenesysWebhookResult =
  | { ok: true; webhook: GenesysWebhook; warnings: string[] }
  | { ok: false; error: string };

const requiredString = z.string().min(1);

/**
 * Reads a webhook body (already JSON-parsed). Never throws. `ok: false` only for a body that is
 * not an object or a message without its routing parts; the error names the path, e.g.
 * `channel.to.id: Required`.
 */
export function parseGenesysWebhook(value: unknown): ParseGenesysWebhookResult {
  try {
    return parseWebhook(value);
  } catch (error) {
    // Schemas do not throw on data; this guards against exotic inputs (throwing getters, proxies).
    return { ok: false, error: `Unreadable webhook: ${error instanceof Error ? error.message : String(error)}` };
  }
}

function parseWebhook(value: unknown): ParseGenesysWebhookResult {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    const received = Array.isArray(value) ? 'array' : value === null ? 'null' : typeof value;
    return { ok: false, error: `Expected a JSON object, received ${received}` };
  }
  const body = value as Record<string, unknown>;
  const type = typeof body.type === 'string' ? body.type : undefined;

  switch (type) {
    case 'Text':
    case 'Structured': {
      const missing = requireStrings(body, [['id'], ['channel', 'to', 'id']]);
      if (missing) return { ok: false, error: missing };
      const parsed = parseLeniently(messageFieldsSchema, body);
      if (!parsed.ok) return parsed;
      const { content: rawContent, ...fields } = parsed.value;
      const { content, warnings } = parseGenesysContent(rawContent ?? []);
      return { ok: true, webhook: { ...fields, kind: 'message', content }, warnings: [...parsed.warnings, ...warnings] };
    }
    case 'Receipt': {
      const parsed = parseLeniently(genesysReceiptWebhookSchema, body);
      return parsed.ok ? { ok: true, webhook: { ...parsed.value, kind: 'receipt' }, warnings: parsed.warnings } : parsed;
    }
    case 'Event': {
      const parsed = parseLeniently(genesysEventWebhookSchema, body);
      return parsed.ok ? { ok: true, webhook: { ...parsed.value, kind: 'event' }, warnings: parsed.warnings } : parsed;
    }
    default: {
      const parsed = parseLeniently(genesysUnknownWebhookSchema, { ...body, type: type ?? '' });
      if (!parsed.ok) return parsed;
      const warning = type === undefined ? 'type: missing or not a string' : `type: "${type}" is not a known webhook type`;
      return { ok: true, webhook: { ...parsed.value, kind: 'unknown' }, warnings: [warning, ...parsed.warnings] };
    }
  }
}

/** The first of `paths` that is not a non-empty string, as `path: reason`. */
function requireStrings(body: Record<string, unknown>, paths: PropertyKey[][]): string | undefined {
  for (const path of paths) {
    let node: unknown = body;
    for (const segment of path) {
      node = typeof node === 'object' && node !== null ? (node as Record<PropertyKey, unknown>)[segment] : undefined;
    }
    const result = requiredString.safeParse(node);
    const issue = result.error?.issues[0];
    if (issue) return `${formatIssuePath(path)}: ${describeZodIssue(issue)}`;
  }
  return undefined;
}
