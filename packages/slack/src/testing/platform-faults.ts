/**
 * Scripted failures of the Slack fake's Web API, in the shapes Slack uses: `ok: false` with an
 * error code on HTTP 200, 429 with Retry-After, or an outage status.
 */

/** A failure planned for the next call(s) of a Web API method (or the upload URL: `upload`). */
export interface SlackFailure {
  /** `chat.postMessage`, `users.info`, `files.completeUploadExternal`, `upload`… */
  method: string;
  /** An `ok: false` error code such as `channel_not_found`, `not_in_channel`, `invalid_auth`. */
  error?: string;
  /** An HTTP failure instead: 429 (rate limited, with `retryAfterSeconds`, default 1) or 5xx. */
  status?: 429 | 500 | 502 | 503;
  retryAfterSeconds?: number;
  /** How many calls fail; default 1. */
  times?: number;
  /** Answer only after this many ms (a slow Slack). */
  delayMs?: number;
}

/** The HTTP answer for a failure. */
export interface FailureAnswer {
  status: number;
  body: Record<string, unknown>;
  headers: Record<string, string>;
  delayMs: number;
}

/** The failures planned per method, used up call by call in the order they were added. */
export class FailurePlan {
  readonly #queued = new Map<string, Array<{ failure: SlackFailure; remaining: number }>>();

  add(failure: SlackFailure): void {
    const remaining = failure.times ?? 1;
    if (!Number.isInteger(remaining) || remaining < 1) throw new Error('times must be a positive integer');
    if (failure.error === undefined && failure.status === undefined && failure.delayMs === undefined) {
      throw new Error('A failure needs an error code, a status or a delay');
    }
    const list = this.#queued.get(failure.method) ?? [];
    list.push({ failure, remaining });
    this.#queued.set(failure.method, list);
  }

  /** The failure the next call of `method` gets, if one is planned (and counts it as used). */
  next(method: string): FailureAnswer | undefined {
    const list = this.#queued.get(method);
    const head = list?.[0];
    if (!list || !head) return undefined;
    head.remaining -= 1;
    if (head.remaining <= 0) list.shift();
    return failureAnswer(head.failure);
  }

  clear(): void {
    this.#queued.clear();
  }
}

function failureAnswer(failure: SlackFailure): FailureAnswer {
  const delayMs = failure.delayMs ?? 0;
  if (failure.status === 429) {
    const retryAfter = failure.retryAfterSeconds ?? 1;
    return { status: 429, body: { ok: false, error: 'ratelimited' }, headers: { 'retry-after': String(retryAfter) }, delayMs };
  }
  if (failure.status !== undefined) {
    return { status: failure.status, body: { ok: false, error: 'service_unavailable' }, headers: {}, delayMs };
  }
  if (failure.error !== undefined) {
    return {
      status: 200,
      body: { ok: false, error: failure.error, ...(failure.error === 'missing_scope' ? { needed: 'chat:write' } : {}) },
      headers: {},
      delayMs,
    };
  }
  // Only a delay: the call then succeeds, late.
  return { status: 0, body: {}, headers: {}, delayMs };
}
