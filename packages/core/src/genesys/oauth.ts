/**
 * OAuth client-credentials tokens for the Genesys Platform API (research/genesys.md §8):
 * `POST {loginUrl}/oauth/token`, Basic auth, form body `grant_type=client_credentials`.
 */
import type { Logger } from 'pino';
import type { Dispatcher } from 'undici';
import { RetryableError } from '../errors.js';
import { describeNetworkError, exchange } from './http.js';
import { parseRetryAfter } from './retry.js';
import type { GenesysRequestInfo } from './client-options.js';

export interface TokenSourceOptions {
  loginUrl: string;
  clientId: string;
  clientSecret: string;
  dispatcher: Dispatcher;
  timeoutMs: number;
  logger: Logger;
  /** Told about every token request (metrics). */
  report: (info: GenesysRequestInfo) => void;
  /** Aborts a token request in flight when the client closes. */
  signal?: AbortSignal;
  now?: () => number;
}

/** What `tokenStatus()` reports: the outcome of the last token request. */
export interface TokenStatus {
  ok: boolean;
  expiresAt?: number;
  error?: string;
}

interface CachedToken {
  value: string;
  expiresAt: number;
  /** From here on, the next caller fetches a fresh token. */
  refreshAt: number;
}

/** Refresh when less than min(60 s, 10 % of the lifetime) remains. */
function refreshMargin(lifetimeMs: number): number {
  return Math.min(60_000, lifetimeMs * 0.1);
}

/** A token still this far from expiry may be used when refreshing it failed. */
const STALE_GRACE_MS = 1_000;

/**
 * Caches the token, refreshes it before expiry, and shares one token request among concurrent
 * callers (single flight), so a burst of calls after start-up or expiry costs one round trip.
 */
export class ClientCredentialsTokenSource {
  private readonly options: TokenSourceOptions;
  private readonly now: () => number;
  private readonly authorization: string;
  private cached: CachedToken | undefined;
  private inFlight: Promise<string> | undefined;
  private lastStatus: TokenStatus = { ok: false, error: 'no token requested yet' };

  constructor(options: TokenSourceOptions) {
    this.options = options;
    this.now = options.now ?? Date.now;
    this.authorization =
      'Basic ' + Buffer.from(`${options.clientId}:${options.clientSecret}`, 'utf8').toString('base64');
  }

  /** A valid token: cached, or fetched once for every concurrent caller. */
  async getToken(): Promise<string> {
    const cached = this.cached;
    const now = this.now();
    if (cached && now < cached.refreshAt) return cached.value;
    try {
      return await this.refresh();
    } catch (error) {
      // The old token is still accepted for a while: better than failing the call.
      if (cached && this.cached === cached && now < cached.expiresAt - STALE_GRACE_MS) {
        this.options.logger.warn(
          { err: error, expiresAt: new Date(cached.expiresAt).toISOString() },
          'Genesys token refresh failed; using the current token until it expires',
        );
        return cached.value;
      }
      throw error;
    }
  }

  /**
   * Drops `token` after the API answered 401 with it. A token other than the cached one (already
   * replaced by a concurrent caller) is left alone, so a burst of 401s costs one refresh.
   */
  invalidate(token: string): void {
    if (this.cached?.value === token) this.cached = undefined;
  }

  status(): TokenStatus {
    return { ...this.lastStatus };
  }

  private refresh(): Promise<string> {
    this.inFlight ??= this.fetchToken().finally(() => {
      this.inFlight = undefined;
    });
    return this.inFlight;
  }

  private async fetchToken(): Promise<string> {
    const { loginUrl, clientId, timeoutMs, dispatcher, logger } = this.options;
    const started = this.now();
    let status: number | undefined;
    try {
      let response;
      try {
        response = await exchange(dispatcher, {
          url: `${loginUrl}/oauth/token`,
          method: 'POST',
          headers: {
            authorization: this.authorization,
            'content-type': 'application/x-www-form-urlencoded',
            accept: 'application/json',
          },
          body: 'grant_type=client_credentials',
          timeoutMs,
          ...(this.options.signal ? { signal: this.options.signal } : {}),
        });
      } catch (error) {
        throw new RetryableError(
          'GENESYS_UNAVAILABLE',
          `Genesys login (${loginUrl}) could not be reached: ${describeNetworkError(error)}`,
          { cause: error },
        );
      }
      status = response.status;
      const token = this.readToken(response.status, response.headers, response.body);
      const obtainedAt = this.now();
      const lifetimeMs = token.expiresInSeconds * 1000;
      this.cached = {
        value: token.accessToken,
        expiresAt: obtainedAt + lifetimeMs,
        refreshAt: obtainedAt + lifetimeMs - refreshMargin(lifetimeMs),
      };
      this.lastStatus = { ok: true, expiresAt: this.cached.expiresAt };
      this.report({ status, durationMs: this.now() - started });
      logger.debug({ clientId, expiresInSeconds: token.expiresInSeconds }, 'Genesys token obtained');
      return token.accessToken;
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      this.lastStatus = { ok: false, error: message };
      this.report({ ...(status === undefined ? {} : { status }), durationMs: this.now() - started, error: message });
      logger.warn({ clientId, status, err: error }, 'Genesys token request failed');
      throw error;
    }
  }

  private readToken(
    status: number,
    headers: Record<string, string | string[] | undefined>,
    body: unknown,
  ): { accessToken: string; expiresInSeconds: number } {
    const { clientId, loginUrl } = this.options;
    if (status >= 200 && status < 300) {
      const fields = (typeof body === 'object' && body !== null ? body : {}) as Record<string, unknown>;
      const accessToken = fields['access_token'];
      const expiresIn = Number(fields['expires_in']);
      if (typeof accessToken === 'string' && accessToken !== '' && expiresIn > 0) {
        return { accessToken, expiresInSeconds: expiresIn };
      }
      throw new RetryableError(
        'GENESYS_UNAVAILABLE',
        `Genesys login (${loginUrl}) answered HTTP ${status} without access_token/expires_in`,
      );
    }
    const why = describeOAuthError(body);
    if (status === 429) {
      const retryAfterMs = parseRetryAfter(headers['retry-after'], this.now());
      throw new RetryableError('GENESYS_RATE_LIMITED', `Genesys login rate-limited the token request (HTTP 429)${why}`, {
        ...(retryAfterMs === undefined ? {} : { retryAfterMs }),
      });
    }
    if (status >= 400 && status < 500) {
      // Retryable on purpose: queued work waits for the credentials to be fixed instead of being dropped.
      throw new RetryableError(
        'GENESYS_AUTH',
        `Genesys rejected the OAuth client credentials (clientId ${clientId}) with HTTP ${status}${why}; check genesys.clientId and genesys.clientSecret`,
        { details: { clientId, status } },
      );
    }
    throw new RetryableError('GENESYS_UNAVAILABLE', `Genesys login answered HTTP ${status}${why}`);
  }

  private report(info: { status?: number; durationMs: number; error?: string }): void {
    this.options.report({ endpoint: 'token', attempt: 1, ...info });
  }
}

/** `: invalid_client (Authentication failed)` from an OAuth or Genesys error body, or ''. */
function describeOAuthError(body: unknown): string {
  if (typeof body === 'string') return body.length > 0 ? `: ${body.slice(0, 200)}` : '';
  if (typeof body !== 'object' || body === null) return '';
  const fields = body as Record<string, unknown>;
  const code = fields['error'] ?? fields['code'];
  const text = fields['error_description'] ?? fields['description'] ?? fields['message'];
  const parts = [code, text].filter((part): part is string => typeof part === 'string' && part !== '');
  if (parts.length === 0) return '';
  return parts.length === 2 ? `: ${parts[0]} (${parts[1]})` : `: ${parts[0]}`;
}
