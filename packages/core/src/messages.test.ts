import { describe, expect, it } from 'vitest';
import { markEdited, mediaTypeOf } from './messages.js';

describe('mediaTypeOf', () => {
  it('maps MIME families to Open Messaging media types, anything else (or nothing) to File', () => {
    expect(['image/png', 'VIDEO/MP4', 'audio/ogg', 'application/pdf', 'text/plain'].map(mediaTypeOf)).toEqual([
      'Image',
      'Video',
      'Audio',
      'File',
      'File',
    ]);
    expect(mediaTypeOf(undefined)).toBe('File');
    expect(mediaTypeOf('')).toBe('File');
  });
});

describe('markEdited', () => {
  it('marks a customer edit the same way on every channel', () => {
    expect(markEdited('new text')).toBe('(edited) new text');
    expect(markEdited('')).toBe('(edited)');
  });
});
