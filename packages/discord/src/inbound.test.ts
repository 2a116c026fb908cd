import { describe, expect, it } from 'vitest';
import { buttonPressToInbound, mediaRefOf, parseMediaRef, type ButtonOrigin, type ButtonPress } from './inbound.js';

const press: ButtonPress = {
  interactionId: '1200000000000000001',
  customId: 'n0nce:0:plan-prem',
  label: 'Choose',
  payload: 'plan-prem',
  customer: { id: 'discord:dm:42424242424242424', nickname: 'Alice' },
  time: new Date('2024-05-01T10:00:00Z'),
};

describe('buttonPressToInbound', () => {
  it('answers the Genesys message the button came from, with its full payload', () => {
    const origin: ButtonOrigin = {
      genesysMessageId: 'genesys-1',
      type: 'Button',
      buttons: { 'n0nce:0:plan-prem': { text: 'Choose it', payload: 'plan-premium-with-a-long-payload' } },
    };
    expect(buttonPressToInbound(press, origin)).toMatchObject({
      kind: 'button-response',
      platformMessageId: press.interactionId,
      originatingMessageId: 'genesys-1',
      type: 'Button',
      text: 'Choose it',
      payload: 'plan-premium-with-a-long-payload',
    });
  });

  it('sends the label as text when the origin is unknown', () => {
    expect(buttonPressToInbound(press, undefined)).toMatchObject({
      kind: 'message',
      platformMessageId: `interaction:${press.interactionId}`,
      text: 'Choose',
    });
  });
});

describe('media', () => {
  it('references a file by channel, message and attachment, and reads the reference back', () => {
    const ref = mediaRefOf('100000000000000001', '100000000000000002', '100000000000000003');
    expect(parseMediaRef(ref)).toEqual({ channelId: '100000000000000001', messageId: '100000000000000002', attachmentId: '100000000000000003' });
    expect(parseMediaRef('../etc/passwd')).toBeUndefined();
  });
});
