/**
 * The two pieces of retry arithmetic the Genesys client needs: reading `Retry-After` and
 * exponential backoff with full jitter.
 */

/**
 * Milliseconds to wait according to a `Retry-After` header: delay-seconds (`"3"`, also a decimal
 * such as `"1.5"`) or an HTTP date (`"Wed, 21 Oct 2015 07:28:00 GMT"`, relative to `now`).
 * A date in the past gives 0. Missing or unreadable values give `undefined`, so the caller falls
 * back to its own backoff.
 */
export function parseRetryAfter(
  header: string | string[] | undefined,
  now: number = Date.now(),
): number | undefined {
  const value = (Array.isArray(header) ? header[0] : header)?.trim();
  if (!value) return undefined;
  if (/^\d+(\.\d+)?$/.test(value)) return Math.round(Number(value) * 1000);
  // Only a value that looks like a date: Date.parse would read "-1" or "12abc" as a year.
  if (!/[a-z]/i.test(value)) return undefined;
  const at = Date.parse(value);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

export interface BackoffOptions {
  /** Upper bound of the first retry's delay. */
  baseMs: number;
  /** Cap of every delay. */
  maxMs: number;
}

/**
 * Delay before retry number `retry` (1 = first retry): a uniformly random value in
 * `[0, min(maxMs, baseMs · 2^(retry-1)))`. Full jitter spreads the retries of many callers that
 * failed together, so they do not hit a recovering server in lockstep.
 */
export function backoffDelay(
  retry: number,
  options: BackoffOptions,
  random: () => number = Math.random,
): number {
  const exponent = Math.max(0, retry - 1);
  // 2 ** exponent overflows to Infinity for large retries; Math.min keeps it at the cap.
  const ceiling = Math.min(options.maxMs, options.baseMs * 2 ** exponent);
  return Math.floor(random() * ceiling);
}
