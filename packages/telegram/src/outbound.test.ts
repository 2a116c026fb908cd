import { describe, expect, it } from 'vitest';
import type { OutboundMessage } from '@parley/core';
import { splitText } from '@parley/core';
import { callbackDataFor, planOutbound, toReplyMarkup, TEXT_LIMIT } from './outbound.js';

const message = (parts: Partial<OutboundMessage>): OutboundMessage => ({
  id: 'g1',
  to: 'tg:1',
  attachments: [],
  quickReplies: [],
  cards: [],
  ...parts,
});

describe('splitText', () => {
  it('keeps text within the limit as one part', () => {
    expect(splitText('x'.repeat(TEXT_LIMIT), TEXT_LIMIT)).toEqual(['x'.repeat(TEXT_LIMIT)]);
  });

  it('cuts at a line break or space in the second half, and never inside an emoji', () => {
    expect(splitText(`${'a'.repeat(3000)}\n${'b'.repeat(2000)}`, TEXT_LIMIT)).toEqual(['a'.repeat(3000), 'b'.repeat(2000)]);
    const emojis = '😀'.repeat(3000); // 6000 UTF-16 units, no spaces
    const parts = splitText(emojis, TEXT_LIMIT);
    expect(parts.join('')).toBe(emojis);
    expect(parts.every((part) => part.length <= TEXT_LIMIT && !/^[\uDC00-\uDFFF]/.test(part))).toBe(true);
  });
});

describe('planOutbound', () => {
  it('puts a short attachment text under the file as its caption, a long one before it', () => {
    const file = { url: 'https://g/x.png', mediaType: 'Image' as const };
    expect(planOutbound(message({ attachments: [{ ...file, text: 'your receipt' }] }))).toEqual([{ attachment: { ...file, text: 'your receipt' }, text: 'your receipt' }]);
    const long = 'y'.repeat(1500);
    expect(planOutbound(message({ attachments: [{ ...file, text: long }] }))).toEqual([{ text: long }, { attachment: { ...file, text: long } }]);
  });

  it('sends link attachments as text', () => {
    expect(planOutbound(message({ attachments: [{ url: 'https://example.com/doc', mediaType: 'Link', text: 'The manual' }] }))).toEqual([
      { text: 'The manual\nhttps://example.com/doc' },
    ]);
  });

  it('hangs quick replies under the last message, short ones side by side', () => {
    const steps = planOutbound(
      message({ text: 'Rate us', quickReplies: ['1', '2', '3', '4'].map((n) => ({ text: `${n}★`, payload: `rate-${n}` })) }),
    );
    expect(steps).toHaveLength(1);
    expect(steps[0]).toMatchObject({ text: 'Rate us', buttonType: 'QuickReply' });
    expect(toReplyMarkup(steps[0]!.markup!)).toEqual({
      inline_keyboard: [
        [
          { text: '1★', callback_data: 'rate-1' },
          { text: '2★', callback_data: 'rate-2' },
          { text: '3★', callback_data: 'rate-3' },
        ],
        [{ text: '4★', callback_data: 'rate-4' }],
      ],
    });
  });

  it('shows quick replies as a one-time reply keyboard when asked to', () => {
    const [step] = planOutbound(message({ quickReplies: [{ text: 'Talk to a human please', payload: 'agent' }] }), 'keyboard');
    expect(step!.text).toBe('Talk to a human please');
    expect(toReplyMarkup(step!.markup!)).toEqual({ keyboard: [[{ text: 'Talk to a human please' }]], one_time_keyboard: true, resize_keyboard: true });
  });

  it('makes one message per card, in carousel order, with link and callback buttons', () => {
    const steps = planOutbound(
      message({
        cards: [
          { title: 'A', actions: [{ type: 'link', text: 'Open', url: 'https://a.example' }] },
          { title: '', actions: [{ type: 'postback', text: 'Pick B', payload: 'b' }] },
          { title: '', actions: [] },
        ],
      }),
    );
    expect(steps).toEqual([
      { text: 'A', markup: { kind: 'inline', rows: [[{ text: 'Open', url: 'https://a.example' }]] } },
      { text: 'Pick B', markup: { kind: 'inline', rows: [[{ text: 'Pick B', data: 'b', payload: 'b' }]] }, buttonType: 'Button' },
    ]);
  });

  it('plans nothing for an empty message', () => {
    expect(planOutbound(message({ text: '   ' }))).toEqual([]);
  });
});

describe('callbackDataFor', () => {
  it('uses the payload when it fits 64 bytes, a stable digest otherwise', () => {
    expect(callbackDataFor('yes')).toBe('yes');
    const long = 'é'.repeat(40); // 80 bytes
    expect(callbackDataFor(long)).toBe(callbackDataFor(long));
    expect(Buffer.byteLength(callbackDataFor(long))).toBeLessThanOrEqual(64);
    expect(callbackDataFor(long)).not.toBe(callbackDataFor(`${long}!`));
  });
});
