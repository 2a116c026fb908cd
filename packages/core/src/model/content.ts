/**
 * `content[]` of the Open Messaging outbound webhook (research/genesys.md §1.3): the kinds Parley
 * maps to platform messages. Other content types are skipped with a warning.
 */
import { z } from 'zod';
import { parseLeniently } from './lenient.js';

/** Media types of an Open Messaging attachment. */
export const genesysMediaTypeSchema = z.enum(['Image', 'Video', 'Audio', 'File', 'Link']);

export const genesysAttachmentSchema = z.object({
  id: z.string().optional(),
  mediaType: genesysMediaTypeSchema,
  url: z.string().min(1),
  mime: z.string().optional(),
  text: z.string().optional(),
  sha256: z.string().optional(),
  filename: z.string().optional(),
  contentSizeBytes: z.number().nonnegative().optional(),
});

export const genesysQuickReplySchema = z
  .object({
    text: z.string(),
    payload: z.string().optional(),
    image: z.string().optional(),
    action: z.string().optional(),
    summaryText: z.string().optional(),
  })
  // Bots built by hand sometimes leave the payload out; the text is what a press would send.
  .transform(({ payload, ...reply }) => ({ ...reply, payload: payload ?? reply.text }));

export const genesysButtonResponseSchema = z.object({
  originatingMessageId: z.string().optional(),
  type: z.string().optional(),
  text: z.string().optional(),
  payload: z.string().optional(),
});

export const genesysCardActionSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('Link'), url: z.string().min(1), text: z.string().optional() }),
  z
    .object({ type: z.literal('Postback'), text: z.string().optional(), payload: z.string().optional() })
    .refine((action) => action.text !== undefined || action.payload !== undefined, {
      error: 'A Postback action needs text or payload',
    }),
]);

export const genesysCardSchema = z.object({
  title: z.string().default(''),
  description: z.string().optional(),
  image: z.string().optional(),
  video: z.string().optional(),
  actions: z.array(genesysCardActionSchema).default([]),
});

const templateParameterSchema = z.object({ name: z.string().optional(), text: z.string() });

export const genesysTemplateSchema = z.object({
  id: z.string().optional(),
  language: z.string().optional(),
  header: z
    .object({
      type: z.string().optional(),
      text: z.string().optional(),
      media: z.object({ url: z.string().min(1), mime: z.string().optional() }).optional(),
      parameters: z.array(templateParameterSchema).optional(),
    })
    .optional(),
  body: z.object({ text: z.string().optional(), parameters: z.array(templateParameterSchema).default([]) }).optional(),
  buttons: z
    .array(
      z.object({
        type: z.string(),
        text: z.string().optional(),
        payload: z.string().optional(),
        url: z.string().optional(),
        phoneNumber: z.string().optional(),
      }),
    )
    .default([]),
  footer: z.object({ text: z.string().optional() }).optional(),
});

export const genesysAttachmentContentSchema = z.object({
  contentType: z.literal('Attachment'),
  attachment: genesysAttachmentSchema,
});
export const genesysQuickReplyContentSchema = z.object({
  contentType: z.literal('QuickReply'),
  quickReply: genesysQuickReplySchema,
});
export const genesysButtonResponseContentSchema = z.object({
  contentType: z.literal('ButtonResponse'),
  buttonResponse: genesysButtonResponseSchema,
});
export const genesysCardContentSchema = z.object({ contentType: z.literal('Card'), card: genesysCardSchema });
export const genesysCarouselContentSchema = z.object({
  contentType: z.literal('Carousel'),
  carousel: z.object({ cards: z.array(genesysCardSchema) }),
});
/** A message template (contentType `Notification`). */
export const genesysNotificationContentSchema = z.object({
  contentType: z.literal('Notification'),
  template: genesysTemplateSchema,
});

export type GenesysMediaType = z.output<typeof genesysMediaTypeSchema>;
export type GenesysAttachment = z.output<typeof genesysAttachmentSchema>;
export type GenesysQuickReply = z.output<typeof genesysQuickReplySchema>;
export type GenesysButtonResponse = z.output<typeof genesysButtonResponseSchema>;
export type GenesysCardAction = z.output<typeof genesysCardActionSchema>;
export type GenesysCard = z.output<typeof genesysCardSchema>;
export type GenesysTemplate = z.output<typeof genesysTemplateSchema>;
export type GenesysAttachmentContent = z.output<typeof genesysAttachmentContentSchema>;
export type GenesysQuickReplyContent = z.output<typeof genesysQuickReplyContentSchema>;
export type GenesysButtonResponseContent = z.output<typeof genesysButtonResponseContentSchema>;
export type GenesysCardContent = z.output<typeof genesysCardContentSchema>;
export type GenesysCarouselContent = z.output<typeof genesysCarouselContentSchema>;
export type GenesysNotificationContent = z.output<typeof genesysNotificationContentSchema>;

/** One `content[]` item Parley understands; discriminate on `contentType`. */
export type GenesysContent =
  | GenesysAttachmentContent
  | GenesysQuickReplyContent
  | GenesysButtonResponseContent
  | GenesysCardContent
  | GenesysCarouselContent
  | GenesysNotificationContent;

const contentSchemas: Record<GenesysContent['contentType'], z.ZodType<GenesysContent>> = {
  Attachment: genesysAttachmentContentSchema,
  QuickReply: genesysQuickReplyContentSchema,
  ButtonResponse: genesysButtonResponseContentSchema,
  Card: genesysCardContentSchema,
  Carousel: genesysCarouselContentSchema,
  Notification: genesysNotificationContentSchema,
};

/**
 * Reads `content[]` item by item: unknown content types and unreadable items are skipped with a
 * warning; the rest keep their order.
 */
export function parseGenesysContent(items: readonly unknown[]): { content: GenesysContent[]; warnings: string[] } {
  const content: GenesysContent[] = [];
  const warnings: string[] = [];
  items.forEach((item, index) => {
    const path = ['content', index];
    const contentType = typeof item === 'object' && item !== null ? (item as { contentType?: unknown }).contentType : undefined;
    const schema = typeof contentType === 'string' && Object.hasOwn(contentSchemas, contentType)
      ? contentSchemas[contentType as GenesysContent['contentType']]
      : undefined;
    if (!schema) {
      const name = typeof contentType === 'string' ? `"${contentType}"` : 'missing';
      warnings.push(`content.${index}: contentType ${name} is not supported; skipped`);
      return;
    }
    const parsed = parseLeniently(schema, item, path);
    if (!parsed.ok) {
      warnings.push(`content.${index}: unreadable ${String(contentType)} skipped (${parsed.error})`);
      return;
    }
    content.push(parsed.value);
    warnings.push(...parsed.warnings);
  });
  return { content, warnings };
}
