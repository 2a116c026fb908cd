/**
 * Validates inbound Open Messaging bodies against the documented shapes (research/genesys.md §3),
 * and words the problems the way Genesys's schema validator does (AJV style: "should have
 * required property 'id'"), so a client bug reads the same here as against a real org.
 */
import { z } from 'zod';
import type { InboundKind } from './types.js';

const ID_TYPES = ['Email', 'Phone', 'Opaque'];

/** `idType` is an enum, but Genesys accepts it in any case (its own samples send "email"). */
const idType = z
  .string()
  .refine((value) => ID_TYPES.some((allowed) => allowed.toLowerCase() === value.toLowerCase()), {
    message: `should be equal to one of the allowed values: ${ID_TYPES.join(', ')}`,
  });

const from = z.object({
  id: z.string().min(1),
  idType,
  nickname: z.string().optional(),
  firstName: z.string().optional(),
  lastName: z.string().optional(),
  email: z.string().optional(),
  image: z.string().optional(),
});

/** Genesys documents `yyyy-MM-ddTHH:mm:ss[.mmm]Z`. */
const time = z.iso.datetime({ error: 'should match format "date-time" (yyyy-MM-ddTHH:mm:ss.sssZ)' });

/** Participant data lives here, as `customAttributes` (string → string). */
const channelMetadata = z.object({ customAttributes: z.record(z.string(), z.string()).optional() });

/**
 * Top-level `metadata` is `Map<string, string>`: `customAttributes` there is a classic mistake
 * that Genesys answers with 400 (FORUM-attrs), so it gets its own explanation.
 */
const topLevelMetadata = z.record(z.string(), z.unknown()).superRefine((metadata, ctx) => {
  for (const [key, value] of Object.entries(metadata)) {
    if (key === 'customAttributes') {
      ctx.addIssue({
        code: 'custom',
        path: [key],
        message: 'customAttributes is not allowed in top-level metadata; send it as channel.metadata.customAttributes',
      });
    } else if (typeof value !== 'string') {
      ctx.addIssue({ code: 'custom', path: [key], message: 'should be string (top-level metadata is a map of strings)' });
    }
  }
});

const attachment = z.object({
  mediaType: z.enum(['Image', 'Video', 'Audio', 'File', 'Link']),
  url: z.string().min(1),
  mime: z.string().min(1),
  id: z.string().optional(),
  filename: z.string().optional(),
  text: z.string().optional(),
  sha256: z.string().optional(),
});

const messageSchema = z.object({
  channel: z.object({
    messageId: z.string().optional(),
    from,
    time,
    metadata: channelMetadata.optional(),
  }),
  text: z.string().optional(),
  content: z.array(z.object({ contentType: z.string().optional(), attachment: attachment.optional() })).optional(),
  metadata: topLevelMetadata.optional(),
});

const receiptSchema = z.object({
  id: z.string().min(1),
  channel: z.object({ to: z.object({ id: z.string().min(1), idType: idType.optional() }), time }),
  status: z.enum(['Delivered', 'Failed']),
  reasons: z.array(z.object({ code: z.string().optional(), message: z.string() })).optional(),
  isFinalReceipt: z.boolean().optional(),
});

const eventSchema = z.object({
  channel: z.object({ from, time }),
  events: z
    .array(
      z.object({
        eventType: z.literal('Typing'),
        typing: z.object({ type: z.literal('On'), duration: z.number().int().nonnegative().optional() }).optional(),
      }),
    )
    .min(1),
});

const structuredResponseSchema = z.object({
  channel: z.object({ from, time, messageId: z.string().optional(), metadata: channelMetadata.optional() }),
  buttonResponse: z.object({
    type: z.enum(['Button', 'QuickReply', 'DatePicker', 'ListPicker', 'Form']).optional(),
    text: z.string(),
    payload: z.string(),
  }),
  originatingMessageId: z.string().min(1),
});

const SCHEMAS: Record<InboundKind, z.ZodType> = {
  message: messageSchema,
  receipt: receiptSchema,
  event: eventSchema,
  'structured-response': structuredResponseSchema,
};

/** The message Genesys gives when a message has neither `text` nor `content` (COMM-structured). */
export const TEXT_OR_CONTENT_REQUIRED =
  "should have required property 'content', should have required property '.text', should match some schema in anyOf";

/** Every problem with `body` for the `kind` endpoint; empty when it is valid. */
export function inboundProblems(kind: InboundKind, body: unknown): string[] {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) return ['the body should be a JSON object'];
  const result = SCHEMAS[kind].safeParse(body, { reportInput: true });
  const problems = result.success ? [] : result.error.issues.map(describeIssue);
  if (kind === 'message') {
    const { text, content } = body as { text?: unknown; content?: unknown };
    if (text === undefined && content === undefined) problems.push(TEXT_OR_CONTENT_REQUIRED);
  }
  return problems;
}

function describeIssue(issue: z.core.$ZodIssue): string {
  const path = issue.path.map(String);
  const missing = issue.input === undefined && (issue.code === 'invalid_type' || issue.code === 'invalid_value');
  if (missing) {
    const parent = path.slice(0, -1).join('.');
    return `${parent ? `${parent}: ` : ''}should have required property '${path.at(-1) ?? ''}'`;
  }
  const where = path.length > 0 ? `${path.join('.')}: ` : '';
  switch (issue.code) {
    case 'invalid_type':
      return `${where}should be ${issue.expected}`;
    case 'invalid_value':
      return `${where}should be equal to one of the allowed values: ${issue.values.map(String).join(', ')}`;
    case 'too_small':
      return `${where}should not be empty`;
    default:
      return `${where}${issue.message}`;
  }
}
