/**
 * Delay before retry number `attempt`: exponential growth from `baseMs`, capped at `maxMs`, with
 * full jitter so jobs that failed together (an outage, a 429 burst) do not retry together.
 *
 * The result lies in `[baseMs, min(maxMs, baseMs * 2^attempt)]`: never below `baseMs`, so a
 * failing job cannot spin, and never above `maxMs`.
 *
 * @param attempt attempts already made (1 after the first failure)
 * @param random a source of numbers in [0, 1), injectable for tests
 * @example backoffDelay(3, 500, 300_000) // somewhere in 500 .. 4000 ms
 */
export function backoffDelay(
  attempt: number,
  baseMs: number,
  maxMs: number,
  random: () => number = Math.random,
): number {
  const floor = Math.max(0, Math.min(baseMs, maxMs));
  // 2 ** attempt overflows to Infinity for large attempts, which the cap absorbs.
  const ceiling = Math.max(floor, Math.min(maxMs, baseMs * 2 ** Math.max(0, attempt)));
  return Math.floor(floor + random() * (ceiling - floor));
}
