/**
 * The wire format of the reference chat platform: what its Bot API sends and accepts. It is
 * shaped like Telegram's Bot API on purpose (long-polled updates confirmed by offset, per-chat
 * message ids, dates in Unix seconds, inline buttons with callback payloads), so a connector
 * written against it already follows the patterns a real platform needs.
 *
 * Both sides use these types: the fake platform (`platform.ts`) and the connector
 * (`connector.ts`). A real connector gets them from its platform SDK instead.
 */

/** The person behind a chat, as the platform knows them. */
export interface PlatformUser {
  id: string;
  /** Display name (a username on Telegram): becomes the Genesys nickname. */
  name: string;
  firstName?: string;
  lastName?: string;
  /** IETF language tag of the customer's app, e.g. `en` or `pt-BR`. */
  language?: string;
}

export interface PlatformChat {
  id: string;
}

/** A file the customer sent: fetch its bytes with `GET /bot/files/:fileId`. */
export interface PlatformFile {
  fileId: string;
  mime: string;
  filename: string;
  size: number;
}

/** A customer message. `id` counts per chat, like Telegram's `message_id`. */
export interface MessageUpdatePayload {
  id: number;
  chat: PlatformChat;
  from: PlatformUser;
  /** The message text, or the caption of a file. */
  text?: string;
  file?: PlatformFile;
  /** When the customer sent it, in Unix seconds. */
  date: number;
}

/** The customer pressed an inline button of a bot message. */
export interface ButtonPressPayload {
  /** Answer it with `POST /bot/callbacks/:callbackId/answer` or the customer's app keeps spinning. */
  callbackId: string;
  chat: PlatformChat;
  from: PlatformUser;
  /** The bot message the button was on. */
  messageId: number;
  payload: string;
  /** The label of the pressed button. */
  text: string;
}

/** The customer is typing. */
export interface TypingPayload {
  chat: PlatformChat;
  from: PlatformUser;
}

/**
 * One item of `GET /bot/updates`. Exactly one of the payload fields is set. `update_id` grows by
 * one per update; passing `offset = update_id + 1` confirms it (and every earlier one).
 */
export type Update = MessageUpdate | ButtonPressUpdate | TypingUpdate;

export interface MessageUpdate {
  update_id: number;
  message: MessageUpdatePayload;
}

export interface ButtonPressUpdate {
  update_id: number;
  button_press: ButtonPressPayload;
}

export interface TypingUpdate {
  update_id: number;
  typing: TypingPayload;
}

/** An inline button under a bot message: a callback button (`payload`) or a link (`url`). */
export interface PlatformButton {
  text: string;
  payload?: string;
  url?: string;
}

/** Body of `POST /bot/messages`. A message carries text, one attachment, or both (as caption). */
export interface SendMessageRequest {
  chatId: string;
  text?: string;
  replyMarkup?: { buttons: PlatformButton[] };
  attachment?: { filename: string; mime: string; dataBase64: string };
}

/** A message the bot sent, as the platform echoes it back. */
export interface BotMessage {
  id: number;
  chatId: string;
  text?: string;
  buttons: PlatformButton[];
  attachment?: PlatformFile;
  /** Unix seconds. */
  date: number;
}

/** Answer of `POST /bot/messages`. */
export interface SendMessageResponse {
  message: BotMessage;
}

/** Answer of `GET /bot/updates`. */
export interface UpdatesResponse {
  updates: Update[];
}

/** Every error answer: a short `error` and, for some, a human-readable `description`. */
export interface PlatformErrorBody {
  error: string;
  description?: string;
  /** Seconds to wait, on 429 (also sent as the `Retry-After` header). */
  retryAfter?: number;
}

/** The longest text one platform message may carry. */
export const MAX_MESSAGE_LENGTH = 4096;
