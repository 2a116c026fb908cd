/**
 * The fake's REST API under `/api/v10` (what @discordjs/rest calls), plus the CDN route that
 * serves attachments. Requests need `Authorization: Bot <token>` (401 otherwise), except
 * interaction callbacks (authorised by the interaction token) and CDN files (signed links).
 * Errors come as Discord's `{ message, code }` JSON, so discord.js raises its real error types.
 */
import express, { type Request, type Response, type Router } from 'express';
import type { APIEmbed, APIMessageComponent } from 'discord.js';
import type { FailurePlan, FakeRoute } from './fake-faults.js';
import { ChannelKind, channelPayload, userPayload } from './fake-payloads.js';
import type { CustomerFile, FakeWorld } from './fake-state.js';

/** Discord acknowledges an interaction only within 3 s of its creation. */
const INTERACTION_ANSWER_MS = 3000;
const MAX_CONTENT_LENGTH = 2000;

export interface RestContext {
  world: FakeWorld;
  failures: FailurePlan;
  token: string;
  gatewayUrl(): string;
  /** Every REST call, for tests: method, route and path. */
  log: Array<{ method: string; route: FakeRoute | 'other'; path: string }>;
}

type Params = Record<string, string>;

/** The fake's Discord API router; mount it at `/api/v10`. */
export function restRouter(context: RestContext): Router {
  const { world, failures } = context;
  const api = express.Router();

  const fail = (res: Response, status: number, code: number, message: string, errors?: unknown) =>
    void res.status(status).json({ message, code, ...(errors ? { errors } : {}) });

  /** Records the call, then answers with an injected failure if one is due. */
  const route = (name: FakeRoute) => (req: Request, res: Response, next: () => void) => {
    context.log.push({ method: req.method, route: name, path: req.path });
    const failure = failures.next(name);
    if (!failure) return next();
    res.status(failure.status).set(failure.headers).json(failure.body);
  };

  // Interaction callbacks carry their own token in the path; Discord wants no bot token there.
  api.post('/interactions/:id/:token/callback', route('interaction'), express.json(), (req: Request<Params>, res) => {
    const interaction = world.interactions.get(req.params['id']!);
    if (!interaction || interaction.token !== req.params['token'] || Date.now() - interaction.createdAt > INTERACTION_ANSWER_MS) {
      return fail(res, 404, 10062, 'Unknown interaction');
    }
    if (interaction.acknowledged !== undefined) return fail(res, 400, 40060, 'Interaction has already been acknowledged.');
    const type = Number((req.body as { type?: unknown }).type);
    interaction.acknowledged = type;
    world.acks.push({ interactionId: req.params['id']!, type });
    if (req.query['with_response'] === 'true') {
      return void res.json({ interaction: { id: req.params['id'], type: 3 }, resource: { type } });
    }
    res.status(204).end();
  });

  api.use((req, res, next) => {
    if (req.headers.authorization !== `Bot ${context.token}`) {
      context.log.push({ method: req.method, route: 'other', path: req.path });
      return fail(res, 401, 0, '401: Unauthorized');
    }
    next();
  });

  api.get('/gateway/bot', route('gateway-bot'), (_req, res) => {
    res.json({
      url: context.gatewayUrl(),
      shards: 1,
      session_start_limit: { total: 1000, remaining: 999, reset_after: 86_400_000, max_concurrency: 1 },
    });
  });

  api.get('/users/@me', (_req, res) => void res.json(userPayload(world.bot)));

  api.post('/users/@me/channels', route('open-dm'), express.json(), (req, res) => {
    const recipientId = String((req.body as { recipient_id?: unknown }).recipient_id ?? '');
    if (!world.users.has(recipientId)) return fail(res, 400, 50035, 'Invalid Form Body');
    res.json(channelPayload(world.dmChannel(recipientId), world.users));
  });

  api.get('/channels/:id', route('channel'), (req: Request<Params>, res) => {
    const channel = world.channels.get(req.params['id']!);
    if (!channel) return fail(res, 404, 10003, 'Unknown Channel');
    res.json(channelPayload(channel, world.users));
  });

  api.get('/channels/:id/messages', route('history'), (req: Request<Params>, res) => {
    const channel = world.channels.get(req.params['id']!);
    if (!channel) return fail(res, 404, 10003, 'Unknown Channel');
    const limit = Math.min(100, Math.max(1, Number(req.query['limit'] ?? 50)));
    const after = typeof req.query['after'] === 'string' ? BigInt(req.query['after']) : undefined;
    const before = typeof req.query['before'] === 'string' ? BigInt(req.query['before']) : undefined;
    let page = channel.messages;
    if (after !== undefined) page = page.filter((message) => BigInt(message.id) > after).slice(0, limit);
    else page = (before !== undefined ? page.filter((message) => BigInt(message.id) < before) : page).slice(-limit);
    // Discord lists newest first, whichever way the page was taken.
    res.json([...page].reverse());
  });

  api.get('/channels/:id/messages/:messageId', route('message'), (req: Request<Params>, res) => {
    if (!world.channels.has(req.params['id']!)) return fail(res, 404, 10003, 'Unknown Channel');
    const message = world.findMessage(req.params['id']!, req.params['messageId']!);
    if (!message) return fail(res, 404, 10008, 'Unknown Message');
    res.json(message);
  });

  api.post('/channels/:id/typing', route('typing'), (req: Request<Params>, res) => {
    const channel = world.channels.get(req.params['id']!);
    if (!channel) return fail(res, 404, 10003, 'Unknown Channel');
    world.typing.set(channel.id, (world.typing.get(channel.id) ?? 0) + 1);
    res.status(204).end();
  });

  api.post('/channels/:id/messages/:messageId/threads', route('thread'), express.json(), (req: Request<Params>, res) => {
    const channel = world.channels.get(req.params['id']!);
    if (!channel || !channel.guildId) return fail(res, 404, 10003, 'Unknown Channel');
    const messageId = req.params['messageId']!;
    if (!world.findMessage(channel.id, messageId)) return fail(res, 404, 10008, 'Unknown Message');
    if (world.channels.has(messageId)) return fail(res, 400, 160004, 'A thread has already been created for this message');
    const body = req.body as { name?: unknown; auto_archive_duration?: unknown };
    const name = typeof body.name === 'string' ? body.name : '';
    if (name.length < 1 || name.length > 100) return fail(res, 400, 50035, 'Invalid Form Body');
    // A thread started from a message takes the message's id.
    const thread = world.addThread({
      parentId: channel.id,
      name,
      ownerId: world.bot.id,
      id: messageId,
      ...(typeof body.auto_archive_duration === 'number' ? { autoArchiveMinutes: body.auto_archive_duration } : {}),
    });
    res.status(201).json(channelPayload(thread, world.users));
  });

  api.post(
    '/channels/:id/messages',
    route('send'),
    express.raw({ type: () => true, limit: '30mb' }),
    async (req: Request<Params>, res) => {
      const channel = world.channels.get(req.params['id']!);
      if (!channel) return fail(res, 404, 10003, 'Unknown Channel');
      let parsed: { json: Record<string, unknown>; files: CustomerFile[] };
      try {
        parsed = await parseMessageBody(req);
      } catch {
        return fail(res, 400, 50035, 'Invalid Form Body');
      }
      const { json, files } = parsed;
      if (channel.type === ChannelKind.DM && !world.user(channel.recipientId!).acceptsDms) {
        return fail(res, 403, 50007, 'Cannot send messages to this user');
      }
      if (!channel.botCanSend) return fail(res, 403, 50013, 'Missing Permissions');
      const problem = validateMessage(json, files);
      if (problem) return fail(res, 400, problem.code, problem.message, problem.errors);
      const message = world.botMessage(channel, {
        ...(typeof json['content'] === 'string' ? { content: json['content'] } : {}),
        ...(Array.isArray(json['embeds']) ? { embeds: json['embeds'] as APIEmbed[] } : {}),
        ...(Array.isArray(json['components']) ? { components: json['components'] as APIMessageComponent[] } : {}),
        files,
        ...(typeof json['nonce'] === 'string' || typeof json['nonce'] === 'number' ? { nonce: json['nonce'] } : {}),
        enforceNonce: json['enforce_nonce'] === true,
      });
      const lost = failures.next('send', true);
      if (lost) return void res.status(lost.status).set(lost.headers).json(lost.body);
      res.json(message);
    },
  );

  api.use((req, res) => {
    context.log.push({ method: req.method, route: 'other', path: req.path });
    fail(res, 404, 0, '404: Not Found');
  });
  return api;
}

/** Serves attachment bytes at their CDN-like link (no auth: the link itself is the credential). */
export function cdnRouter(context: RestContext): Router {
  const cdn = express.Router();
  cdn.get('/attachments/:channelId/:fileId/:filename', (req: Request<Params>, res) => {
    context.log.push({ method: 'GET', route: 'attachment', path: req.path });
    const failure = context.failures.next('attachment');
    if (failure) return void res.status(failure.status).set(failure.headers).json(failure.body);
    const file = context.world.files.get(req.params['fileId']!);
    if (!file || file.channelId !== req.params['channelId']) return void res.status(404).send('Not Found');
    res.status(200).type(file.contentType).set('content-length', String(file.data.length)).end(file.data);
  });
  return cdn;
}

/** A message body as @discordjs/rest sends it: JSON, or multipart with `payload_json` and `files[n]`. */
async function parseMessageBody(req: Request): Promise<{ json: Record<string, unknown>; files: CustomerFile[] }> {
  const raw = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
  const type = String(req.headers['content-type'] ?? '');
  if (!type.startsWith('multipart/form-data')) return { json: JSON.parse(raw.toString('utf8') || '{}') as Record<string, unknown>, files: [] };
  // Node's own fetch Request parses multipart, so the fake needs no dependency for it.
  const form = await new Request('http://fake.invalid/', { method: 'POST', headers: { 'content-type': type }, body: raw }).formData();
  const payload = form.get('payload_json');
  const json = typeof payload === 'string' ? (JSON.parse(payload) as Record<string, unknown>) : {};
  const files: CustomerFile[] = [];
  for (const [key, value] of form.entries()) {
    if (!key.startsWith('files[') || typeof value === 'string') continue;
    files.push({ data: Buffer.from(await value.arrayBuffer()), filename: value.name, contentType: value.type || 'application/octet-stream' });
  }
  return { json, files };
}

/** Discord's checks on a bot message that the connector's planning must respect. */
function validateMessage(
  json: Record<string, unknown>,
  files: CustomerFile[],
): { code: number; message: string; errors?: unknown } | undefined {
  const content = typeof json['content'] === 'string' ? json['content'] : '';
  const embeds = Array.isArray(json['embeds']) ? json['embeds'] : [];
  const rows = Array.isArray(json['components']) ? (json['components'] as Array<{ type?: number; components?: unknown[] }>) : [];
  if (content.length > MAX_CONTENT_LENGTH) {
    return { code: 50035, message: 'Invalid Form Body', errors: { content: { _errors: [{ code: 'BASE_TYPE_MAX_LENGTH', message: 'Must be 2000 or fewer in length.' }] } } };
  }
  if (!content && embeds.length === 0 && rows.length === 0 && files.length === 0) {
    return { code: 50006, message: 'Cannot send an empty message' };
  }
  if (typeof json['nonce'] === 'string' && json['nonce'].length > 25) return { code: 50035, message: 'Invalid Form Body' };
  if (embeds.length > 10 || rows.length > 5) return { code: 50035, message: 'Invalid Form Body' };
  const customIds = new Set<string>();
  for (const row of rows) {
    const buttons = (row.components ?? []) as Array<Record<string, unknown>>;
    if (row.type !== 1 || buttons.length < 1 || buttons.length > 5) return { code: 50035, message: 'Invalid Form Body' };
    for (const button of buttons) {
      const label = button['label'];
      if (button['type'] !== 2 || typeof label !== 'string' || label.length < 1 || label.length > 80) {
        return { code: 50035, message: 'Invalid Form Body' };
      }
      const customId = button['custom_id'];
      if (button['style'] === 5) {
        if (typeof button['url'] !== 'string' || customId !== undefined) return { code: 50035, message: 'Invalid Form Body' };
      } else if (typeof customId !== 'string' || customId.length < 1 || customId.length > 100 || customIds.has(customId)) {
        return { code: 50035, message: 'Invalid Form Body' };
      } else {
        customIds.add(customId);
      }
    }
  }
  return undefined;
}
