/**
 * What the fake Telegram knows: chats and their messages, files, what the bot sent, and the
 * customer side of each chat (a person with a Telegram app, who writes, sends files, edits and
 * presses buttons). Every customer action becomes an update in the bot's queue.
 */
import { randomBytes } from 'node:crypto';
import type { CallbackQuery, Chat, InlineKeyboardButton, Message, MessageEntity, Update, User, UserFromGetMe } from 'grammy/types';
import { UpdateQueue } from './fake-updates.js';

/** A Telegram user as a test describes them; missing fields get defaults. */
export interface FakeUserProfile {
  id?: number;
  firstName?: string;
  lastName?: string;
  username?: string;
  /** IETF language tag, e.g. `en` or `pt-BR`. */
  languageCode?: string;
}

/** How a customer message relates to others. */
export interface MessageOptions {
  /** Replies to this message (id in the same chat). */
  replyTo?: number;
  /** The part of the replied message the customer selected to quote. */
  quote?: string;
  /** Starts the text with `@<bot username>` as a mention entity (how people address a bot in groups). */
  mentionBot?: boolean;
}

/** A file a customer sends. */
export interface FakeFileInput {
  data: Buffer;
  /** Default: by kind (`image/jpeg` for photos…) or from the file name. */
  mime?: string;
  filename?: string;
  caption?: string;
}

/** The kinds of file message a customer can send. */
export type CustomerFileKind = 'photo' | 'document' | 'video' | 'audio' | 'voice' | 'animation' | 'video_note' | 'sticker';

/** A file stored by the fake, downloadable at `/file/bot<token>/<file_path>`. */
export interface FakeFile {
  file_id: string;
  file_unique_id: string;
  file_path: string;
  data: Buffer;
  mime?: string;
  filename?: string;
}

/** A message the bot sent, as the customer sees it. */
export interface SentMessage {
  chatId: number;
  messageId: number;
  /** The Bot API method that sent it, e.g. `sendMessage` or `sendPhoto`. */
  method: string;
  /** The text, or the caption of the file. */
  text?: string;
  file?: { kind: string; data: Buffer; filename?: string; mime?: string; fileId: string };
  /** Inline buttons, row by row flattened. */
  buttons: Array<{ text: string; callbackData?: string; url?: string }>;
  /** A reply keyboard: its button texts, row by row. */
  keyboard?: string[][];
  /** The message it replies to, if any. */
  replyToMessageId?: number;
  /** The Message object the Bot API returned. */
  message: Message;
}

/** The customer side of a chat: every action queues an update for the bot and returns it. */
export interface FakeCustomer {
  readonly user: User;
  readonly chat: Chat;
  sendText(text: string, options?: MessageOptions & { entities?: MessageEntity[] }): Update;
  sendFile(kind: CustomerFileKind, file: FakeFileInput, options?: MessageOptions & { emoji?: string }): Update;
  sendPhoto(data: Buffer, options?: MessageOptions & { caption?: string }): Update;
  sendDocument(file: FakeFileInput, options?: MessageOptions): Update;
  sendLocation(latitude: number, longitude: number): Update;
  sendContact(contact: { phoneNumber: string; firstName: string; lastName?: string }): Update;
  /** Sends a message with any fields (the escape hatch for message kinds without a helper). */
  send(fields: Partial<Message>, options?: MessageOptions): Update;
  /** Edits one of the customer's own messages (an `edited_message` update); the new text brings its own entities. */
  edit(messageId: number, text: string, entities?: MessageEntity[]): Update;
  /** Presses the inline button with `callbackData` under bot message `botMessageId`. */
  pressButton(botMessageId: number, callbackData: string): Update;
  /** The customer blocks the bot: sends to this chat get 403 from then on. */
  blockBot(): void;
  unblockBot(): void;
}

interface ChatRecord {
  chat: Chat;
  nextMessageId: number;
  messages: Map<number, Message>;
  blocked: boolean;
}

const DEFAULT_MIME: Record<CustomerFileKind, string> = {
  photo: 'image/jpeg',
  document: 'application/octet-stream',
  video: 'video/mp4',
  audio: 'audio/mpeg',
  voice: 'audio/ogg',
  animation: 'video/mp4',
  video_note: 'video/mp4',
  sticker: 'image/webp',
};

const FOLDER: Record<string, string> = {
  photo: 'photos',
  document: 'documents',
  video: 'videos',
  audio: 'music',
  voice: 'voice',
  animation: 'animations',
  video_note: 'video_notes',
  sticker: 'stickers',
};

/** Telegram derives a document's type from its name; so does the fake. */
const MIME_BY_EXTENSION: Record<string, string> = {
  jpg: 'image/jpeg',
  jpeg: 'image/jpeg',
  png: 'image/png',
  gif: 'image/gif',
  webp: 'image/webp',
  pdf: 'application/pdf',
  txt: 'text/plain',
  csv: 'text/csv',
  zip: 'application/zip',
  mp4: 'video/mp4',
  webm: 'video/webm',
  mp3: 'audio/mpeg',
  m4a: 'audio/mp4',
  ogg: 'audio/ogg',
  oga: 'audio/ogg',
  tgs: 'application/x-tgsticker',
};

/** The MIME type Telegram would give a file called `filename`. */
export function mimeOfFilename(filename: string | undefined): string | undefined {
  const extension = filename?.split('.').pop()?.toLowerCase();
  return extension ? MIME_BY_EXTENSION[extension] : undefined;
}

const nowSeconds = () => Math.floor(Date.now() / 1000);

/** Everything the fake Telegram holds; the HTTP layer (`fake.ts`) reads and changes it. */
export class FakeState {
  readonly updates = new UpdateQueue();
  readonly bot: UserFromGetMe;
  readonly #chats = new Map<number, ChatRecord>();
  readonly #files = new Map<string, FakeFile>();
  readonly #filesByPath = new Map<string, FakeFile>();
  readonly #sent: SentMessage[] = [];
  readonly #sentListeners = new Set<(message: SentMessage) => void>();
  readonly #actions: Array<{ chatId: number; action: string }> = [];
  readonly #callbacks = new Map<string, { answered: boolean }>();
  #nextUserId = 700_000_001;
  #nextGroupId = 4_000_000_001;
  #nextFile = 1;
  #nextCallback = 1;

  constructor(bot: UserFromGetMe) {
    this.bot = bot;
  }

  // ---- chats ---------------------------------------------------------------------------------

  /** The customer of a private chat with `profile` (created on first use of its id). */
  privateChat(profile: FakeUserProfile = {}): FakeCustomer {
    const user = this.#user(profile);
    const existing = this.#chats.get(user.id);
    const record =
      existing ??
      this.#addChat({
        id: user.id,
        type: 'private',
        first_name: user.first_name,
        ...(user.last_name ? { last_name: user.last_name } : {}),
        ...(user.username ? { username: user.username } : {}),
      });
    return this.#customer(record, user);
  }

  /** A group (default a supergroup) the bot is a member of; `member(profile)` writes in it. */
  group(input: { id?: number; title: string; type?: 'group' | 'supergroup' }): { chat: Chat; member(profile?: FakeUserProfile): FakeCustomer } {
    const type = input.type ?? 'supergroup';
    const id = input.id ?? (type === 'supergroup' ? -(1_000_000_000_000 + this.#nextGroupId++) : -this.#nextGroupId++);
    const record = this.#chats.get(id) ?? this.#addChat({ id, type, title: input.title } as Chat);
    return { chat: record.chat, member: (profile = {}) => this.#customer(record, this.#user(profile)) };
  }

  hasChat(chatId: number): boolean {
    return this.#chats.has(chatId);
  }

  isBlocked(chatId: number): boolean {
    return this.#chats.get(chatId)?.blocked === true;
  }

  message(chatId: number, messageId: number): Message | undefined {
    return this.#chats.get(chatId)?.messages.get(messageId);
  }

  // ---- files ---------------------------------------------------------------------------------

  addFile(kind: string, data: Buffer, meta: { mime?: string; filename?: string } = {}): FakeFile {
    const number = this.#nextFile++;
    const extension = meta.filename?.split('.').pop() ?? extensionOf(meta.mime);
    const file: FakeFile = {
      // Telegram's file ids are long opaque strings; so are these.
      file_id: `AgAC${randomBytes(18).toString('base64url')}`,
      file_unique_id: `AQAD${number}`,
      file_path: `${FOLDER[kind] ?? 'documents'}/file_${number}.${extension}`,
      data,
      ...(meta.mime ? { mime: meta.mime } : {}),
      ...(meta.filename ? { filename: meta.filename } : {}),
    };
    this.#files.set(file.file_id, file);
    this.#filesByPath.set(file.file_path, file);
    return file;
  }

  file(fileId: string): FakeFile | undefined {
    return this.#files.get(fileId);
  }

  fileAt(path: string): FakeFile | undefined {
    return this.#filesByPath.get(path);
  }

  // ---- the bot's side ------------------------------------------------------------------------

  /** Records a message the bot sent to `chatId`; returns the Message the Bot API answers. */
  addBotMessage(chatId: number, method: string, fields: Partial<Message>, file?: SentMessage['file']): SentMessage {
    const record = this.#chats.get(chatId);
    if (!record) throw new Error(`No chat ${chatId}`);
    const message = { message_id: record.nextMessageId++, date: nowSeconds(), chat: record.chat, from: this.bot, ...fields } as Message;
    record.messages.set(message.message_id, message);
    const markup = fields.reply_markup as { inline_keyboard?: InlineKeyboardButton[][] } | undefined;
    const sent: SentMessage = {
      chatId,
      messageId: message.message_id,
      method,
      ...((message.text ?? message.caption) !== undefined ? { text: message.text ?? message.caption } : {}),
      ...(file ? { file } : {}),
      buttons: (markup?.inline_keyboard ?? []).flat().map((button) => ({
        text: button.text,
        ...('callback_data' in button ? { callbackData: button.callback_data } : {}),
        ...('url' in button ? { url: button.url } : {}),
      })),
      ...(message.reply_to_message ? { replyToMessageId: message.reply_to_message.message_id } : {}),
      message,
    };
    this.#sent.push(sent);
    for (const listener of [...this.#sentListeners]) listener(sent);
    return sent;
  }

  /** Adds what the Message object cannot carry (a reply keyboard is not echoed back by Telegram). */
  annotateSent(sent: SentMessage, extra: Pick<SentMessage, 'keyboard'>): void {
    Object.assign(sent, extra);
  }

  sent(chatId?: number): SentMessage[] {
    return chatId === undefined ? [...this.#sent] : this.#sent.filter((message) => message.chatId === chatId);
  }

  onSent(listener: (message: SentMessage) => void): () => void {
    this.#sentListeners.add(listener);
    return () => this.#sentListeners.delete(listener);
  }

  addChatAction(chatId: number, action: string): void {
    this.#actions.push({ chatId, action });
  }

  chatActions(chatId?: number): Array<{ chatId: number; action: string }> {
    return chatId === undefined ? [...this.#actions] : this.#actions.filter((entry) => entry.chatId === chatId);
  }

  /** Marks a button press answered; false when the id is unknown (or too old). */
  answerCallback(callbackQueryId: string): boolean {
    const callback = this.#callbacks.get(callbackQueryId);
    if (!callback) return false;
    callback.answered = true;
    return true;
  }

  answeredCallbacks(): string[] {
    return [...this.#callbacks].filter(([, callback]) => callback.answered).map(([id]) => id);
  }

  // ---- internals -----------------------------------------------------------------------------

  #user(profile: FakeUserProfile): User {
    const id = profile.id ?? this.#nextUserId++;
    return {
      id,
      is_bot: false,
      first_name: profile.firstName ?? `User${id}`,
      ...(profile.lastName ? { last_name: profile.lastName } : {}),
      ...(profile.username ? { username: profile.username } : {}),
      ...(profile.languageCode ? { language_code: profile.languageCode } : {}),
    };
  }

  #addChat(chat: Chat): ChatRecord {
    const record: ChatRecord = { chat, nextMessageId: 1, messages: new Map(), blocked: false };
    this.#chats.set(chat.id, record);
    return record;
  }

  #customer(record: ChatRecord, user: User): FakeCustomer {
    const state = this;
    const post = (fields: Partial<Message>, options: MessageOptions = {}): Update => {
      const message = state.#customerMessage(record, user, fields, options);
      // Customers write in private chats and groups, never channels.
      return state.updates.push((update_id) => ({ update_id, message: message as Update['message'] & Message }));
    };
    const sendFile = (kind: CustomerFileKind, input: FakeFileInput, options: MessageOptions & { emoji?: string } = {}) => {
      const mime = input.mime ?? (kind === 'document' ? mimeOfFilename(input.filename) : undefined) ?? DEFAULT_MIME[kind];
      const file = state.addFile(kind, input.data, { mime, ...(input.filename ? { filename: input.filename } : {}) });
      const ids = { file_id: file.file_id, file_unique_id: file.file_unique_id, file_size: input.data.length };
      const named = input.filename ? { file_name: input.filename } : {};
      const caption = input.caption !== undefined ? { caption: input.caption } : {};
      switch (kind) {
        case 'photo': {
          // Telegram sends every size it made; the bot should take the biggest.
          const thumb = state.addFile('photo', input.data.subarray(0, Math.min(64, input.data.length)), { mime: 'image/jpeg' });
          const sizes = [
            { file_id: thumb.file_id, file_unique_id: thumb.file_unique_id, width: 90, height: 60, file_size: thumb.data.length },
            { ...ids, width: 1280, height: 853 },
          ];
          return post({ photo: sizes, ...caption }, options);
        }
        case 'document':
          return post({ document: { ...ids, ...named, mime_type: mime }, ...caption }, options);
        case 'video':
          return post({ video: { ...ids, ...named, width: 640, height: 360, duration: 3, mime_type: mime }, ...caption }, options);
        case 'animation':
          return post({ animation: { ...ids, ...named, width: 320, height: 240, duration: 2, mime_type: mime }, document: { ...ids, ...named, mime_type: mime }, ...caption }, options);
        case 'audio':
          return post({ audio: { ...ids, ...named, duration: 5, mime_type: mime }, ...caption }, options);
        case 'voice':
          return post({ voice: { ...ids, duration: 4, mime_type: mime }, ...caption }, options);
        case 'video_note':
          return post({ video_note: { ...ids, length: 240, duration: 4 } }, options);
        case 'sticker':
          return post(
            {
              sticker: {
                ...ids,
                type: 'regular',
                width: 512,
                height: 512,
                is_animated: mime === 'application/x-tgsticker',
                is_video: mime === 'video/webm',
                ...(options.emoji ? { emoji: options.emoji } : {}),
              },
            },
            options,
          );
      }
    };

    return {
      user,
      chat: record.chat,
      sendText: (text, options = {}) => post({ text, ...(options.entities ? { entities: options.entities } : {}) }, options),
      sendFile,
      sendPhoto: (data, options = {}) => sendFile('photo', { data, ...(options.caption !== undefined ? { caption: options.caption } : {}) }, options),
      sendDocument: (file, options = {}) => sendFile('document', file, options),
      sendLocation: (latitude, longitude) => post({ location: { latitude, longitude } }),
      sendContact: (contact) =>
        post({
          contact: {
            phone_number: contact.phoneNumber,
            first_name: contact.firstName,
            ...(contact.lastName ? { last_name: contact.lastName } : {}),
          },
        }),
      send: post,
      edit(messageId, text, entities) {
        const original = record.messages.get(messageId);
        if (!original || original.from?.id !== user.id) throw new Error(`Message ${messageId} is not one of ${user.first_name}'s`);
        const { entities: _old, ...rest } = original;
        const edited = { ...rest, text, ...(entities ? { entities } : {}), edit_date: Math.max(nowSeconds(), original.date) };
        record.messages.set(messageId, edited);
        return state.updates.push((update_id) => ({ update_id, edited_message: edited as NonNullable<Update['edited_message']> }));
      },
      pressButton(botMessageId, callbackData) {
        const message = record.messages.get(botMessageId);
        const markup = message?.reply_markup?.inline_keyboard ?? [];
        const exists = markup.flat().some((button) => 'callback_data' in button && button.callback_data === callbackData);
        if (!message || message.from?.id !== state.bot.id || !exists) {
          throw new Error(`Bot message ${botMessageId} in chat ${record.chat.id} has no button with callback_data "${callbackData}"`);
        }
        const id = `${record.chat.id}${String(state.#nextCallback++).padStart(6, '0')}`;
        state.#callbacks.set(id, { answered: false });
        const query: CallbackQuery = { id, from: user, message, chat_instance: String(record.chat.id), data: callbackData };
        return state.updates.push((update_id) => ({ update_id, callback_query: query }));
      },
      blockBot() {
        record.blocked = true;
      },
      unblockBot() {
        record.blocked = false;
      },
    };
  }

  #customerMessage(record: ChatRecord, user: User, fields: Partial<Message>, options: MessageOptions): Message {
    const mention = options.mentionBot ? `@${this.bot.username}` : undefined;
    let text = fields.text;
    let entities = fields.entities;
    if (mention && text !== undefined) {
      text = `${mention} ${text}`;
      entities = [
        { type: 'mention', offset: 0, length: mention.length },
        ...(entities ?? []).map((entity) => ({ ...entity, offset: entity.offset + mention.length + 1 })),
      ];
    }
    const replied = options.replyTo === undefined ? undefined : record.messages.get(options.replyTo);
    if (options.replyTo !== undefined && !replied) throw new Error(`No message ${options.replyTo} in chat ${record.chat.id}`);
    const message = {
      message_id: record.nextMessageId++,
      date: nowSeconds(),
      chat: record.chat,
      from: user,
      ...fields,
      ...(text !== undefined ? { text } : {}),
      ...(entities ? { entities } : {}),
      // Telegram does not nest replies: the replied message comes without its own reply.
      ...(replied ? { reply_to_message: { ...replied, reply_to_message: undefined } } : {}),
      ...(options.quote ? { quote: { text: options.quote, position: 0 } } : {}),
    } as Message;
    record.messages.set(message.message_id, message);
    return message;
  }
}

function extensionOf(mime: string | undefined): string {
  const found = Object.entries(MIME_BY_EXTENSION).find(([, type]) => type === mime);
  return found?.[0] ?? 'dat';
}
