import { describe, expect, it } from 'vitest';
import { HOST_HEAP_GROWING_PERCENT, tuneHeapGrowth } from '../src/heap-growth.js';

describe('tuneHeapGrowth', () => {
  it('applies the host default when the operator chose nothing', () => {
    expect(tuneHeapGrowth(['--enable-source-maps'])).toBe(HOST_HEAP_GROWING_PERCENT);
  });

  it.each([['--heap-growing-percent=50'], ['--heap_growing_percent=50'], ['--heap-growing-percent']])(
    'leaves the operator’s %s alone',
    (flag) => {
      expect(tuneHeapGrowth(['--enable-source-maps', flag])).toBeUndefined();
    },
  );
});
