import { describe, expect, it } from 'vitest';
import { backoffDelay, parseRetryAfter } from './retry.js';

describe('parseRetryAfter', () => {
  const now = Date.parse('2025-03-01T12:00:00Z');

  it('reads delay-seconds', () => {
    expect(parseRetryAfter('3', now)).toBe(3000);
    expect(parseRetryAfter(' 0 ', now)).toBe(0);
    expect(parseRetryAfter('1.5', now)).toBe(1500);
  });

  it('reads an HTTP date relative to now', () => {
    expect(parseRetryAfter('Sat, 01 Mar 2025 12:00:07 GMT', now)).toBe(7000);
  });

  it('gives 0 for a date in the past', () => {
    expect(parseRetryAfter('Sat, 01 Mar 2025 11:59:00 GMT', now)).toBe(0);
  });

  it('uses the first value of a repeated header', () => {
    expect(parseRetryAfter(['2', '9'], now)).toBe(2000);
  });

  it('gives undefined for missing or unreadable values', () => {
    expect(parseRetryAfter(undefined, now)).toBeUndefined();
    expect(parseRetryAfter('', now)).toBeUndefined();
    expect(parseRetryAfter('-1', now)).toBeUndefined();
    expect(parseRetryAfter('soon', now)).toBeUndefined();
    expect(parseRetryAfter('12abc', now)).toBeUndefined();
  });
});

describe('backoffDelay (full jitter)', () => {
  const options = { baseMs: 250, maxMs: 10_000 };

  it('doubles the ceiling per retry', () => {
    const top = () => 0.999999;
    expect(backoffDelay(1, options, top)).toBe(249);
    expect(backoffDelay(2, options, top)).toBe(499);
    expect(backoffDelay(3, options, top)).toBe(999);
  });

  it('is capped at maxMs, even for huge retry numbers', () => {
    const top = () => 0.999999;
    expect(backoffDelay(7, options, top)).toBe(9_999);
    expect(backoffDelay(5_000, options, top)).toBe(9_999);
  });

  it('draws uniformly from zero up to the ceiling', () => {
    expect(backoffDelay(3, options, () => 0)).toBe(0);
    expect(backoffDelay(3, options, () => 0.5)).toBe(500);
    for (let i = 0; i < 200; i += 1) {
      const delay = backoffDelay(4, options);
      expect(delay).toBeGreaterThanOrEqual(0);
      expect(delay).toBeLessThan(2000);
    }
  });
});
