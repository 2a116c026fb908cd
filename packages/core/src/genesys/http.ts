/**
 * One HTTP exchange with Genesys over undici, reduced to what the client decides on: status,
 * headers and the parsed body. Global `fetch` costs 3.5× the CPU per call on Node 20
 * (research/perf-reliability.md §4.5), so this goes through an undici dispatcher.
 */
import { EventEmitter } from 'node:events';
import type { Dispatcher } from 'undici';

export interface HttpExchange {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  /** Parsed JSON, or the raw text when the body is not JSON, or undefined when empty. */
  body: unknown;
}

export interface HttpRequest {
  /** Absolute URL. */
  url: string;
  method: 'POST' | 'GET';
  headers: Record<string, string>;
  body?: string;
  /** Deadline of the whole exchange, body included. */
  timeoutMs: number;
  /** Aborts the exchange early (e.g. a token fetch when its client shuts down). */
  signal?: AbortSignal;
}

/** The exchange took longer than its deadline. */
export class RequestTimeoutError extends Error {
  override readonly name = 'RequestTimeoutError';
  readonly code = 'REQUEST_TIMEOUT';

  constructor(timeoutMs: number) {
    super(`timed out after ${timeoutMs} ms without a complete answer`);
  }
}

/**
 * Sends one request; network failures reject with undici's error, the deadline with
 * {@link RequestTimeoutError}. The deadline covers the whole exchange, body included (undici's
 * headersTimeout/bodyTimeout bound each phase instead). It aborts through an EventEmitter, which
 * undici takes as a request's `signal` like an AbortSignal: on Node 20 an AbortSignal with its
 * listeners cost ~20 µs of CPU per request (a quarter of a Genesys call's client-side cost),
 * the emitter ~2 µs.
 */
export async function exchange(dispatcher: Dispatcher, request: HttpRequest): Promise<HttpExchange> {
  const url = new URL(request.url);
  const abort = new EventEmitter();
  let abortReason: unknown;
  const abortWith = (reason: unknown): void => {
    if (abortReason !== undefined) return;
    abortReason = reason;
    abort.emit('abort');
  };
  const timer = setTimeout(() => abortWith(new RequestTimeoutError(request.timeoutMs)), request.timeoutMs);
  const outer = request.signal;
  const forward = () => abortWith(outer?.reason ?? new Error('aborted'));
  if (outer?.aborted) forward();
  outer?.addEventListener('abort', forward, { once: true });
  try {
    // An emitter has no `aborted` state for undici to check: an exchange aborted before it began
    // must not begin.
    if (abortReason !== undefined) throw abortReason;
    const response = await dispatcher.request({
      origin: url.origin,
      path: url.pathname + url.search,
      method: request.method,
      headers: request.headers,
      body: request.body,
      signal: abort,
    });
    const text = await response.body.text();
    return { status: response.statusCode, headers: response.headers, body: parseBody(text) };
  } catch (error) {
    // undici reports an emitter's abort as its own RequestAbortedError: say why instead.
    throw abortReason ?? error;
  } finally {
    clearTimeout(timer);
    outer?.removeEventListener('abort', forward);
  }
}

function parseBody(text: string): unknown {
  if (text.trim() === '') return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}

/** A short description of a transport failure for logs and errors (undici codes are telling). */
export function describeNetworkError(error: unknown): string {
  if (error instanceof Error) {
    const code = (error as { code?: unknown }).code;
    return typeof code === 'string' && !error.message.includes(code) ? `${code}: ${error.message}` : error.message;
  }
  return String(error);
}
