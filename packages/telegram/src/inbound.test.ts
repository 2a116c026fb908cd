import { describe, expect, it } from 'vitest';
import type { CallbackQuery, Chat, Message, User } from 'grammy/types';
import {
  addressOf,
  callbackToInbound,
  customerIdOf,
  flattenEntities,
  keyboardAnswerOf,
  messageToInbound,
  type InboundSettings,
} from './inbound.js';

const ana: User = { id: 11, is_bot: false, first_name: 'Ana', last_name: 'Lima', username: 'ana', language_code: 'pt' };
const privateChat: Chat = { id: 11, type: 'private', first_name: 'Ana' };
const group: Chat = { id: -100777, type: 'supergroup', title: 'Helpdesk' };
const bot = { id: 99, username: 'acme_bot' };

const settings = (overrides: Partial<InboundSettings> = {}): InboundSettings => ({
  chatTypes: ['private', 'group', 'supergroup'],
  groups: { trigger: 'mention', conversation: 'chat' },
  bot,
  media: { url: (ref, meta) => `https://parley.test/media/${ref}|${meta?.mime}|${meta?.filename}` },
  ...overrides,
});

const message = (fields: Partial<Message>): Message =>
  ({ message_id: 5, date: 1_700_000_000, chat: privateChat, from: ana, ...fields }) as Message;

describe('customer ids', () => {
  it('round-trips private chats and per-user group conversations', () => {
    expect(customerIdOf({ chatId: 42 })).toBe('tg:42');
    expect(customerIdOf({ chatId: -1001234567890, userId: 7 })).toBe('tg:-1001234567890:7');
    expect(addressOf('tg:42')).toEqual({ chatId: 42 });
    expect(addressOf('tg:-1001234567890:7')).toEqual({ chatId: -1001234567890, userId: 7 });
  });

  it('refuses ids that are not Telegram addresses', () => {
    for (const id of ['tg:', 'tg:abc', 'ref:42', 'tg:1:2:3', 'tg:99999999999999999999']) expect(addressOf(id)).toBeUndefined();
  });
});

describe('text', () => {
  it('flattens entities: hidden link targets are shown, the rest stays as written', () => {
    const text = 'Read the docs or email me';
    expect(
      flattenEntities(text, [
        { type: 'bold', offset: 0, length: 4 },
        { type: 'text_link', offset: 9, length: 4, url: 'https://docs.example.com' },
        { type: 'italic', offset: 17, length: 5 },
      ]),
    ).toBe('Read the docs (https://docs.example.com) or email me');
  });

  it('counts offsets in UTF-16 units, as Telegram does', () => {
    expect(flattenEntities('🎉 party here', [{ type: 'text_link', offset: 3, length: 5, url: 'https://p.example' }])).toBe(
      '🎉 party (https://p.example) here',
    );
  });

  it('drops the mention of the bot in groups', () => {
    expect(flattenEntities('@acme_bot   where is my order?', [{ type: 'mention', offset: 0, length: 9 }], 'acme_bot')).toBe(
      'where is my order?',
    );
    expect(flattenEntities('ask @someone', [{ type: 'mention', offset: 4, length: 8 }], 'acme_bot')).toBe('ask @someone');
  });

  it('maps captions, replies with the quoted text, locations, venues, contacts, polls and dice', () => {
    const map = (fields: Partial<Message>) => messageToInbound(message(fields), settings())?.text;
    expect(map({ caption: 'see photo', photo: [{ file_id: 'p', file_unique_id: 'u', width: 1, height: 1 }] })).toBe('see photo');
    expect(map({ text: 'yes', reply_to_message: message({ text: 'Do you want the blue one or the red one?' }) as never })).toBe(
      '[reply to "Do you want the blue one or the red one?"]\nyes',
    );
    expect(map({ text: 'this', reply_to_message: message({ text: 'long text' }) as never, quote: { text: 'long', position: 0 } })).toBe(
      '[reply to "long"]\nthis',
    );
    expect(map({ text: 'nice', reply_to_message: message({ photo: [{ file_id: 'p', file_unique_id: 'u', width: 1, height: 1 }] }) as never })).toBe(
      '[reply to "a photo"]\nnice',
    );
    expect(map({ location: { latitude: 48.8584, longitude: 2.2945 } })).toBe(
      '[location] 48.8584, 2.2945 https://maps.google.com/?q=48.8584,2.2945',
    );
    expect(
      map({ venue: { title: 'Tour Eiffel', address: 'Champ de Mars', location: { latitude: 48.8584, longitude: 2.2945 } }, location: { latitude: 48.8584, longitude: 2.2945 } }),
    ).toBe('[venue] Tour Eiffel, Champ de Mars https://maps.google.com/?q=48.8584,2.2945');
    expect(map({ contact: { phone_number: '+33612345678', first_name: 'Jean', last_name: 'Dupont' } })).toBe('[contact] Jean Dupont, +33612345678');
    expect(map({ dice: { emoji: '🎲', value: 4 } })).toBe('[dice] 🎲 4');
    expect(
      map({
        poll: {
          id: '1',
          question: 'Best day?',
          options: [{ text: 'Mon', voter_count: 0 }, { text: 'Fri', voter_count: 0 }],
          total_voter_count: 0,
          is_closed: false,
          is_anonymous: true,
          type: 'regular',
          allows_multiple_answers: false,
        } as never,
      }),
    ).toBe('[poll] Best day? (Mon / Fri)');
  });

  it('ignores forum topic "replies", service messages, bots and live-location edits', () => {
    const topicStart = message({ forum_topic_created: { name: 'Billing', icon_color: 1 } as never });
    expect(messageToInbound(message({ text: 'hi', reply_to_message: topicStart as never }), settings())?.text).toBe('hi');
    expect(messageToInbound(message({ new_chat_members: [ana] }), settings())).toBeUndefined();
    expect(messageToInbound(message({ text: 'beep', from: { id: 5, is_bot: true, first_name: 'Other bot' } }), settings())).toBeUndefined();
    expect(
      messageToInbound(message({ location: { latitude: 1, longitude: 2, live_period: 60 }, edit_date: 1_700_000_100 }), settings(), { edited: true }),
    ).toBeUndefined();
  });

  it('marks an edit that only swapped the file, which has no text', () => {
    const photo = [{ file_id: 'new-photo', file_unique_id: 'u1', width: 800, height: 600 }];
    const edit = messageToInbound(message({ photo, edit_date: 1_700_000_100 }), settings(), { edited: true });
    expect(edit).toMatchObject({ text: '(edited)', attachments: [{ mediaType: 'Image' }] });
  });

  it('marks edits and gives each edit its own id', () => {
    const first = messageToInbound(message({ text: 'v2', edit_date: 1_700_000_100 }), settings(), { edited: true });
    const second = messageToInbound(message({ text: 'v3', edit_date: 1_700_000_100 }), settings(), { edited: true });
    expect(first).toMatchObject({ text: '(edited) v2', time: new Date(1_700_000_100_000) });
    expect(first!.platformMessageId).toMatch(/^11:5:edit:/);
    // Two edits within one second are still two messages; a redelivered edit is the same one.
    expect(second!.platformMessageId).not.toBe(first!.platformMessageId);
    expect(messageToInbound(message({ text: 'v2', edit_date: 1_700_000_100 }), settings(), { edited: true })!.platformMessageId).toBe(
      first!.platformMessageId,
    );
  });
});

describe('files', () => {
  const attachmentOf = (fields: Partial<Message>) => messageToInbound(message(fields), settings())?.attachments?.[0];

  it('publishes the biggest photo size as a JPEG image', () => {
    expect(
      attachmentOf({
        photo: [
          { file_id: 'small', file_unique_id: 's', width: 90, height: 60, file_size: 900 },
          { file_id: 'big', file_unique_id: 'b', width: 1280, height: 853, file_size: 90_000 },
        ],
      }),
    ).toEqual({ mediaType: 'Image', url: 'https://parley.test/media/big|image/jpeg|photo_5.jpg', mime: 'image/jpeg', filename: 'photo_5.jpg', sizeBytes: 90_000 });
  });

  it('types documents, videos, audio, voice, animations, video notes and stickers', () => {
    const ids = { file_id: 'f', file_unique_id: 'u' };
    expect(attachmentOf({ document: { ...ids, file_name: 'scan.png', mime_type: 'image/png' } })).toMatchObject({ mediaType: 'Image', mime: 'image/png', filename: 'scan.png' });
    expect(attachmentOf({ document: { ...ids } })).toMatchObject({ mediaType: 'File', mime: 'application/octet-stream', filename: 'file_5' });
    expect(attachmentOf({ video: { ...ids, width: 1, height: 1, duration: 1 } })).toMatchObject({ mediaType: 'Video', mime: 'video/mp4' });
    expect(attachmentOf({ audio: { ...ids, duration: 1, file_name: 'song.m4a', mime_type: 'audio/mp4' } })).toMatchObject({ mediaType: 'Audio', filename: 'song.m4a' });
    expect(attachmentOf({ voice: { ...ids, duration: 1 } })).toMatchObject({ mediaType: 'Audio', mime: 'audio/ogg' });
    expect(attachmentOf({ animation: { ...ids, width: 1, height: 1, duration: 1 }, document: { ...ids } })).toMatchObject({ mediaType: 'Video', mime: 'video/mp4' });
    expect(attachmentOf({ video_note: { ...ids, length: 1, duration: 1 } })).toMatchObject({ mediaType: 'Video' });
    const sticker = { ...ids, type: 'regular' as const, width: 1, height: 1, is_animated: false, is_video: false, emoji: '👍' };
    expect(messageToInbound(message({ sticker }), settings())).toMatchObject({
      text: '[sticker 👍]',
      attachments: [{ mediaType: 'Image', mime: 'image/webp' }],
    });
    expect(attachmentOf({ sticker: { ...sticker, is_animated: true } })).toMatchObject({ mediaType: 'File', mime: 'application/x-tgsticker' });
  });
});

describe('groups', () => {
  const inGroup = (fields: Partial<Message>) => message({ chat: group, ...fields });

  it('with the mention trigger, takes mentions, replies to the bot and commands to it only', () => {
    const map = (fields: Partial<Message>) => messageToInbound(inGroup(fields), settings());
    expect(map({ text: 'hello all' })).toBeUndefined();
    expect(map({ text: '@acme_bot help', entities: [{ type: 'mention', offset: 0, length: 9 }] })).toMatchObject({ text: 'Ana Lima: help' });
    expect(map({ text: 'ok', reply_to_message: inGroup({ text: 'Your ticket is 12', from: { id: 99, is_bot: true, first_name: 'Acme' } }) as never })).toBeDefined();
    expect(map({ text: '/start@acme_bot', entities: [{ type: 'bot_command', offset: 0, length: 15 }] })).toBeDefined();
    expect(map({ text: '/start@other_bot', entities: [{ type: 'bot_command', offset: 0, length: 16 }] })).toBeUndefined();
  });

  it('puts each member in their own conversation with the per-user policy', () => {
    const inbound = messageToInbound(inGroup({ text: 'hi' }), settings({ groups: { trigger: 'all', conversation: 'user' } }));
    expect(inbound).toMatchObject({
      customer: { id: 'tg:-100777:11', nickname: 'ana', firstName: 'Ana', lastName: 'Lima' },
      text: 'hi',
      customAttributes: { telegramChatType: 'supergroup', telegramChatTitle: 'Helpdesk', telegramLanguageCode: 'pt', telegramUsername: 'ana' },
    });
  });

  it('skips chat types that are not served', () => {
    expect(messageToInbound(inGroup({ text: 'hi' }), settings({ chatTypes: ['private'], groups: { trigger: 'all', conversation: 'chat' } }))).toBeUndefined();
  });
});

describe('button presses', () => {
  const botMessage = message({
    message_id: 40,
    from: { id: 99, is_bot: true, first_name: 'Acme' },
    text: 'Pick one',
    reply_markup: { inline_keyboard: [[{ text: 'Red', callback_data: 'red' }]] },
  });
  const query: CallbackQuery = { id: 'cb-1', from: ana, message: botMessage, chat_instance: 'x', data: 'red' };

  it('with a known origin, becomes a structured response', () => {
    const origin = { genesysMessageId: 'g-1', type: 'QuickReply' as const, buttons: [{ data: 'red', text: 'Red', payload: 'colour-red' }] };
    expect(callbackToInbound(query, origin, settings())).toEqual({
      kind: 'button-response',
      platformMessageId: 'cb-1',
      originatingMessageId: 'g-1',
      type: 'QuickReply',
      text: 'Red',
      payload: 'colour-red',
      customer: { id: 'tg:11', nickname: 'ana', firstName: 'Ana', lastName: 'Lima' },
      customAttributes: { telegramUsername: 'ana', telegramLanguageCode: 'pt' },
    });
  });

  it('without one, sends the label from the message markup as text', () => {
    expect(callbackToInbound(query, undefined, settings())).toMatchObject({ kind: 'message', platformMessageId: 'callback:cb-1', text: 'Red' });
  });

  it('ignores presses with nothing to attach them to', () => {
    const { message: _dropped, ...inline } = query;
    expect(callbackToInbound(inline, undefined, settings())).toBeUndefined();
    expect(callbackToInbound({ ...query, data: undefined, game_short_name: 'g' }, undefined, settings())).toBeUndefined();
  });

  it('reads a reply-keyboard tap as the answer once, and its redelivery the same way', () => {
    const tap = message({ message_id: 9, text: 'Large' });
    const inbound = messageToInbound(tap, settings())!;
    const pending = { genesysMessageId: 'g-kb', buttons: [{ text: 'Small', payload: 'S' }, { text: 'Large', payload: 'L' }] };
    expect(keyboardAnswerOf(tap, inbound, pending)).toMatchObject({ kind: 'button-response', platformMessageId: '11:9', payload: 'L', originatingMessageId: 'g-kb' });
    expect(keyboardAnswerOf(tap, inbound, { ...pending, answeredBy: '11:9' })).toBeDefined();
    expect(keyboardAnswerOf(tap, inbound, { ...pending, answeredBy: '11:8' })).toBeUndefined();
    const typed = message({ message_id: 10, text: 'Medium' });
    expect(keyboardAnswerOf(typed, messageToInbound(typed, settings())!, pending)).toBeUndefined();
  });
});
