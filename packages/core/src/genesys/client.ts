/**
 * The Genesys Cloud client: the four Open Messaging inbound calls (research/genesys.md §3) with
 * OAuth, a shared rate budget and retries, so callers only see a result, a RetryableError or a
 * PermanentError.
 */
import { setMaxListeners } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from 'pino';
import { Agent } from 'undici';
import { PermanentError, RetryableError } from '../errors.js';
import { silentLogger } from '../logger.js';
import {
  parseGenesysClientOptions,
  type GenesysClientOptions,
  type GenesysClientSettings,
  type GenesysEndpoint,
  type GenesysRequestInfo,
} from './client-options.js';
import { describeNetworkError, exchange, type HttpExchange } from './http.js';
import { ClientCredentialsTokenSource } from './oauth.js';
import { RateBudget } from './rate-budget.js';
import { backoffDelay, parseRetryAfter } from './retry.js';
import type {
  GenesysClient,
  InboundEventBody,
  InboundMessageBody,
  InboundMessageResponse,
  InboundReceiptBody,
  InboundReceiptResponse,
  InboundStructuredResponseBody,
} from './types.js';

type ApiEndpoint = Exclude<GenesysEndpoint, 'token'>;

const INBOUND_PATHS: Record<ApiEndpoint, string> = {
  message: 'inbound/open/message',
  receipt: 'inbound/open/receipt',
  event: 'inbound/open/event',
  'structured-response': 'inbound/open/structured/response',
};

/** Statuses worth another attempt besides 429: the server may be fine a moment later. */
function isTransientStatus(status: number): boolean {
  return status >= 500 || status === 408;
}

/**
 * Builds a client. Nothing happens on the network until the first call; `close()` releases the
 * connection pool and fails calls still waiting with `RetryableError` `SHUTDOWN`.
 * Throws ConfigError for invalid options.
 */
export function createGenesysClient(options: GenesysClientOptions): GenesysClient {
  const settings = parseGenesysClientOptions(options);
  return new UndiciGenesysClient(settings, options.logger ?? silentLogger(), options.onRequest);
}

/** One API call, prepared once and sent on every attempt. */
interface ApiRequest {
  endpoint: ApiEndpoint;
  integrationId: string;
  url: string;
  payload: string;
  log: Logger;
}

/** What one attempt means for the call. */
type AttemptOutcome =
  | { kind: 'done'; body: unknown }
  | { kind: 'fail'; error: unknown }
  /** A 401: worth one more attempt with a new token; `error` is thrown if it happens again. */
  | { kind: 'renew-token'; error: RetryableError }
  | { kind: 'retry'; error: RetryableError; delayMs: number };

class UndiciGenesysClient implements GenesysClient {
  private readonly agent: Agent;
  private readonly budget: RateBudget;
  /** One child logger per (endpoint, integration): building one per call (with redaction) was a hot-path cost. */
  private readonly requestLoggers = new Map<string, Logger>();
  private readonly tokens: ClientCredentialsTokenSource;
  private readonly closing = new AbortController();
  private closed: Promise<void> | undefined;

  constructor(
    private readonly settings: GenesysClientSettings,
    private readonly logger: Logger,
    private readonly onRequest: ((info: GenesysRequestInfo) => void) | undefined,
  ) {
    // Every waiting call listens on this signal; the default cap of 10 listeners would warn.
    setMaxListeners(0, this.closing.signal);
    this.agent = new Agent({ connections: 32, connect: { timeout: settings.timeoutMs } });
    this.budget = new RateBudget({ requestsPerMinute: settings.requestsPerMinute, burst: settings.burst });
    this.tokens = new ClientCredentialsTokenSource({
      loginUrl: settings.loginUrl,
      clientId: settings.clientId,
      clientSecret: settings.clientSecret,
      dispatcher: this.agent,
      timeoutMs: settings.timeoutMs,
      logger,
      report: (info) => this.report(info),
      signal: this.closing.signal,
    });
  }

  sendMessage(
    integrationId: string,
    body: InboundMessageBody,
    options: { prefetchConversationId?: boolean } = {},
  ): Promise<InboundMessageResponse> {
    const query = options.prefetchConversationId ? '?prefetchConversationId=true' : '';
    return this.call('message', integrationId, body, query) as Promise<InboundMessageResponse>;
  }

  /** A receipt answered with `status: Failed` is returned as is: the caller decides. */
  sendReceipt(integrationId: string, body: InboundReceiptBody): Promise<InboundReceiptResponse> {
    return this.call('receipt', integrationId, body) as Promise<InboundReceiptResponse>;
  }

  sendEvent(integrationId: string, body: InboundEventBody): Promise<unknown> {
    return this.call('event', integrationId, body);
  }

  sendStructuredResponse(
    integrationId: string,
    body: InboundStructuredResponseBody,
  ): Promise<InboundMessageResponse> {
    return this.call('structured-response', integrationId, body) as Promise<InboundMessageResponse>;
  }

  async getToken(): Promise<string> {
    this.assertOpen();
    return this.tokens.getToken();
  }

  tokenStatus(): { ok: boolean; expiresAt?: number; error?: string } {
    return this.tokens.status();
  }

  close(): Promise<void> {
    this.closed ??= (async () => {
      this.closing.abort();
      this.budget.close(shutdownError());
      // Ends the requests in flight at once (their calls fail with SHUTDOWN): cheaper than an
      // abort listener on every request.
      await this.agent.destroy();
    })();
    return this.closed;
  }

  private async call(endpoint: ApiEndpoint, integrationId: string, body: unknown, query = ''): Promise<unknown> {
    const request: ApiRequest = {
      endpoint,
      integrationId,
      url: `${this.settings.apiUrl}/api/v2/conversations/messages/${encodeURIComponent(integrationId)}/${INBOUND_PATHS[endpoint]}${query}`,
      payload: JSON.stringify(body),
      log: this.requestLogger(endpoint, integrationId),
    };
    let attempt = 0;
    let failures = 0;
    let renewedAfter401 = false;

    for (;;) {
      this.assertOpen();
      // Receipts and typing may wait behind customer messages and button presses.
      await this.budget.acquire(endpoint === 'receipt' || endpoint === 'event' ? 'low' : 'high');
      attempt += 1;
      const outcome = await this.attempt(request, attempt, failures + 1);
      switch (outcome.kind) {
        case 'done':
          return outcome.body;
        case 'fail':
          throw outcome.error;
        case 'renew-token':
          if (renewedAfter401) throw outcome.error;
          // The token was revoked or expired early: one retry with a new token, at once.
          renewedAfter401 = true;
          request.log.info({ attempt }, 'Genesys answered 401; retrying once with a new token');
          continue;
        case 'retry':
          failures += 1;
          // A wait longer than backoffMaxMs is better spent in a durable queue than in this call.
          if (failures >= this.settings.maxAttempts || outcome.delayMs > this.settings.backoffMaxMs) {
            throw outcome.error;
          }
          await this.pause(outcome, request.log, attempt);
      }
    }
  }

  /** One try: token, request, and what to do about the answer. `retry` numbers the next retry. */
  private async attempt(request: ApiRequest, attempt: number, retry: number): Promise<AttemptOutcome> {
    const { endpoint, integrationId } = request;
    let token: string;
    try {
      token = await this.tokens.getToken();
    } catch (error) {
      this.rethrowIfClosed(error);
      // Bad credentials need a human: waiting inside this call would not help.
      if (!(error instanceof RetryableError) || error.code === 'GENESYS_AUTH') return { kind: 'fail', error };
      return { kind: 'retry', error, delayMs: error.retryAfterMs ?? this.backoff(retry) };
    }

    const started = performance.now();
    let response: HttpExchange;
    try {
      response = await exchange(this.agent, {
        url: request.url,
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', accept: 'application/json' },
        body: request.payload,
        timeoutMs: this.settings.timeoutMs,
      });
    } catch (error) {
      this.rethrowIfClosed(error);
      const reason = describeNetworkError(error);
      this.report({ endpoint, attempt, durationMs: performance.now() - started, error: reason });
      const failure = new RetryableError(
        'GENESYS_UNAVAILABLE',
        `Genesys ${endpoint} request failed after ${attempt} attempt(s): ${reason}`,
        { cause: error, details: { endpoint, integrationId, attempts: attempt } },
      );
      return { kind: 'retry', error: failure, delayMs: this.backoff(retry) };
    }

    const { status } = response;
    const durationMs = performance.now() - started;
    if (status >= 200 && status < 300) {
      this.report({ endpoint, attempt, durationMs, status });
      request.log.debug({ status, attempt }, 'Genesys accepted the request');
      return { kind: 'done', body: response.body };
    }
    const problem = describeGenesysError(response.body);
    this.report({ endpoint, attempt, durationMs, status, error: `HTTP ${status}${problem.summary}` });
    const details = { endpoint, integrationId, status, attempts: attempt, ...problem.details };

    if (status === 401) {
      this.tokens.invalidate(token);
      const error = new RetryableError(
        'GENESYS_AUTH',
        `Genesys answered 401 to the ${endpoint} request even with a newly issued token${problem.summary}`,
        { details },
      );
      return { kind: 'renew-token', error };
    }
    if (status === 429) {
      const delayMs = parseRetryAfter(response.headers['retry-after']) ?? this.backoff(retry);
      // The budget is spent for every caller of this client, not only this one.
      this.budget.pause(delayMs);
      const error = new RetryableError(
        'GENESYS_RATE_LIMITED',
        `Genesys rate-limited the ${endpoint} request (HTTP 429) after ${attempt} attempt(s)${problem.summary}`,
        { retryAfterMs: delayMs, details },
      );
      return { kind: 'retry', error, delayMs };
    }
    if (isTransientStatus(status)) {
      const error = new RetryableError(
        'GENESYS_UNAVAILABLE',
        `Genesys answered HTTP ${status} to the ${endpoint} request after ${attempt} attempt(s)${problem.summary}`,
        { details },
      );
      return { kind: 'retry', error, delayMs: this.backoff(retry) };
    }
    if (status === 403) {
      // Almost always an OAuth client without `conversation:message:receive`: a configuration fix
      // in Genesys, after which the queued work should flow rather than having been dropped.
      const error = new RetryableError(
        'GENESYS_AUTH',
        `Genesys refused the ${endpoint} request (HTTP 403): does the OAuth client have the conversation:message:receive permission?${problem.summary}`,
        { details },
      );
      return { kind: 'fail', error };
    }
    const error = new PermanentError(
      'GENESYS_REJECTED',
      `Genesys rejected the ${endpoint} request with HTTP ${status}${problem.summary}`,
      { reasonCode: status === 400 ? 'InvalidMessageStructure' : 'GeneralError', details },
    );
    return { kind: 'fail', error };
  }

  private requestLogger(endpoint: ApiEndpoint, integrationId: string): Logger {
    const key = `${endpoint}\u0000${integrationId}`;
    let log = this.requestLoggers.get(key);
    if (!log) {
      log = this.logger.child({ endpoint, integrationId });
      this.requestLoggers.set(key, log);
    }
    return log;
  }

  private backoff(failures: number): number {
    return backoffDelay(failures, { baseMs: this.settings.backoffBaseMs, maxMs: this.settings.backoffMaxMs });
  }

  private async pause(decision: { error: RetryableError; delayMs: number }, log: Logger, attempt: number): Promise<void> {
    log.warn({ attempt, delayMs: decision.delayMs, err: decision.error }, 'Genesys request failed; retrying');
    try {
      await sleep(decision.delayMs, undefined, { signal: this.closing.signal });
    } catch (error) {
      this.rethrowIfClosed(error);
      throw error;
    }
  }

  private report(info: GenesysRequestInfo): void {
    if (!this.onRequest) return;
    try {
      this.onRequest({ ...info, durationMs: Math.round(info.durationMs * 1000) / 1000 });
    } catch (error) {
      this.logger.warn({ err: error }, 'onRequest hook threw; ignored');
    }
  }

  private assertOpen(): void {
    if (this.closing.signal.aborted) throw shutdownError();
  }

  private rethrowIfClosed(cause: unknown): void {
    if (this.closing.signal.aborted) throw shutdownError(cause);
  }
}

function shutdownError(cause?: unknown): RetryableError {
  return new RetryableError('SHUTDOWN', 'The Genesys client is closed', cause === undefined ? {} : { cause });
}

/**
 * Reads a Genesys `ErrorBody` (`{ message, code, status, contextId, … }`) into a suffix for error
 * messages, e.g. ` (bad.request): should have required property 'content'…`, and log details.
 */
function describeGenesysError(body: unknown): { summary: string; details: Record<string, unknown> } {
  if (typeof body === 'string') {
    const text = body.trim().slice(0, 300);
    return { summary: text ? `: ${text}` : '', details: {} };
  }
  if (typeof body !== 'object' || body === null) return { summary: '', details: {} };
  const fields = body as Record<string, unknown>;
  const code = typeof fields['code'] === 'string' ? fields['code'] : undefined;
  const message = typeof fields['message'] === 'string' ? fields['message'] : undefined;
  const contextId = typeof fields['contextId'] === 'string' ? fields['contextId'] : undefined;
  const summary = (code ? ` (${code})` : '') + (message ? `: ${message}` : '');
  return {
    summary,
    details: {
      ...(code ? { genesysCode: code } : {}),
      ...(contextId ? { contextId } : {}),
    },
  };
}
