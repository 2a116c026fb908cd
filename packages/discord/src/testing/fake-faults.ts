/**
 * Error injection for the fake's REST API: the next call(s) of a route fail the way Discord fails,
 * with the headers and JSON body discord.js reads (rate limits come from headers, not the body).
 */

/** The REST routes a failure can target. */
export type FakeRoute =
  | 'gateway-bot'
  | 'send'
  | 'typing'
  | 'open-dm'
  | 'channel'
  | 'history'
  | 'message'
  | 'thread'
  | 'interaction'
  | 'attachment';

export interface FakeFailure {
  route: FakeRoute;
  /** HTTP status: 429, 5xx, 403, 404, 400… */
  status: number;
  /** Discord's JSON error code, e.g. 50007 (cannot DM), 10003 (unknown channel), 50013 (missing permissions). */
  code?: number;
  message?: string;
  /** For 429: the `Retry-After` header, in seconds (default 1). */
  retryAfterSeconds?: number;
  /** For 429: a global rate limit rather than the route's. */
  global?: boolean;
  /** How many calls fail; default 1. */
  times?: number;
  /** How many calls of the route succeed before the failure applies; default 0. */
  skip?: number;
  /**
   * Fail after doing the work: the message is posted, but the answer is an error. What a client
   * sees when its connection drops after Discord accepted the request (only for `send`).
   */
  afterAccept?: boolean;
}

export interface PreparedFailure {
  status: number;
  headers: Record<string, string>;
  body: unknown;
}

const MESSAGES: Record<number, string> = {
  10003: 'Unknown Channel',
  10008: 'Unknown Message',
  10013: 'Unknown User',
  50001: 'Missing Access',
  50007: 'Cannot send messages to this user',
  50013: 'Missing Permissions',
};

export class FailurePlan {
  readonly #planned: Array<FakeFailure & { remaining: number; toSkip: number }> = [];

  add(failure: FakeFailure): void {
    this.#planned.push({ ...failure, remaining: failure.times ?? 1, toSkip: failure.skip ?? 0 });
  }

  /** The failure to answer the next call of `route` with, if any (`afterAccept`: once the work is done). */
  next(route: FakeRoute, afterAccept = false): PreparedFailure | undefined {
    const index = this.#planned.findIndex(
      (failure) => failure.route === route && (failure.afterAccept ?? false) === afterAccept,
    );
    if (index < 0) return undefined;
    const failure = this.#planned[index]!;
    if (failure.toSkip > 0) {
      failure.toSkip -= 1;
      return undefined;
    }
    failure.remaining -= 1;
    if (failure.remaining <= 0) this.#planned.splice(index, 1);
    return prepare(failure);
  }

  clear(): void {
    this.#planned.length = 0;
  }
}

function prepare(failure: FakeFailure): PreparedFailure {
  if (failure.status === 429) {
    const seconds = failure.retryAfterSeconds ?? 1;
    return {
      status: 429,
      headers: {
        'retry-after': String(seconds),
        'x-ratelimit-scope': failure.global ? 'global' : 'user',
        ...(failure.global ? { 'x-ratelimit-global': 'true' } : {}),
      },
      body: { message: 'You are being rate limited.', retry_after: seconds, global: failure.global ?? false, code: 0 },
    };
  }
  if (failure.status >= 500) {
    return { status: failure.status, headers: {}, body: { message: failure.message ?? 'Internal Server Error', code: 0 } };
  }
  const code = failure.code ?? (failure.status === 401 ? 0 : failure.status === 404 ? 10003 : 50013);
  return {
    status: failure.status,
    headers: {},
    body: { message: failure.message ?? MESSAGES[code] ?? (failure.status === 401 ? '401: Unauthorized' : 'Error'), code },
  };
}
