/**
 * Options of {@link createGenesysClient} and their validation.
 */
import type { Logger } from 'pino';
import { z } from 'zod';
import { ConfigError } from '../errors.js';

/** The Genesys endpoints the client calls; `token` is the OAuth token request. */
export type GenesysEndpoint = 'token' | 'message' | 'receipt' | 'event' | 'structured-response';

/** One HTTP exchange with Genesys, as reported to `onRequest` (for metrics). */
export interface GenesysRequestInfo {
  endpoint: GenesysEndpoint;
  /** HTTP status; absent when no response arrived (network error, timeout). */
  status?: number;
  durationMs: number;
  /** 1 for the first try of a call, 2 for its first retry, … (token requests: always 1). */
  attempt: number;
  /** Why the exchange failed (transport error or non-2xx); absent on success. */
  error?: string;
}

export interface GenesysClientOptions {
  /** Platform API base URL, e.g. `https://api.mypurecloud.com` (see `resolveGenesysUrls`). */
  apiUrl: string;
  /** OAuth base URL, e.g. `https://login.mypurecloud.com`. */
  loginUrl: string;
  clientId: string;
  clientSecret: string;
  /** Request budget of the OAuth client. Default 300 (Genesys's per-token limit). */
  requestsPerMinute?: number;
  /** Requests that may go at once after a quiet period. Default: one second's worth of the budget. */
  burst?: number;
  /** Longest time one HTTP request may take, answer body included; then it counts as failed. Default 10000. */
  timeoutMs?: number;
  /** HTTP attempts per call on 429, 5xx, network errors and timeouts. Default 4. */
  maxAttempts?: number;
  /** Backoff ceiling of the first retry (full jitter, doubling). Default 250. */
  backoffBaseMs?: number;
  /**
   * Cap of a backoff delay. A 429 whose Retry-After is longer than this is not waited out inside
   * the client: the call fails at once with `retryAfterMs` so a durable queue can reschedule it.
   * Default 10000.
   */
  backoffMaxMs?: number;
  logger?: Logger;
  /** Called after every HTTP exchange with Genesys, token requests included. Must not throw. */
  onRequest?: (info: GenesysRequestInfo) => void;
}

const baseUrl = z
  .string()
  .trim()
  .refine((value) => {
    try {
      return ['http:', 'https:'].includes(new URL(value).protocol);
    } catch {
      return false;
    }
  }, 'must be an http(s) URL')
  .transform((value) => value.replace(/\/+$/, ''));

const settingsSchema = z.object({
  apiUrl: baseUrl,
  loginUrl: baseUrl,
  clientId: z.string().min(1, 'required'),
  clientSecret: z.string().min(1, 'required'),
  requestsPerMinute: z.number().positive().default(300),
  burst: z.number().min(1).optional(),
  timeoutMs: z.number().int().positive().default(10_000),
  maxAttempts: z.number().int().min(1).default(4),
  backoffBaseMs: z.number().nonnegative().default(250),
  backoffMaxMs: z.number().nonnegative().default(10_000),
});

/** The validated options with every default applied. */
export type GenesysClientSettings = Required<Omit<z.output<typeof settingsSchema>, 'burst'>> & { burst: number };

/** Validates the scalar options; issues name `genesys.<option>`. */
export function parseGenesysClientOptions(options: GenesysClientOptions): GenesysClientSettings {
  // Unknown keys (logger, onRequest) are stripped by the object schema.
  const parsed = settingsSchema.safeParse(options);
  if (!parsed.success) {
    throw new ConfigError(
      parsed.error.issues.map((issue) => ({
        path: ['genesys', ...issue.path.map(String)].join('.'),
        message: issue.message,
      })),
    );
  }
  const settings = parsed.data;
  return { ...settings, burst: settings.burst ?? Math.max(1, Math.ceil(settings.requestsPerMinute / 60)) };
}
