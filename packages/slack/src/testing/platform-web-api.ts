/**
 * The Slack fake's Web API: `POST /api/<method>` with a form-encoded or JSON body and the token
 * in the Authorization header (or a `token` field), answering Slack's way: HTTP 200 with
 * `ok: true|false`, 429 with Retry-After. Also the two file URLs the Web API hands out: the
 * pre-signed upload URL and `url_private_download`, which checks the bot token.
 *
 * Methods: auth.test, apps.connections.open (app token), chat.postMessage, users.info,
 * conversations.info, conversations.open, files.getUploadURLExternal, files.completeUploadExternal.
 */
import { randomBytes } from 'node:crypto';
import express, { type NextFunction, type Request, type Response } from 'express';
import type { Block } from '../protocol.js';
import type { FailurePlan } from './platform-faults.js';
import { mimeOfFilename, type FakeConversation, type FakeMessage, type SlackWorkspace } from './platform-state.js';
import type { SocketModeServer } from './platform-events.js';

/** One Web API call the fake received (tokens left out). */
export interface ApiCall {
  method: string;
  params: Record<string, unknown>;
}

export interface WebApiDeps {
  workspace: SlackWorkspace;
  failures: FailurePlan;
  botToken: string;
  appToken: string;
  socket: SocketModeServer;
  /** `http://127.0.0.1:PORT`. */
  baseUrl(): string;
  /** The app posted a message (Slack then sends it to the app as an event too). */
  onBotMessage(message: FakeMessage): void;
  calls: ApiCall[];
}

/** Slack's limits that the fake enforces. */
const MAX_TEXT_LENGTH = 40_000;

class SlackApiError extends Error {
  constructor(readonly code: string) {
    super(code);
  }
}

type Params = Record<string, unknown>;
type Method = (params: Params) => Record<string, unknown>;

/** The `/api` router plus the file routes. */
export function webApiRoutes(deps: WebApiDeps): express.Router {
  const { workspace } = deps;
  const router = express.Router();
  const uploads = new Map<string, { fileId: string; filename: string; length: number; data?: Buffer }>();
  const uploadsById = new Map<string, { fileId: string; filename: string; length: number; data?: Buffer }>();

  const conversationFor = (id: unknown, options: { forPosting: boolean }): FakeConversation => {
    if (typeof id !== 'string' || id.length === 0) throw new SlackApiError('channel_not_found');
    // Like Slack, a user id as the channel means the DM with that person.
    const conversation = /^[UW]/.test(id) ? dmOf(id) : workspace.conversations.get(id);
    if (!conversation) throw new SlackApiError('channel_not_found');
    if (options.forPosting) {
      if (conversation.archived) throw new SlackApiError('is_archived');
      if (conversation.kind !== 'im' && !conversation.members.has(workspace.bot.userId)) throw new SlackApiError('not_in_channel');
    }
    return conversation;
  };
  const dmOf = (userId: string): FakeConversation => {
    const user = workspace.users.get(userId);
    if (!user || user.deleted) throw new SlackApiError('user_not_found');
    if (user.is_bot) throw new SlackApiError('cannot_dm_bot');
    return workspace.openDm(userId);
  };

  const methods: Record<string, Method> = {
    'auth.test': () => ({
      url: `https://${workspace.team.name.toLowerCase().replace(/\W+/g, '-')}.slack.com/`,
      team: workspace.team.name,
      user: workspace.bot.name,
      team_id: workspace.team.id,
      user_id: workspace.bot.userId,
      bot_id: workspace.bot.botId,
      is_enterprise_install: false,
    }),
    'apps.connections.open': () => ({
      url: `${deps.baseUrl().replace(/^http/, 'ws')}/link/?ticket=${deps.socket.issueTicket()}&app_id=${workspace.bot.appId}`,
    }),
    'chat.postMessage': (params) => {
      const conversation = conversationFor(params['channel'], { forPosting: true });
      const text = typeof params['text'] === 'string' ? params['text'] : '';
      const blocks = parseJson<Block[]>(params['blocks']);
      if (!text && !blocks) throw new SlackApiError('no_text');
      if (text.length > MAX_TEXT_LENGTH) throw new SlackApiError('msg_too_long');
      if (blocks) validateBlocks(blocks);
      const threadTs = typeof params['thread_ts'] === 'string' && params['thread_ts'] ? params['thread_ts'] : undefined;
      const message = workspace.addMessage({
        channel: conversation.id,
        ts: workspace.nextTs(),
        user: workspace.bot.userId,
        botId: workspace.bot.botId,
        text,
        ...(blocks ? { blocks } : {}),
        ...(threadTs ? { threadTs } : {}),
        files: [],
      });
      deps.onBotMessage(message);
      return {
        channel: conversation.id,
        ts: message.ts,
        message: { type: 'message', text, user: message.user, bot_id: message.botId, ts: message.ts, ...(blocks ? { blocks } : {}) },
      };
    },
    'users.info': (params) => {
      const user = workspace.users.get(String(params['user'] ?? ''));
      if (!user) throw new SlackApiError('user_not_found');
      return { user };
    },
    'conversations.info': (params) => ({ channel: workspace.describe(conversationFor(params['channel'], { forPosting: false })) }),
    'conversations.open': (params) => {
      const users = String(params['users'] ?? '').split(',').filter(Boolean);
      if (users.length !== 1) throw new SlackApiError(users.length === 0 ? 'users_list_not_supplied' : 'not_implemented');
      return { channel: { id: dmOf(users[0]!).id } };
    },
    'files.getUploadURLExternal': (params) => {
      const filename = params['filename'];
      const length = Number(params['length']);
      if (typeof filename !== 'string' || !filename || !Number.isInteger(length) || length <= 0) {
        throw new SlackApiError('invalid_arguments');
      }
      const key = randomBytes(12).toString('hex');
      const upload = { fileId: workspace.nextId('F'), filename, length };
      uploads.set(key, upload);
      uploadsById.set(upload.fileId, upload);
      return { upload_url: `${deps.baseUrl()}/upload/v1/${key}`, file_id: upload.fileId };
    },
    'files.completeUploadExternal': (params) => {
      const files = parseJson<Array<{ id: string; title?: string }>>(params['files']);
      if (!Array.isArray(files) || files.length === 0) throw new SlackApiError('invalid_arguments');
      const pending = files.map((file) => {
        const upload = uploadsById.get(file.id);
        if (!upload?.data) throw new SlackApiError('file_not_found');
        return { upload: { ...upload, data: upload.data }, title: file.title ?? upload.filename };
      });
      const channelId = params['channel_id'];
      const conversation = channelId === undefined ? undefined : conversationFor(channelId, { forPosting: true });
      const stored = pending.map(({ upload, title }) => {
        uploadsById.delete(upload.fileId);
        const mime = mimeOfFilename(upload.filename);
        const file = workspace.addFile(
          { data: upload.data, filename: upload.filename, ...(mime ? { mime } : {}) },
          workspace.bot.userId,
          deps.baseUrl(),
          upload.fileId,
        );
        file.title = title;
        return file;
      });
      if (conversation) {
        const threadTs = typeof params['thread_ts'] === 'string' && params['thread_ts'] ? params['thread_ts'] : undefined;
        const message = workspace.addMessage({
          channel: conversation.id,
          ts: workspace.nextTs(),
          user: workspace.bot.userId,
          botId: workspace.bot.botId,
          text: typeof params['initial_comment'] === 'string' ? params['initial_comment'] : '',
          ...(threadTs ? { threadTs } : {}),
          files: stored,
        });
        deps.onBotMessage(message);
      }
      return { files: stored.map((file) => ({ id: file.id, title: file.title })) };
    },
  };

  const failureFor = (name: string) => (_req: Request, res: Response, next: NextFunction) => {
    const failure = deps.failures.next(name);
    if (!failure) return next();
    const answer = () => {
      if (failure.status === 0) return next();
      res.status(failure.status).set(failure.headers).json(failure.body);
    };
    if (failure.delayMs > 0) setTimeout(answer, failure.delayMs);
    else answer();
  };

  router.post(
    '/api/:method',
    express.urlencoded({ extended: false, limit: '10mb' }),
    express.json({ limit: '10mb' }),
    (req: Request<{ method: string }>, res, next) => {
      const params: Params = { ...(req.body as Params | undefined) };
      const header = req.headers.authorization;
      const token = header?.startsWith('Bearer ') ? header.slice('Bearer '.length) : params['token'];
      delete params['token'];
      const method = req.params.method;
      deps.calls.push({ method, params });
      if (!token) return void res.json({ ok: false, error: 'not_authed' });
      const expected = method === 'apps.connections.open' ? deps.appToken : deps.botToken;
      if (token !== expected) {
        return void res.json({ ok: false, error: method === 'apps.connections.open' && token === deps.botToken ? 'not_allowed_token_type' : 'invalid_auth' });
      }
      res.locals['params'] = params;
      next();
    },
    (req: Request<{ method: string }>, res, next) => failureFor(req.params.method)(req, res, next),
    (req: Request<{ method: string }>, res) => {
      const method = methods[req.params.method];
      if (!method) return void res.json({ ok: false, error: 'unknown_method' });
      try {
        res.json({ ok: true, ...method(res.locals['params'] as Params) });
      } catch (error) {
        if (!(error instanceof SlackApiError)) throw error;
        res.json({ ok: false, error: error.code });
      }
    },
  );

  router.post('/upload/v1/:key', failureFor('upload'), express.raw({ type: () => true, limit: '60mb' }), async (req: Request<{ key: string }>, res) => {
    const upload = uploads.get(req.params.key);
    if (!upload) return void res.status(404).type('text/plain').send('Not Found');
    const raw = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
    // Slack takes the bytes raw or as the one file of a multipart form (what @slack/web-api sends).
    const type = req.headers['content-type'] ?? '';
    const data = type.startsWith('multipart/form-data') ? await firstFileOf(raw, type) : raw;
    if (!data || data.length !== upload.length) return void res.status(400).type('text/plain').send('length mismatch');
    uploads.delete(req.params.key);
    upload.data = data;
    res.status(200).type('text/plain').send(`OK - ${data.length}`);
  });

  const download = (req: Request<{ key: string }>, res: Response) => {
    // Slack answers a download without the right token with a redirect to its sign-in page.
    if (req.headers.authorization !== `Bearer ${deps.botToken}`) return void res.redirect(302, '/signin');
    const prefix = `${workspace.team.id}-`;
    const file = req.params.key.startsWith(prefix) ? workspace.files.get(req.params.key.slice(prefix.length)) : undefined;
    if (!file) return void res.status(404).type('text/plain').send('Not Found');
    res
      .status(200)
      .type(file.mimetype ?? 'application/octet-stream')
      .set('content-length', String(file.data.length))
      .end(file.data);
  };
  router.get('/files-pri/:key/download/:name', failureFor('download'), download);
  router.get('/files-pri/:key/:name', failureFor('download'), download);
  router.get('/signin', (_req, res) => void res.status(200).type('text/html').send('<html><body>Sign in to Slack</body></html>'));

  return router;
}

async function firstFileOf(body: Buffer, contentType: string): Promise<Buffer | undefined> {
  try {
    const form = await new Response(new Uint8Array(body), { headers: { 'content-type': contentType } }).formData();
    for (const value of form.values()) {
      if (typeof value !== 'string') return Buffer.from(await value.arrayBuffer());
    }
  } catch {
    // not a valid form: treated as a failed upload
  }
  return undefined;
}

function parseJson<T>(value: unknown): T | undefined {
  if (value === undefined || value === '') return undefined;
  if (typeof value !== 'string') return value as T;
  try {
    return JSON.parse(value) as T;
  } catch {
    throw new SlackApiError('invalid_arguments');
  }
}

/** The Block Kit rules Parley's blocks must satisfy (a subset of Slack's validation). */
function validateBlocks(blocks: unknown): void {
  const fail = () => {
    throw new SlackApiError('invalid_blocks');
  };
  if (!Array.isArray(blocks) || blocks.length > 50) fail();
  const blockIds = new Set<string>();
  const actionIds = new Set<string>();
  for (const block of blocks as Array<Record<string, unknown>>) {
    const blockId = block['block_id'];
    if (blockId !== undefined) {
      if (typeof blockId !== 'string' || blockId.length > 255 || blockIds.has(blockId)) fail();
      blockIds.add(blockId as string);
    }
    if (block['type'] === 'section') {
      const text = block['text'] as { type?: string; text?: unknown } | undefined;
      if (!text || typeof text.text !== 'string' || text.text.length === 0 || text.text.length > 3000) fail();
    } else if (block['type'] === 'actions') {
      const elements = block['elements'];
      if (!Array.isArray(elements) || elements.length === 0 || elements.length > 25) fail();
      for (const element of elements as Array<Record<string, unknown>>) {
        const label = (element['text'] as { text?: unknown } | undefined)?.text;
        const actionId = element['action_id'];
        const value = element['value'];
        const url = element['url'];
        if (element['type'] !== 'button' || typeof label !== 'string' || label.length === 0 || label.length > 75) fail();
        if (typeof actionId !== 'string' || actionId.length > 255 || actionIds.has(actionId)) fail();
        actionIds.add(actionId as string);
        if (value !== undefined && (typeof value !== 'string' || value.length > 2000)) fail();
        if (url !== undefined && (typeof url !== 'string' || url.length > 3000)) fail();
      }
    } else {
      fail();
    }
  }
}
