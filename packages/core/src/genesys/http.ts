/**
 * One HTTP exchange with Genesys over undici, reduced to what the client decides on: status,
 * headers and the parsed body. Global `fetch` costs 3.5× the CPU per call on Node 20
 * (research/perf-reliability.md §4.5), so this goes through an undici dispatcher.
 */
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
  /** Aborts the exchange early (client shutdown). */
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
 * {@link RequestTimeoutError}. The deadline is an AbortSignal timer rather than undici's
 * headersTimeout/bodyTimeout: those run on a coarse clock (about 0.5 s ticks), too coarse for
 * the sub-second timeouts tests use, and they bound each phase rather than the whole exchange.
 */
export async function exchange(dispatcher: Dispatcher, request: HttpRequest): Promise<HttpExchange> {
  const url = new URL(request.url);
  const deadline = new AbortController();
  const timer = setTimeout(() => deadline.abort(new RequestTimeoutError(request.timeoutMs)), request.timeoutMs);
  const outer = request.signal;
  const forward = () => deadline.abort(outer?.reason);
  if (outer?.aborted) forward();
  outer?.addEventListener('abort', forward, { once: true });
  try {
    const response = await dispatcher.request({
      origin: url.origin,
      path: url.pathname + url.search,
      method: request.method,
      headers: request.headers,
      body: request.body,
      signal: deadline.signal,
    });
    const text = await response.body.text();
    return { status: response.statusCode, headers: response.headers, body: parseBody(text) };
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
