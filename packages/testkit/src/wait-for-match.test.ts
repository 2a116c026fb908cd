import { EventEmitter } from 'node:events';
import { describe, expect, it } from 'vitest';
import { waitForMatch } from './wait-for-match.js';

function source() {
  const items: number[] = [];
  const events = new EventEmitter();
  return {
    add(item: number) {
      items.push(item);
      events.emit('item');
    },
    wait(predicate: (item: number) => boolean, timeoutMs = 200) {
      return waitForMatch({
        find: () => items.find(predicate),
        subscribe: (wake) => {
          events.on('item', wake);
          return () => events.off('item', wake);
        },
        timeoutMs,
        what: 'number',
      });
    },
    listeners: () => events.listenerCount('item'),
  };
}

describe('waitForMatch', () => {
  it('finds an item that is already there, or the first that arrives later, and unsubscribes', async () => {
    const numbers = source();
    numbers.add(1);
    expect(await numbers.wait((n) => n === 1)).toBe(1);
    const later = numbers.wait((n) => n > 10);
    numbers.add(5);
    numbers.add(12);
    numbers.add(13);
    expect(await later).toBe(12);
    expect(numbers.listeners()).toBe(0);
  });

  it('gives up after the timeout, naming what it waited for', async () => {
    const numbers = source();
    await expect(numbers.wait((n) => n === 7, 20)).rejects.toThrow('No matching number within 20 ms');
    expect(numbers.listeners()).toBe(0);
  });
});
