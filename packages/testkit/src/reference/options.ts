/**
 * The reference connector's options (`connectors.<id>.options` in parley.yaml). The schema is the
 * single source of the options type; the host validates the YAML block with it and reports every
 * issue with its key path.
 */
import { z } from 'zod';

export const referenceOptionsSchema = z.object({
  /** Base URL of the platform's Bot API, e.g. `http://127.0.0.1:8090` (the demo platform). */
  apiUrl: z
    .url({ protocol: /^https?$/, message: 'must be an http(s) URL' })
    .transform((value) => value.replace(/\/+$/, '')),
  /** The bot token. Sent only in the Authorization header: it never appears in a URL or a log. */
  token: z.string().min(1, 'required'),
  /** How long one long poll waits for updates, in seconds (0 = short polling). */
  pollTimeoutSeconds: z.number().int().min(0).max(50).default(10),
  /** First pause after a failed poll, in ms; doubles per failure (with jitter) up to `pollRetryMaxMs`. */
  pollRetryMinMs: z.number().int().positive().default(1000),
  /** Longest pause between failed polls, in ms. */
  pollRetryMaxMs: z.number().int().positive().default(30_000),
  /** Longest wait for the platform to answer a send, in ms. */
  requestTimeoutMs: z.number().int().positive().default(30_000),
});

/** Options after validation, defaults applied. */
export type ReferenceOptions = z.output<typeof referenceOptionsSchema>;

/** Options as written in parley.yaml (defaults optional). */
export type ReferenceOptionsInput = z.input<typeof referenceOptionsSchema>;
