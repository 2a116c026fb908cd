import type { OutboundMessage } from '@parley/core';
import { describe, expect, it } from 'vitest';
import { planOutbound } from './outbound.js';

const message = (parts: Partial<OutboundMessage>): OutboundMessage => ({ id: 'g1', to: 'slack:T:D', attachments: [], quickReplies: [], cards: [], ...parts });

describe('planOutbound', () => {
  it('sends text, then files (a link as text, a caption as the upload comment)', () => {
    const file = { mediaType: 'Image' as const, url: 'https://dl.example/1', filename: 'a.png', text: 'a & b' };
    expect(planOutbound(message({ text: 'x < y', attachments: [file, { mediaType: 'Link', url: 'https://k.example/?a=1&b=2', text: 'KB' }] }))).toEqual([
      { kind: 'message', text: 'x &lt; y' },
      { kind: 'file', attachment: file, comment: 'a &amp; b' },
      { kind: 'message', text: 'KB\nhttps://k.example/?a=1&amp;b=2' },
    ]);
  });

  it('puts quick replies under the text as buttons whose block id names the Genesys message', () => {
    const [step] = planOutbound(message({ text: 'Proceed?', quickReplies: [{ text: 'Yes', payload: 'y' }, { text: 'No', payload: 'n' }] }));
    expect(step).toEqual({
      kind: 'message',
      text: 'Proceed?',
      blocks: [
        { type: 'section', text: { type: 'mrkdwn', text: 'Proceed?' } },
        {
          type: 'actions',
          block_id: 'parley|qr|g1|0',
          elements: [
            { type: 'button', text: { type: 'plain_text', text: 'Yes', emoji: true }, action_id: 'parley-0', value: 'y' },
            { type: 'button', text: { type: 'plain_text', text: 'No', emoji: true }, action_id: 'parley-1', value: 'n' },
          ],
        },
      ],
    });
  });

  it('gives quick replies a message of their own after a file, and chunks them 25 per block', () => {
    const replies = Array.from({ length: 30 }, (_, index) => ({ text: `Option ${index} ${'x'.repeat(80)}`, payload: `p${index}` }));
    const steps = planOutbound(message({ attachments: [{ mediaType: 'File', url: 'https://dl.example/2' }], quickReplies: replies }));
    expect(steps.map((step) => step.kind)).toEqual(['file', 'message']);
    const blocks = (steps[1] as { blocks: Array<{ type: string; block_id?: string; elements?: Array<{ text: { text: string } }> }> }).blocks;
    expect(blocks.map((block) => [block.type, block.block_id, block.elements?.length])).toEqual([
      ['section', undefined, undefined],
      ['actions', 'parley|qr|g1|0', 25],
      ['actions', 'parley|qr|g1|1', 5],
    ]);
    expect(blocks[1]!.elements![0]!.text.text).toHaveLength(75);
  });

  it('refuses a button payload longer than Slack allows, as a permanent failure', () => {
    expect(() => planOutbound(message({ text: 'q', quickReplies: [{ text: 'A', payload: 'x'.repeat(2001) }] }))).toThrow(
      expect.objectContaining({ reasonCode: 'InvalidMessageStructure' }),
    );
  });

  it('makes a plain message of a card without actions', () => {
    expect(planOutbound(message({ cards: [{ title: 'Hours', description: '9-5', imageUrl: 'https://img.example/h.png', actions: [] }] }))).toEqual([
      { kind: 'message', text: '*Hours*\n9-5\nhttps://img.example/h.png' },
    ]);
  });
});
