import { PermanentError, RetryableError, type InboundEvent } from '@parley/core';
import { describe, expect, it } from 'vitest';
import { createTestContext } from './test-context.js';

const message = (platformMessageId: string, text = platformMessageId): InboundEvent => ({
  kind: 'message',
  platformMessageId,
  customer: { id: 'customer-1' },
  text,
});

describe('createTestContext', () => {
  it('records each event once per platformMessageId, and typing every time', async () => {
    const { context, received, receiveCalls } = createTestContext();
    expect(await context.receive(message('m1'))).toEqual({ duplicate: false });
    expect(await context.receive(message('m1', 'again'))).toEqual({ duplicate: true });
    await context.receive({ kind: 'typing', customer: { id: 'customer-1' } });
    await context.receive({ kind: 'typing', customer: { id: 'customer-1' } });
    expect(received.map((event) => (event.kind === 'message' ? event.text : event.kind))).toEqual(['m1', 'typing', 'typing']);
    expect(receiveCalls()).toBe(4);
  });

  it('throws the queued failures one call each, in order, then records again', async () => {
    const { context, received, failNextReceive, receiveCalls } = createTestContext();
    failNextReceive(new RetryableError('STORE', 'busy'), new PermanentError('PAYLOAD_INVALID', 'no'));
    await expect(context.receive(message('m1'))).rejects.toBeInstanceOf(RetryableError);
    await expect(context.receive(message('m1'))).rejects.toBeInstanceOf(PermanentError);
    expect(await context.receive(message('m1'))).toEqual({ duplicate: false });
    expect(received).toHaveLength(1);
    expect(receiveCalls()).toBe(3);
  });

  it('holds receive() while beforeReceive is pending', async () => {
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    const { context, received } = createTestContext({ beforeReceive: () => held });
    const receiving = context.receive(message('m1'));
    await new Promise((resolve) => setTimeout(resolve, 10));
    expect(received).toHaveLength(0);
    release();
    await receiving;
    expect(received).toHaveLength(1);
  });

  it('keeps what the connector stores, logs and counts, and serves the agent files it has', async () => {
    const test = createTestContext({ id: 'support' });
    const { context } = test;
    expect(context.webhookUrl).toBe('http://127.0.0.1/connectors/support/webhook');
    await context.store.set('offset', '42');
    expect(await context.store.get('offset')).toBe('42');
    expect(test.values.get('offset')).toBe('42');
    await context.store.delete('offset');
    expect(await context.store.get('offset')).toBeUndefined();

    context.logger.trace({ chat: 7 }, 'polled');
    expect(JSON.parse(test.logLines[0]!)).toMatchObject({ level: 10, chat: 7, msg: 'polled' });
    context.metrics.counter('parley_lost_total', 'Lost', ['kind']).inc({ kind: 'edit' });
    context.metrics.counter('parley_polls_total', 'Polls').inc();
    expect(test.counted).toEqual(['parley_lost_total {"kind":"edit"}', 'parley_polls_total {}']);
    expect(context.media.url('file/1')).toBe('http://parley.test/media/file%2F1');

    const file = { data: Buffer.from('png'), mime: 'image/png', filename: 'a.png' };
    test.agentFiles.set('https://genesys.test/a.png', file);
    expect(await context.downloadAttachment({ url: 'https://genesys.test/a.png', mediaType: 'Image' })).toBe(file);
    await expect(context.downloadAttachment({ url: 'https://genesys.test/b.png', mediaType: 'Image' })).rejects.toBeInstanceOf(RetryableError);
  });

  it('uses the store it is given', async () => {
    const entries = new Map<string, string>([['cursor', 'c1']]);
    const { context, values } = createTestContext({
      store: { get: async (key) => entries.get(key), set: async (key, value) => void entries.set(key, value), delete: async (key) => void entries.delete(key) },
    });
    expect(await context.store.get('cursor')).toBe('c1');
    expect(values.size).toBe(0);
  });
});
