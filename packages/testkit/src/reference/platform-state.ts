/**
 * The in-memory world of the reference platform: chats and their customers, the bot's messages,
 * stored files, button callbacks and typing indicators. The HTTP layer (`platform.ts`) and the
 * test-facing API both act on it.
 */
import { randomBytes } from 'node:crypto';
import type {
  BotMessage,
  ButtonPressUpdate,
  MessageUpdate,
  PlatformButton,
  PlatformFile,
  PlatformUser,
  TypingUpdate,
} from './protocol.js';
import { UpdateQueue } from './platform-updates.js';

/** How a customer appears on the platform; every field has a default derived from the chat id. */
export interface CustomerProfile {
  userId?: string;
  name?: string;
  firstName?: string;
  lastName?: string;
  language?: string;
}

/** A bot message as the platform received it, with the attachment's bytes decoded. */
export interface SentMessage {
  id: number;
  chatId: string;
  text?: string;
  buttons: PlatformButton[];
  attachment?: { fileId: string; filename: string; mime: string; data: Buffer };
  /** Unix seconds. */
  date: number;
}

/** A file the customer sends. */
export interface CustomerFile {
  data: Buffer;
  mime: string;
  filename: string;
  caption?: string;
}

/** The customer side of one chat, driven from code. Each action queues an update and returns it. */
export interface CustomerHandle {
  readonly chatId: string;
  readonly user: PlatformUser;
  sendText(text: string): MessageUpdate;
  sendFile(file: CustomerFile): MessageUpdate;
  /** Presses the button with `payload` on the bot message `botMessageId`. */
  pressButton(botMessageId: number, payload: string): ButtonPressUpdate;
  typing(): TypingUpdate;
}

interface Chat {
  id: string;
  user: PlatformUser;
  /** Message ids count per chat, shared by the customer's and the bot's messages (as on Telegram). */
  lastMessageId: number;
  typingShown: number;
}

interface StoredFile {
  meta: PlatformFile;
  data: Buffer;
}

/** Everything the reference platform knows; no I/O, so both the HTTP routes and tests act on it directly. */
export class PlatformState {
  readonly updates = new UpdateQueue();
  readonly #chats = new Map<string, Chat>();
  readonly #sent: SentMessage[] = [];
  readonly #files = new Map<string, StoredFile>();
  readonly #callbacks = new Map<string, { chatId: string; answered: boolean }>();
  readonly #answered: string[] = [];
  readonly #sentListeners = new Set<(message: SentMessage) => void>();

  /** The customer of `chatId`; the chat is created on first use. A profile given later updates it. */
  customer(chatId: string, profile: CustomerProfile = {}): CustomerHandle {
    const chat = this.#chat(chatId, profile);
    const from = () => ({ ...chat.user });
    const now = () => Math.floor(Date.now() / 1000);
    return {
      chatId: chat.id,
      user: from(),
      sendText: (text) =>
        this.updates.push((update_id) => ({
          update_id,
          message: { id: ++chat.lastMessageId, chat: { id: chat.id }, from: from(), text, date: now() },
        })),
      sendFile: (file) => {
        const meta = this.storeFile(file.data, file.mime, file.filename);
        return this.updates.push((update_id) => ({
          update_id,
          message: {
            id: ++chat.lastMessageId,
            chat: { id: chat.id },
            from: from(),
            ...(file.caption ? { text: file.caption } : {}),
            file: meta,
            date: now(),
          },
        }));
      },
      pressButton: (botMessageId, payload) => {
        const message = this.#sent.find((sent) => sent.chatId === chat.id && sent.id === botMessageId);
        if (!message) throw new Error(`Chat ${chat.id} has no bot message ${botMessageId}`);
        const button = message.buttons.find((candidate) => candidate.payload === payload);
        if (!button) throw new Error(`Bot message ${botMessageId} has no button with payload "${payload}"`);
        const callbackId = `cb_${randomBytes(8).toString('hex')}`;
        this.#callbacks.set(callbackId, { chatId: chat.id, answered: false });
        return this.updates.push((update_id) => ({
          update_id,
          button_press: { callbackId, chat: { id: chat.id }, from: from(), messageId: botMessageId, payload, text: button.text },
        }));
      },
      typing: () => this.updates.push((update_id) => ({ update_id, typing: { chat: { id: chat.id }, from: from() } })),
    };
  }

  hasChat(chatId: string): boolean {
    return this.#chats.has(chatId);
  }

  /** Records a bot message to an existing chat. */
  addBotMessage(input: {
    chatId: string;
    text?: string;
    buttons: PlatformButton[];
    attachment?: { filename: string; mime: string; data: Buffer };
  }): BotMessage {
    const chat = this.#chats.get(input.chatId);
    if (!chat) throw new Error(`No chat ${input.chatId}`);
    const { attachment } = input;
    const file = attachment ? this.storeFile(attachment.data, attachment.mime, attachment.filename) : undefined;
    const sent: SentMessage = {
      id: ++chat.lastMessageId,
      chatId: chat.id,
      ...(input.text !== undefined ? { text: input.text } : {}),
      buttons: input.buttons,
      ...(file && attachment ? { attachment: { ...attachment, fileId: file.fileId } } : {}),
      date: Math.floor(Date.now() / 1000),
    };
    this.#sent.push(sent);
    for (const listener of [...this.#sentListeners]) listener(sent);
    return toBotMessage(sent, file);
  }

  /** Bot messages, in the order the platform accepted them (all chats, or one). */
  sent(chatId?: string): SentMessage[] {
    return chatId === undefined ? [...this.#sent] : this.#sent.filter((message) => message.chatId === chatId);
  }

  /** Bot messages of one chat in the Bot API's own shape (for the customer HTTP API). */
  botMessages(chatId: string): BotMessage[] {
    return this.sent(chatId).map((message) =>
      toBotMessage(message, message.attachment ? this.#files.get(message.attachment.fileId)?.meta : undefined),
    );
  }

  /** Calls `listener` for every bot message from now on; returns the unsubscribe function. */
  onSent(listener: (message: SentMessage) => void): () => void {
    this.#sentListeners.add(listener);
    return () => this.#sentListeners.delete(listener);
  }

  showTyping(chatId: string): void {
    const chat = this.#chats.get(chatId);
    if (!chat) throw new Error(`No chat ${chatId}`);
    chat.typingShown += 1;
  }

  typingShown(chatId: string): number {
    return this.#chats.get(chatId)?.typingShown ?? 0;
  }

  /** Marks a callback answered; false when the platform never issued it. Answering twice is fine. */
  answerCallback(callbackId: string): boolean {
    const callback = this.#callbacks.get(callbackId);
    if (!callback) return false;
    if (!callback.answered) {
      callback.answered = true;
      this.#answered.push(callbackId);
    }
    return true;
  }

  answeredCallbacks(): string[] {
    return [...this.#answered];
  }

  storeFile(data: Buffer, mime: string, filename: string): PlatformFile {
    const meta: PlatformFile = { fileId: `file_${randomBytes(8).toString('hex')}`, mime, filename, size: data.length };
    this.#files.set(meta.fileId, { meta, data });
    return meta;
  }

  file(fileId: string): StoredFile | undefined {
    return this.#files.get(fileId);
  }

  #chat(chatId: string, profile: CustomerProfile): Chat {
    let chat = this.#chats.get(chatId);
    if (!chat) {
      chat = { id: chatId, user: { id: `u${chatId}`, name: `customer${chatId}` }, lastMessageId: 0, typingShown: 0 };
      this.#chats.set(chatId, chat);
    }
    chat.user = {
      ...chat.user,
      ...(profile.userId ? { id: profile.userId } : {}),
      ...(profile.name ? { name: profile.name } : {}),
      ...(profile.firstName ? { firstName: profile.firstName } : {}),
      ...(profile.lastName ? { lastName: profile.lastName } : {}),
      ...(profile.language ? { language: profile.language } : {}),
    };
    return chat;
  }
}

function toBotMessage(sent: SentMessage, file: PlatformFile | undefined): BotMessage {
  return {
    id: sent.id,
    chatId: sent.chatId,
    ...(sent.text !== undefined ? { text: sent.text } : {}),
    buttons: sent.buttons,
    ...(file ? { attachment: file } : {}),
    date: sent.date,
  };
}
