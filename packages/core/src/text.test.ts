import { describe, expect, it } from 'vitest';
import { splitText } from './text.js';

describe('splitText', () => {
  it('keeps text within the limit as one part, and drops nothing but the separators at cuts', () => {
    expect(splitText('x'.repeat(10), 10)).toEqual(['x'.repeat(10)]);
    expect(splitText(`${'a'.repeat(6)} ${'b'.repeat(6)}\n${'c'.repeat(3)}`, 8)).toEqual(['aaaaaa', 'bbbbbb', 'ccc']);
    const words = Array.from({ length: 300 }, (_, index) => `word${index}`).join(' ');
    const parts = splitText(words, 100);
    expect(parts.every((part) => part.length <= 100)).toBe(true);
    expect(parts.join(' ')).toBe(words);
  });

  it('prefers a line break, then a space, in the second half of a part; else cuts at the limit', () => {
    expect(splitText(`${'a'.repeat(30)}\n${'b'.repeat(20)}`, 40)).toEqual(['a'.repeat(30), 'b'.repeat(20)]);
    // A space in the first half would make a short part: cut at the limit instead.
    expect(splitText(`aa ${'b'.repeat(50)}`, 40)).toEqual([`aa ${'b'.repeat(37)}`, 'b'.repeat(13)]);
  });

  it('never cuts an emoji in two', () => {
    const emojis = '😀'.repeat(25); // 50 UTF-16 units, no spaces
    const parts = splitText(emojis, 7);
    expect(parts.join('')).toBe(emojis);
    expect(parts.every((part) => part.length <= 7 && !/[\uD800-\uDBFF]$/.test(part) && !/^[\uDC00-\uDFFF]/.test(part))).toBe(true);
  });

  it('sends no whitespace-only part', () => {
    expect(splitText('   ', 10)).toEqual([]);
    expect(splitText(`${'a'.repeat(8)} \n `, 8)).toEqual(['a'.repeat(8)]);
    expect(splitText('', 10)).toEqual([]);
  });
});
