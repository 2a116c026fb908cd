/**
 * The part of Slack's wire format that Parley reads and writes: Events API envelopes, the message
 * and mention events, `block_actions` payloads, Block Kit blocks and the Web API results the
 * connector uses. Both sides use these types: the connector (which receives them through Bolt)
 * and the Slack fake (`testing/`), which produces them. Field names are Slack's.
 *
 * References: https://docs.slack.dev/reference/events/message,
 * https://docs.slack.dev/reference/interaction-payloads/block_actions-payload,
 * https://docs.slack.dev/reference/block-kit/blocks
 */

/** A file attached to a message (`files[]`). `url_private*` need the bot token to download. */
export interface SlackFile {
  id: string;
  name?: string;
  title?: string;
  mimetype?: string;
  filetype?: string;
  size?: number;
  url_private?: string;
  url_private_download?: string;
  /** `hosted`, `external`, `snippet`, `tombstone` (deleted)… */
  mode?: string;
  /** `check_file_info` when Slack sends only the id (some Slack Connect files). */
  file_access?: string;
}

/** The fields of a message event Parley reads (`message`, `app_mention`, `message_changed.message`). */
export interface SlackMessage {
  type: 'message' | 'app_mention';
  subtype?: string;
  channel?: string;
  /** `im`, `mpim`, `channel`, `group` or `app_home`; absent on `app_mention`. */
  channel_type?: string;
  user?: string;
  /** The team of the user (differs from the app's team in Slack Connect channels). */
  team?: string;
  user_team?: string;
  text?: string;
  ts: string;
  thread_ts?: string;
  event_ts?: string;
  client_msg_id?: string;
  bot_id?: string;
  bot_profile?: unknown;
  app_id?: string;
  files?: SlackFile[];
  edited?: { user?: string; ts: string };
  hidden?: boolean;
  /** `message_changed`: the message after the edit. */
  message?: SlackMessage;
  /** `message_changed`: the message before the edit. */
  previous_message?: SlackMessage;
}

/** An Events API envelope (`type: event_callback`), as posted to the Request URL or sent over Socket Mode. */
export interface EventCallback<E = SlackMessage> {
  token?: string;
  team_id: string;
  api_app_id?: string;
  event: E;
  type: 'event_callback';
  event_id: string;
  event_time: number;
  authorizations?: Array<{ enterprise_id: string | null; team_id: string | null; user_id: string; is_bot: boolean }>;
  is_ext_shared_channel?: boolean;
}

/** Slack checks the Request URL with this (signed) body and expects the challenge back. */
export interface UrlVerification {
  token?: string;
  challenge: string;
  type: 'url_verification';
}

/** A pressed Block Kit element, as `block_actions.actions[]` carries it. */
export interface BlockActionElement {
  type: string;
  action_id: string;
  block_id: string;
  text?: { type: 'plain_text'; text: string };
  value?: string;
  url?: string;
  action_ts: string;
}

/** A press of a Block Kit button (interactivity), posted form-encoded as `payload=<json>`. */
export interface BlockActionsPayload {
  type: 'block_actions';
  team: { id: string; domain?: string } | null;
  user: { id: string; username?: string; name?: string; team_id?: string };
  api_app_id?: string;
  token?: string;
  container?: { type: string; message_ts?: string; channel_id?: string; is_ephemeral?: boolean; thread_ts?: string };
  trigger_id?: string;
  channel?: { id: string; name?: string };
  message?: SlackMessage & { blocks?: Block[] };
  response_url?: string;
  actions: BlockActionElement[];
}

/** Plain or mrkdwn text inside blocks. */
export interface TextObject {
  type: 'plain_text' | 'mrkdwn';
  text: string;
  emoji?: boolean;
}

/** A button element. Exactly one of `value` (a press comes back as `block_actions`) and `url` is set. */
export interface ButtonElement {
  type: 'button';
  text: TextObject & { type: 'plain_text' };
  action_id: string;
  value?: string;
  url?: string;
}

export interface SectionBlock {
  type: 'section';
  block_id?: string;
  text: TextObject;
}

export interface ActionsBlock {
  type: 'actions';
  block_id?: string;
  elements: ButtonElement[];
}

/** The Block Kit blocks Parley sends. */
export type Block = SectionBlock | ActionsBlock;

/** `auth.test`: who the token belongs to. */
export interface AuthTestResult {
  ok: true;
  url?: string;
  team?: string;
  user?: string;
  team_id: string;
  user_id: string;
  bot_id?: string;
}

/** `users.info` → `user`. */
export interface SlackUser {
  id: string;
  team_id?: string;
  name?: string;
  real_name?: string;
  deleted?: boolean;
  is_bot?: boolean;
  profile?: {
    display_name?: string;
    real_name?: string;
    first_name?: string;
    last_name?: string;
    email?: string;
    image_72?: string;
  };
}

/** `conversations.info` / `conversations.open` → `channel`. */
export interface SlackConversation {
  id: string;
  name?: string;
  is_im?: boolean;
  is_mpim?: boolean;
  is_private?: boolean;
  is_archived?: boolean;
  is_ext_shared?: boolean;
  /** For a DM: the other person. */
  user?: string;
}

/** `chat.postMessage`. */
export interface PostMessageResult {
  ok: true;
  channel: string;
  ts: string;
}

/** `files.getUploadURLExternal`. */
export interface UploadUrlResult {
  ok: true;
  upload_url: string;
  file_id: string;
}

/** `files.completeUploadExternal`. */
export interface CompleteUploadResult {
  ok: true;
  files: Array<{ id: string; title?: string }>;
}

/** A Web API error answer: HTTP 200 (or 429) with `ok: false`. */
export interface SlackErrorBody {
  ok: false;
  error: string;
  /** `missing_scope`: the scope the call needed. */
  needed?: string;
}
