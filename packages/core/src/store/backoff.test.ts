import { describe, expect, it } from 'vitest';
import { backoffDelay } from './backoff.js';

describe('backoffDelay', () => {
  const base = 500;
  const max = 300_000;

  it('starts at the base when the jitter draws zero', () => {
    for (const attempt of [1, 2, 5, 40]) expect(backoffDelay(attempt, base, max, () => 0)).toBe(base);
  });

  it('doubles its ceiling with each attempt', () => {
    const top = () => 0.999_999;
    expect(backoffDelay(1, base, max, top)).toBe(999);
    expect(backoffDelay(2, base, max, top)).toBe(1_999);
    expect(backoffDelay(3, base, max, top)).toBe(3_999);
  });

  it('never exceeds the maximum, even for huge attempt numbers', () => {
    expect(backoffDelay(20, base, max, () => 0.999_999)).toBe(299_999);
    expect(backoffDelay(5_000, base, max, () => 0.999_999)).toBe(299_999);
  });

  it('stays within [base, min(max, base * 2^attempt)] for random draws', () => {
    for (let attempt = 0; attempt < 30; attempt += 1) {
      const ceiling = Math.min(max, base * 2 ** attempt);
      for (let draw = 0; draw < 200; draw += 1) {
        const delay = backoffDelay(attempt, base, max);
        expect(delay).toBeGreaterThanOrEqual(base);
        expect(delay).toBeLessThanOrEqual(ceiling);
        expect(Number.isInteger(delay)).toBe(true);
      }
    }
  });

  it('spreads retries of jobs that failed together', () => {
    const delays = new Set(Array.from({ length: 50 }, () => backoffDelay(6, base, max)));
    expect(delays.size).toBeGreaterThan(10);
  });

  it('honours a maximum below the base', () => {
    expect(backoffDelay(3, 1_000, 200, () => 0.5)).toBe(200);
  });
});
