import { describe, expect, it } from 'vitest';
import {
  addressOf,
  blockActionToInbound,
  bridgeReason,
  buttonBlockId,
  buttonOriginOf,
  conversationOf,
  customerIdOf,
  filesToAttachments,
  isCustomerWriting,
  isOwnMessageEvent,
  orderKeyOf,
  toCustomer,
  toInboundMessage,
} from './inbound.js';
import type { BlockActionsPayload } from './protocol.js';

const policy = { directMessages: 'dm', channels: 'thread' } as const;
const rules = { directMessages: true, mentions: true, channels: ['C0LISTED'] };
const media = { url: (ref: string) => `https://parley.example/media/${encodeURIComponent(ref)}` };

describe('customer ids', () => {
  it('round-trips slack:<team>:<channel>[:<thread_ts>] and refuses foreign ids', () => {
    const ids = [
      { team: 'T1', channel: 'D1' },
      { team: 'T1', channel: 'C1', threadTs: '1700000000.000100' },
    ];
    for (const address of ids) expect(addressOf(customerIdOf(address))).toEqual(address);
    expect(customerIdOf(ids[1]!)).toBe('slack:T1:C1:1700000000.000100');
    for (const foreign of ['tg:1', 'slack:T1', 'slack:T1:C1:notats', 'slack:t1:c1']) expect(addressOf(foreign)).toBeUndefined();
  });

  it('groups by DM, by thread or by channel as the policy says', () => {
    const message = { team: 'T1', ts: '2.0', threadTs: '1.0' };
    expect(conversationOf({ ...message, channel: 'D1', direct: true }, policy)).toEqual({ team: 'T1', channel: 'D1' });
    expect(conversationOf({ ...message, channel: 'D1', direct: true }, { ...policy, directMessages: 'thread' })).toEqual({ team: 'T1', channel: 'D1', threadTs: '1.0' });
    expect(conversationOf({ team: 'T1', ts: '2.0', channel: 'C1', direct: false }, policy)).toEqual({ team: 'T1', channel: 'C1', threadTs: '2.0' });
    expect(conversationOf({ ...message, channel: 'C1', direct: false }, { ...policy, channels: 'channel' })).toEqual({ team: 'T1', channel: 'C1' });
  });
});

describe('what is bridged', () => {
  const context = { botUserId: 'UBOT', inActiveThread: false };
  it('takes DMs, mentions, listed channels and replies in active threads, nothing else', () => {
    expect(bridgeReason({ channel: 'D1', direct: true, isMentionEvent: false }, rules, context)).toBe('direct-message');
    expect(bridgeReason({ channel: 'D1', direct: true, isMentionEvent: false }, { ...rules, directMessages: false }, context)).toBeUndefined();
    expect(bridgeReason({ channel: 'C1', direct: false, isMentionEvent: true }, rules, context)).toBe('mention');
    expect(bridgeReason({ channel: 'C1', direct: false, text: 'hey <@UBOT>', isMentionEvent: false }, rules, context)).toBe('mention');
    expect(bridgeReason({ channel: 'C1', direct: false, text: 'hey <@UBOT>', isMentionEvent: false }, { ...rules, mentions: false }, context)).toBeUndefined();
    expect(bridgeReason({ channel: 'C0LISTED', direct: false, text: 'hi', isMentionEvent: false }, rules, context)).toBe('listed-channel');
    expect(bridgeReason({ channel: 'C1', direct: false, text: 'hi', threadTs: '1.0', isMentionEvent: false }, rules, { ...context, inActiveThread: true })).toBe('thread-reply');
    expect(bridgeReason({ channel: 'C1', direct: false, text: 'hi', threadTs: '1.0', isMentionEvent: false }, rules, context)).toBeUndefined();
  });

  it('never takes bots, the app itself or system notices', () => {
    const person = { type: 'message', user: 'U1', ts: '1.0', text: 'hi' } as const;
    expect(isCustomerWriting(person, 'UBOT')).toBe(true);
    expect(isCustomerWriting({ ...person, subtype: 'file_share' }, 'UBOT')).toBe(true);
    expect(isCustomerWriting({ ...person, user: 'UBOT' }, 'UBOT')).toBe(false);
    expect(isCustomerWriting({ ...person, bot_id: 'B2' }, 'UBOT')).toBe(false);
    expect(isCustomerWriting({ ...person, subtype: 'bot_message' }, 'UBOT')).toBe(false);
    expect(isCustomerWriting({ ...person, subtype: 'channel_join' }, 'UBOT')).toBe(false);
    expect(isCustomerWriting({ ...person, subtype: 'message_deleted' }, 'UBOT')).toBe(false);
  });
});

describe('the order of events', () => {
  it('keys messages, edits and button presses by their conversation under the policy', () => {
    const envelope = (event: object) => ({ type: 'event_callback', event });
    const reply = { type: 'message', channel: 'C1', ts: '2.0', thread_ts: '1.0' };
    expect(orderKeyOf(envelope(reply), policy)).toBe('C1:1.0');
    expect(orderKeyOf(envelope({ type: 'app_mention', channel: 'C1', ts: '1.0' }), policy)).toBe('C1:1.0');
    expect(orderKeyOf(envelope(reply), { ...policy, channels: 'channel' })).toBe('C1');
    expect(orderKeyOf(envelope({ type: 'message', channel: 'D1', channel_type: 'im', ts: '2.0', thread_ts: '1.0' }), policy)).toBe('D1');
    // An edit belongs where the edited message is, not at the edit event's own ts.
    const edit = { type: 'message', subtype: 'message_changed', channel: 'C1', channel_type: 'channel', ts: '3.0', message: reply };
    expect(orderKeyOf(envelope(edit), policy)).toBe('C1:1.0');
    const press = { type: 'block_actions', channel: { id: 'C1' }, message: { type: 'message', ts: '4.0', thread_ts: '1.0' } };
    expect(orderKeyOf(press, policy)).toBe('C1:1.0');
    expect(orderKeyOf({ type: 'block_actions', container: { type: 'message', channel_id: 'D1', message_ts: '4.0' } }, policy)).toBe('D1');
    // Nothing to order: no message in the body.
    expect(orderKeyOf(envelope({ type: 'team_join', user: { id: 'U1' } }), policy)).toBeUndefined();
    expect(orderKeyOf({ type: 'view_submission' }, policy)).toBeUndefined();
  });
});

describe("the app's own messages", () => {
  it('recognises the events Slack sends about what the app posted, and nothing else', () => {
    const app = { userId: 'UBOT', botId: 'BBOT' };
    const envelope = (event: object) => ({ type: 'event_callback', event });
    expect(isOwnMessageEvent(envelope({ type: 'message', user: 'UBOT', bot_id: 'BBOT', text: 'hi' }), app)).toBe(true);
    expect(isOwnMessageEvent(envelope({ type: 'message', subtype: 'bot_message', bot_id: 'BBOT' }), app)).toBe(true);
    expect(isOwnMessageEvent(envelope({ type: 'message', user: 'U1', text: 'hi' }), app)).toBe(false);
    expect(isOwnMessageEvent(envelope({ type: 'message', bot_id: 'BOTHER' }), app)).toBe(false);
    // An edit event carries no user of its own; it goes through the listeners.
    expect(isOwnMessageEvent(envelope({ type: 'message', subtype: 'message_changed', message: { user: 'UBOT' } }), app)).toBe(false);
    expect(isOwnMessageEvent({ type: 'block_actions', user: { id: 'UBOT' } }, app)).toBe(false);
  });
});

describe('messages', () => {
  it('takes the profile names, falling back from display name to real name to the id', () => {
    expect(toCustomer('slack:T:D', 'U1', { id: 'U1', real_name: 'Ada King Lovelace', profile: { display_name: 'ada', email: 'a@x.example' } })).toEqual({
      id: 'slack:T:D',
      nickname: 'ada',
      firstName: 'Ada',
      lastName: 'King Lovelace',
      email: 'a@x.example',
    });
    expect(toCustomer('slack:T:D', 'U1', undefined)).toEqual({ id: 'slack:T:D', nickname: 'U1' });
  });

  it('publishes files through media URLs and notes the ones it cannot forward', () => {
    const { attachments, notes } = filesToAttachments(
      [
        { id: 'F1', name: 'a.png', mimetype: 'image/png', size: 10, url_private_download: 'https://files.slack.com/a.png' },
        { id: 'F2', name: 'big.mov', mimetype: 'video/quicktime', size: 5_000_000, url_private_download: 'https://files.slack.com/b' },
        { id: 'F3', name: 'gone.txt', mode: 'tombstone' },
        { id: 'F4', file_access: 'check_file_info' },
      ],
      media,
      1_000_000,
    );
    expect(attachments).toEqual([
      { mediaType: 'Image', url: 'https://parley.example/media/https%3A%2F%2Ffiles.slack.com%2Fa.png', mime: 'image/png', filename: 'a.png', sizeBytes: 10 },
    ]);
    expect(notes).toEqual([
      '[The customer shared a file too large to forward (5 MB): big.mov]',
      '[The customer shared a file that cannot be forwarded: gone.txt]',
      '[The customer shared a file that cannot be forwarded: F4]',
    ]);
  });

  it('marks edits, keeps the Slack time and drops empty messages', () => {
    const base = { platformMessageId: 'D1:1.5', customer: { id: 'c' }, attachments: [], notes: [], customAttributes: {}, ts: '1700000000.500000' };
    expect(toInboundMessage({ ...base, text: 'fixed', edited: true })).toMatchObject({ text: '(edited) fixed', time: new Date(1_700_000_000_500) });
    expect(toInboundMessage({ ...base, text: '' })).toBeUndefined();
    const file = { mediaType: 'Image' as const, url: 'https://parley.example/media/f', mime: 'image/png', filename: 'a.png' };
    expect(toInboundMessage({ ...base, text: '', attachments: [file], edited: true })).toMatchObject({ text: '(edited)', attachments: [file] });
  });
});

describe('button presses', () => {
  const press = (blockId: string, action: Partial<BlockActionsPayload['actions'][0]> = {}): BlockActionsPayload => ({
    type: 'block_actions',
    team: { id: 'T1' },
    user: { id: 'U1' },
    channel: { id: 'D1' },
    actions: [{ type: 'button', action_id: 'parley-0', block_id: blockId, text: { type: 'plain_text', text: 'Yes' }, value: 'yes', action_ts: '1700000001.000200', ...action }],
  });

  it('carries the Genesys origin in the block id and maps a press to a structured response', () => {
    const blockId = buttonBlockId({ genesysMessageId: 'abc123', type: 'QuickReply' }, 0);
    expect(buttonOriginOf(blockId)).toEqual({ genesysMessageId: 'abc123', type: 'QuickReply' });
    expect(blockActionToInbound(press(blockId), { id: 'slack:T1:D1' }, {})).toMatchObject({
      kind: 'button-response',
      platformMessageId: 'action:D1:1700000001.000200',
      originatingMessageId: 'abc123',
      type: 'QuickReply',
      text: 'Yes',
      payload: 'yes',
    });
  });

  it('ignores link buttons and buttons Parley did not send', () => {
    const blockId = buttonBlockId({ genesysMessageId: 'abc', type: 'Button' }, 1);
    const { value: _value, ...linkAction } = press(blockId).actions[0]!;
    expect(blockActionToInbound({ ...press(blockId), actions: [{ ...linkAction, url: 'https://x.example' }] }, { id: 'c' }, {})).toBeUndefined();
    expect(blockActionToInbound(press('someone-else|block'), { id: 'c' }, {})).toBeUndefined();
  });
});
