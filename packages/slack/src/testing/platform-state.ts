/**
 * The in-memory workspace of the Slack fake: people, conversations, messages and files. The Web
 * API routes (`platform-web-api.ts`), the event sender and the test-facing API all act on it.
 */
import type { Block, SlackConversation, SlackFile, SlackUser } from '../protocol.js';

/** How a person appears in Slack; every field has a default derived from the name. */
export interface FakeUserProfile {
  /** The handle (`name`), e.g. `ada`. Default `user<N>`. */
  name?: string;
  displayName?: string;
  realName?: string;
  firstName?: string;
  lastName?: string;
  email?: string;
  /** The user's own workspace (differs from the app's in Slack Connect). */
  teamId?: string;
}

/** A person of the workspace. */
export interface FakeUser extends SlackUser {
  id: string;
}

export type ConversationKind = 'im' | 'channel' | 'group' | 'mpim';

/** A DM, channel or group DM. */
export interface FakeConversation {
  id: string;
  kind: ConversationKind;
  name?: string;
  members: Set<string>;
  archived: boolean;
  /** Slack Connect: shared with another organisation. */
  shared: boolean;
  /** For a DM: the person (the other member is the bot). */
  user?: string;
}

/** A new channel; the app is a member unless `botMember: false`. */
export interface AddChannelInput {
  name: string;
  /** A fixed id (e.g. one named in the connector's options); default a new one. */
  id?: string;
  members?: string[];
  kind?: 'channel' | 'group' | 'mpim';
  /** Slack Connect. */
  shared?: boolean;
  botMember?: boolean;
}

/** A file as the fake stores it. */
export interface FakeFile {
  id: string;
  name: string;
  title: string;
  mimetype?: string;
  data: Buffer;
  user: string;
  urlPrivate: string;
  urlPrivateDownload: string;
}

/** A message in a conversation, by a person or by the app. */
export interface FakeMessage {
  channel: string;
  ts: string;
  /** The author (the bot user for the app's messages). */
  user: string;
  /** Set on the app's messages. */
  botId?: string;
  text: string;
  blocks?: Block[];
  threadTs?: string;
  files: FakeFile[];
  edited?: { user: string; ts: string };
}

/** A file a customer shares. */
export interface FakeFileInput {
  data: Buffer;
  mime: string;
  filename: string;
}

const MIME_BY_EXTENSION: Record<string, string> = {
  png: 'image/png',
  jpg: 'image/jpeg',
  jpeg: 'image/jpeg',
  gif: 'image/gif',
  webp: 'image/webp',
  pdf: 'application/pdf',
  txt: 'text/plain',
  csv: 'text/csv',
  mp3: 'audio/mpeg',
  mp4: 'video/mp4',
  zip: 'application/zip',
};

/** Slack guesses a file's type from its name, as the fake does for the app's uploads. */
export function mimeOfFilename(filename: string): string | undefined {
  const extension = filename.split('.').pop()?.toLowerCase() ?? '';
  return MIME_BY_EXTENSION[extension];
}

/** Everything the Slack fake knows. No I/O, so routes and tests act on it directly. */
export class SlackWorkspace {
  readonly users = new Map<string, FakeUser>();
  readonly conversations = new Map<string, FakeConversation>();
  readonly files = new Map<string, FakeFile>();
  readonly #messages: FakeMessage[] = [];
  readonly #messageListeners = new Set<(message: FakeMessage) => void>();
  #counter = 0;
  #lastTs = 0;

  constructor(
    readonly team: { id: string; name: string },
    readonly bot: { userId: string; botId: string; appId: string; name: string },
  ) {
    this.users.set(bot.userId, { id: bot.userId, team_id: team.id, name: bot.name, is_bot: true, profile: { display_name: bot.name, real_name: bot.name } });
  }

  /** A new id with Slack's shape: a letter and nine characters. */
  nextId(prefix: string): string {
    this.#counter += 1;
    return `${prefix}${String(this.#counter).padStart(9, '0')}`;
  }

  /** A message timestamp: Unix seconds with six digits, unique and increasing like Slack's. */
  nextTs(): string {
    const micros = Math.max(Date.now() * 1000, this.#lastTs + 1);
    this.#lastTs = micros;
    return `${Math.floor(micros / 1_000_000)}.${String(micros % 1_000_000).padStart(6, '0')}`;
  }

  addUser(profile: FakeUserProfile = {}): FakeUser {
    const id = this.nextId('U');
    const name = profile.name ?? `user${this.#counter}`;
    const realName = profile.realName ?? [profile.firstName, profile.lastName].filter(Boolean).join(' ');
    const user: FakeUser = {
      id,
      team_id: profile.teamId ?? this.team.id,
      name,
      ...(realName ? { real_name: realName } : {}),
      is_bot: false,
      deleted: false,
      profile: {
        display_name: profile.displayName ?? name,
        ...(realName ? { real_name: realName } : {}),
        ...(profile.firstName ? { first_name: profile.firstName } : {}),
        ...(profile.lastName ? { last_name: profile.lastName } : {}),
        ...(profile.email ? { email: profile.email } : {}),
        image_72: `https://avatars.example.com/${id}_72.png`,
      },
    };
    this.users.set(id, user);
    return user;
  }

  /** The DM between `userId` and the app (created on first use, like `conversations.open`). */
  openDm(userId: string): FakeConversation {
    for (const conversation of this.conversations.values()) {
      if (conversation.kind === 'im' && conversation.user === userId) return conversation;
    }
    const dm: FakeConversation = {
      id: this.nextId('D'),
      kind: 'im',
      members: new Set([userId, this.bot.userId]),
      archived: false,
      shared: false,
      user: userId,
    };
    this.conversations.set(dm.id, dm);
    return dm;
  }

  addChannel(input: AddChannelInput): FakeConversation {
    const kind = input.kind ?? 'channel';
    const channel: FakeConversation = {
      id: input.id ?? this.nextId(kind === 'channel' ? 'C' : 'G'),
      kind,
      name: input.name,
      members: new Set([...(input.members ?? []), ...(input.botMember === false ? [] : [this.bot.userId])]),
      archived: false,
      shared: input.shared ?? false,
    };
    this.conversations.set(channel.id, channel);
    return channel;
  }

  /** `conversations.info`'s view of a conversation. */
  describe(conversation: FakeConversation): SlackConversation {
    return {
      id: conversation.id,
      ...(conversation.name ? { name: conversation.name } : {}),
      is_im: conversation.kind === 'im',
      is_mpim: conversation.kind === 'mpim',
      is_private: conversation.kind !== 'channel',
      is_archived: conversation.archived,
      is_ext_shared: conversation.shared,
      ...(conversation.user ? { user: conversation.user } : {}),
    };
  }

  /** Stores a file; `id` is given when an upload already reserved one. */
  addFile(input: { data: Buffer; mime?: string; filename: string }, user: string, baseUrl: string, id = this.nextId('F')): FakeFile {
    const key = `${this.team.id}-${id}`;
    const name = encodeURIComponent(input.filename);
    const file: FakeFile = {
      id,
      name: input.filename,
      title: input.filename,
      ...(input.mime ? { mimetype: input.mime } : {}),
      data: input.data,
      user,
      urlPrivate: `${baseUrl}/files-pri/${key}/${name}`,
      urlPrivateDownload: `${baseUrl}/files-pri/${key}/download/${name}`,
    };
    this.files.set(id, file);
    return file;
  }

  /** A file as message events and `files.completeUploadExternal` show it. */
  fileObject(file: FakeFile): SlackFile {
    return {
      id: file.id,
      name: file.name,
      title: file.title,
      ...(file.mimetype ? { mimetype: file.mimetype } : {}),
      filetype: file.name.split('.').pop() ?? 'binary',
      size: file.data.length,
      url_private: file.urlPrivate,
      url_private_download: file.urlPrivateDownload,
      mode: 'hosted',
    };
  }

  addMessage(message: FakeMessage): FakeMessage {
    this.#messages.push(message);
    for (const listener of [...this.#messageListeners]) listener(message);
    return message;
  }

  message(channel: string, ts: string): FakeMessage | undefined {
    return this.#messages.find((message) => message.channel === channel && message.ts === ts);
  }

  messages(channel?: string): FakeMessage[] {
    return this.#messages.filter((message) => channel === undefined || message.channel === channel);
  }

  onMessage(listener: (message: FakeMessage) => void): () => void {
    this.#messageListeners.add(listener);
    return () => this.#messageListeners.delete(listener);
  }
}
