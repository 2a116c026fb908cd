/**
 * The Slack connector's options (`connectors.<id>.options` in parley.yaml). The schema is the
 * single source of the options type; the host validates the YAML block with it and reports every
 * issue with its key path.
 */
import { z } from 'zod';

/** A Slack conversation id: public (C), private (G) or direct (D). */
const channelId = z
  .string()
  .regex(/^[CGD][A-Z0-9]{2,}$/, 'must be a Slack channel id such as C0123456789 (not a #name)');

const conversationsSchema = z
  .strictObject({
    directMessages: z
      .enum(['dm', 'thread'])
      .default('dm')
      .describe(
        'Direct messages: `dm` makes the whole DM with a person one Genesys conversation; `thread` makes each DM thread its own',
      ),
    channels: z
      .enum(['thread', 'channel'])
      .default('thread')
      .describe(
        'Channel messages: `thread` makes each thread one Genesys conversation (a top-level message starts a thread the agent answers in); `channel` makes the whole channel one conversation answered at the top level',
      ),
  })
  .describe('What counts as one Genesys conversation (DESIGN §4): per DM, per thread or per channel');

const eventsSchema = z
  .strictObject({
    directMessages: z.boolean().default(true).describe('Bridge direct messages to the app (Slack event `message.im`)'),
    mentions: z
      .boolean()
      .default(true)
      .describe('Bridge messages that mention the app in a channel (`app_mention`), and the replies in threads they start'),
    channels: z
      .array(channelId)
      .default([])
      .describe('Channel ids whose every message is bridged, mention or not (the app must be a member)'),
  })
  .describe('Which Slack messages reach Genesys');

/** Options for one Slack app. */
export const slackOptionsSchema = z
  .strictObject({
    botToken: z
      .string()
      .startsWith('xoxb-', 'must be a bot token (xoxb-…) from "OAuth & Permissions"')
      .describe('The bot token (xoxb-…). Sent only in Authorization headers: never in a URL, a log line or a Genesys payload'),
    mode: z
      .enum(['http', 'socket'])
      .default('http')
      .describe(
        '`http`: Slack posts events and interactivity to `<publicUrl>/connectors/<id>/webhook`; `socket`: Socket Mode over a WebSocket, no public URL needed',
      ),
    signingSecret: z
      .string()
      .min(1, 'must not be empty')
      .optional()
      .describe('The signing secret from "Basic Information"; required in http mode to verify every request'),
    appToken: z
      .string()
      .startsWith('xapp-', 'must be an app-level token (xapp-…) with the connections:write scope')
      .optional()
      .describe('The app-level token (xapp-…) with `connections:write`; required in socket mode'),
    apiUrl: z
      .url({ protocol: /^https?$/, message: 'must be an http(s) URL' })
      .default('https://slack.com/api/')
      .transform((value) => (value.endsWith('/') ? value : `${value}/`))
      .describe("Base URL of Slack's Web API (a proxy, or the fake in tests); default https://slack.com/api/"),
    conversations: conversationsSchema.prefault({}),
    events: eventsSchema.prefault({}),
    requestTimeoutMs: z
      .number()
      .int()
      .positive()
      .default(30_000)
      .describe('Longest wait for one Slack Web API call or file transfer, in ms'),
    lookupTimeoutMs: z
      .number()
      .int()
      .positive()
      .default(1500)
      .describe(
        'Longest wait for a profile or channel-name lookup while an event is handled, in ms; past it the event goes on with ids instead of names, so Slack still gets its answer within 3 s',
      ),
    profileCacheSeconds: z
      .number()
      .int()
      .min(0)
      .default(3600)
      .describe('How long user profiles and channel names are cached, in seconds'),
    maxFileBytes: z
      .number()
      .int()
      .positive()
      .default(25 * 1024 * 1024)
      .describe('Customer files larger than this are not forwarded (Genesys takes 25 MB); the agent sees a note instead'),
    socketPingTimeoutMs: z
      .number()
      .int()
      .positive()
      .default(5000)
      .describe('Socket Mode: how long to wait for a pong before reconnecting; also the first pause between reconnects, in ms'),
  })
  .superRefine((options, context) => {
    if (options.mode === 'http' && !options.signingSecret) {
      context.addIssue({ code: 'custom', path: ['signingSecret'], message: 'required when mode is http' });
    }
    if (options.mode === 'socket' && !options.appToken) {
      context.addIssue({ code: 'custom', path: ['appToken'], message: 'required when mode is socket' });
    }
  });

/** Options after validation, defaults applied. */
export type SlackOptions = z.output<typeof slackOptionsSchema>;

/** Options as written in parley.yaml (defaults optional). */
export type SlackOptionsInput = z.input<typeof slackOptionsSchema>;

/** The conversation policy part of the options. */
export type ConversationPolicy = SlackOptions['conversations'];

/** Which events are bridged. */
export type EventRules = SlackOptions['events'];
