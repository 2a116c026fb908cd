import { describe, expect, it } from 'vitest';
import type { ConnectorCapabilities } from '../connector.js';
import type { OutboundMessage } from '../messages.js';
import { adaptToCapabilities } from './render.js';

const none: ConnectorCapabilities = {
  inbound: ['webhook'],
  attachments: { inbound: false, outbound: false },
  typing: { inbound: false, outbound: false },
  quickReplies: false,
  cards: false,
  edits: false,
  readReceipts: false,
};
const all: ConnectorCapabilities = { ...none, attachments: { inbound: true, outbound: true }, quickReplies: true, cards: true };

const message: OutboundMessage = {
  id: 'm1',
  to: 'tg:1',
  text: 'Do you want to proceed?',
  attachments: [{ mediaType: 'Image', url: 'https://dl.example.com/a.jpg', filename: 'a.jpg' }],
  quickReplies: [
    { text: 'Yes', payload: 'yes' },
    { text: 'No', payload: 'no' },
  ],
  cards: [
    {
      title: 'Plan A',
      description: 'The cheap one',
      actions: [
        { type: 'link', text: 'Details', url: 'https://example.com/a' },
        { type: 'postback', text: 'Choose A', payload: 'A' },
      ],
    },
  ],
};

describe('adaptToCapabilities', () => {
  it('leaves a message untouched for a connector that shows everything natively', () => {
    expect(adaptToCapabilities(message, all)).toBe(message);
  });

  it('renders cards, quick replies and files as numbered text where the platform has no controls', () => {
    const adapted = adaptToCapabilities(message, none);
    expect(adapted.quickReplies).toEqual([]);
    expect(adapted.cards).toEqual([]);
    expect(adapted.attachments).toEqual([]);
    expect(adapted.text).toBe(
      [
        'Do you want to proceed?',
        'Plan A\nThe cheap one\nDetails: https://example.com/a\n2. Choose A',
        '1. Yes\n2. No',
        'a.jpg: https://dl.example.com/a.jpg',
      ].join('\n\n'),
    );
  });
});
