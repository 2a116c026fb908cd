import { splitText, type OutboundMessage } from '@parley/core';
import { ButtonStyle, ComponentType } from 'discord.js';
import { describe, expect, it } from 'vitest';
import {
  MAX_CONTENT_LENGTH,
  customIdOf,
  messageBodyOf,
  nonceOf,
  payloadButtonsOf,
  parseCustomId,
  planOutbound,
} from './outbound.js';

const message = (overrides: Partial<OutboundMessage>): OutboundMessage => ({
  id: 'genesys-message-1',
  to: 'discord:dm:444444444444444444',
  attachments: [],
  quickReplies: [],
  cards: [],
  ...overrides,
});

describe('planOutbound', () => {
  it('splits long text into parts of at most 2000 characters, in order, losing nothing', () => {
    const words = Array.from({ length: 900 }, (_, index) => `word${index}`).join(' ');
    const steps = planOutbound(message({ text: words }));
    expect(steps.length).toBeGreaterThan(2);
    for (const step of steps) expect(step.content!.length).toBeLessThanOrEqual(MAX_CONTENT_LENGTH);
    expect(steps.map((step) => step.content).join(' ')).toBe(words);
  });

  it('never cuts an emoji in two', () => {
    const text = '😀'.repeat(1500);
    const parts = splitText(text, MAX_CONTENT_LENGTH);
    expect(parts.join('')).toBe(text);
    for (const part of parts) expect(part).not.toMatch(/[\ud800-\udbff]$/);
  });

  it('sends each file as its own message with its caption, and a link as text', () => {
    const steps = planOutbound(
      message({
        text: 'Here you go',
        attachments: [
          { mediaType: 'Image', url: 'https://files.example/a.png', filename: 'a.png', text: 'the chart' },
          { mediaType: 'Link', url: 'https://example.com/doc', text: 'Docs' },
        ],
      }),
    );
    expect(steps.map((step) => [step.content, step.attachment?.filename])).toEqual([
      ['Here you go', undefined],
      ['the chart', 'a.png'],
      ['Docs\nhttps://example.com/doc', undefined],
    ]);
  });

  it('puts quick replies under the last message, 25 at most per message', () => {
    const replies = Array.from({ length: 30 }, (_, index) => ({ text: `Option ${index}`, payload: `p${index}` }));
    const steps = planOutbound(message({ text: 'Pick one', quickReplies: replies }));
    expect(steps).toHaveLength(2);
    expect(steps[0]).toMatchObject({ content: 'Pick one', buttonType: 'QuickReply' });
    expect(steps[0]!.buttons).toHaveLength(25);
    expect(steps[1]!.buttons.map((button) => button.payload)).toEqual(['p25', 'p26', 'p27', 'p28', 'p29']);
  });

  it('gives quick replies without text a message of their own', () => {
    const [step] = planOutbound(message({ quickReplies: [{ text: 'Yes', payload: 'y' }, { text: 'No', payload: 'n' }] }));
    expect(step).toMatchObject({ content: 'Yes / No', buttonType: 'QuickReply' });
  });

  it('shows a card as an embed with buttons, and a link Discord would refuse as text', () => {
    const [step] = planOutbound(
      message({
        cards: [
          {
            title: 'Premium',
            description: 'Everything',
            imageUrl: 'https://img.example/p.png',
            actions: [
              { type: 'postback', text: 'Choose', payload: 'plan-premium' },
              { type: 'link', text: 'Details', url: 'https://example.com/premium' },
              { type: 'link', text: 'Call us', url: 'tel:+3212345' },
            ],
          },
        ],
      }),
    );
    expect(step!.embed).toEqual({
      title: 'Premium',
      description: 'Everything\nCall us: tel:+3212345',
      image: { url: 'https://img.example/p.png' },
    });
    expect(step!.buttons).toEqual([
      { text: 'Choose', payload: 'plan-premium' },
      { text: 'Details', url: 'https://example.com/premium' },
    ]);
    expect(step!.buttonType).toBe('Button');
  });

  it('shows a carousel as one message per card, in order', () => {
    const steps = planOutbound(
      message({
        text: 'Our plans',
        cards: ['Basic', 'Plus', 'Premium'].map((title) => ({ title, actions: [{ type: 'postback' as const, text: 'Pick', payload: title }] })),
      }),
    );
    expect(steps.map((step) => step.content ?? step.embed?.title)).toEqual(['Our plans', 'Basic', 'Plus', 'Premium']);
    expect(steps.slice(1).every((step) => step.buttonType === 'Button' && step.buttons[0]?.payload === step.embed?.title)).toBe(true);
  });
});

describe('messageBodyOf', () => {
  it('lays buttons out in rows of five, with link buttons and unique custom ids', () => {
    const [step] = planOutbound(
      message({ text: 'Choose', quickReplies: Array.from({ length: 7 }, (_, index) => ({ text: `Q${index}`, payload: 'same' })) }),
    );
    const body = messageBodyOf(step!, 'nonce-1');
    const rows = body.components as Array<{ type: number; components: Array<{ custom_id?: string; style: number }> }>;
    expect(rows.map((row) => row.components.length)).toEqual([5, 2]);
    expect(rows.every((row) => row.type === ComponentType.ActionRow)).toBe(true);
    const ids = rows.flatMap((row) => row.components.map((button) => button.custom_id));
    expect(new Set(ids).size).toBe(7);
    expect(rows[0]!.components[0]!.style).toBe(ButtonStyle.Primary);
    expect(ids.map((id) => parseCustomId(id!))).toEqual(Array.from({ length: 7 }, (_, index) => ({ nonce: 'nonce-1', index, payload: 'same' })));
    expect(payloadButtonsOf(step!, 'nonce-1').map((button) => button.customId)).toEqual(ids);
  });

  it('asks Discord to enforce the nonce and to ping nobody', () => {
    const body = messageBodyOf({ content: 'hi @everyone', buttons: [] }, 'n', 'file.png');
    expect(body).toMatchObject({
      content: 'hi @everyone',
      nonce: 'n',
      enforce_nonce: true,
      allowed_mentions: { parse: [] },
      attachments: [{ id: 0, filename: 'file.png' }],
    });
  });
});

describe('ids', () => {
  it('derives a stable nonce of 25 characters per Genesys message and part', () => {
    expect(nonceOf('abc', 0)).toBe(nonceOf('abc', 0));
    expect(nonceOf('abc', 0)).not.toBe(nonceOf('abc', 1));
    expect(nonceOf('abc', 0)).toHaveLength(25);
  });

  it('keeps custom ids within 100 characters', () => {
    expect(customIdOf(nonceOf('abc', 0), 3, 'x'.repeat(200))).toHaveLength(100);
    expect(parseCustomId(customIdOf('n0nce', 12, 'a:b'))).toEqual({ nonce: 'n0nce', index: 12, payload: 'a:b' });
    expect(parseCustomId('not-ours')).toBeUndefined();
  });
});
