/**
 * Scripted failures of the reference platform's Bot API, in the shapes real platforms use, so a
 * connector's error mapping is exercised against real HTTP answers.
 */
import type { PlatformErrorBody } from './protocol.js';

/** The Bot API methods a failure can target. */
export type PlatformMethod = 'messages' | 'typing' | 'updates' | 'files';

export interface PlatformFailure {
  method: PlatformMethod;
  /**
   * 429: rate limited (with `retryAfterSeconds`, default 1); 403: the customer blocked the bot;
   * 404: chat not found; 500/503: the platform is down.
   */
  status: 429 | 403 | 404 | 500 | 503;
  retryAfterSeconds?: number;
  /** How many calls fail; default 1. */
  times?: number;
}

/** An HTTP error answer: status, JSON body and extra headers. */
export interface FailureAnswer {
  status: number;
  body: PlatformErrorBody;
  headers: Record<string, string>;
}

/** The failures planned per method, used up call by call in the order they were added. */
export class FailurePlan {
  readonly #queued = new Map<PlatformMethod, Array<{ failure: PlatformFailure; remaining: number }>>();

  add(failure: PlatformFailure): void {
    const remaining = failure.times ?? 1;
    if (!Number.isInteger(remaining) || remaining < 1) throw new Error('times must be a positive integer');
    const list = this.#queued.get(failure.method) ?? [];
    list.push({ failure, remaining });
    this.#queued.set(failure.method, list);
  }

  /** The failure the next call of `method` gets, if one is planned (and counts it as used). */
  next(method: PlatformMethod): FailureAnswer | undefined {
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

/** The HTTP answer a real platform gives for `failure.status`. */
export function failureAnswer(failure: PlatformFailure): FailureAnswer {
  switch (failure.status) {
    case 429: {
      const retryAfter = failure.retryAfterSeconds ?? 1;
      return {
        status: 429,
        body: { error: 'rate limited', retryAfter },
        headers: { 'retry-after': String(retryAfter) },
      };
    }
    case 403:
      return { status: 403, body: { error: 'blocked', description: 'the customer blocked the bot' }, headers: {} };
    case 404:
      return { status: 404, body: { error: 'chat not found' }, headers: {} };
    default:
      return {
        status: failure.status,
        body: { error: 'unavailable', description: 'the platform is having a bad day' },
        headers: {},
      };
  }
}
