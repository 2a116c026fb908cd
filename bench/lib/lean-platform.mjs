// A lean stand-in for the reference chat platform (packages/testkit/src/reference/platform.ts), for
// the benchmark's measured paths only. It speaks the same Bot API on the wire, so the host's
// reference connector runs unchanged against it:
//   GET  /bot/updates?offset=N&timeout=S   long polling; confirms (drops) updates below N
//   POST /bot/messages                     counts the message and echoes it with a new id
//   POST /bot/typing                       200
// It does what the protocol needs and nothing more: node:http, no router, no validation, no record
// of every message (a count and the last id per chat). The reference fake (express, zod, every
// message kept for assertions) costs several times more CPU per message, and in the bench it shares
// a core with the load generator, so the host would end up waiting on the fake. The same stub
// serves the host and the bare baseline, so both pay the same.
import { createServer } from 'node:http';

/** Most updates one poll returns (Telegram's limit, as in the reference fake). */
const MAX_BATCH = 100;

/**
 * Starts the stub on 127.0.0.1 (a free port). `token` is the bot token every Bot API call must
 * carry as `Authorization: Bearer <token>` (else 401, like the reference fake). `holdSends` makes
 * it never answer `POST /bot/messages` (counted all the same): a host relaying to it only accepts,
 * which isolates the cost of accepting a webhook.
 */
export async function startLeanPlatform({ token, maxPollSeconds = 50, holdSends = false }) {
  const expectedAuth = `Bearer ${token}`;
  /** Updates not confirmed yet, in update_id order. */
  let updates = [];
  let nextUpdateId = 1;
  const messageIds = new Map();
  /** Long polls waiting for an update: called with no argument when one arrives. */
  const pollers = new Set();
  let sentCount = 0;
  let nextBotMessageId = 1;

  const reply = (res, status, text) => {
    res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
    res.end(text);
  };

  function confirm(offset) {
    if (updates.length > 0 && updates[0].update_id < offset) updates = updates.filter((update) => update.update_id >= offset);
  }

  function handleUpdates(req, res, url) {
    const offset = Number(url.searchParams.get('offset') ?? 0);
    const timeout = Math.min(maxPollSeconds, Number(url.searchParams.get('timeout') ?? 0));
    confirm(offset);
    const batch = () => JSON.stringify({ updates: updates.slice(0, MAX_BATCH) });
    if (updates.length > 0 || !(timeout > 0)) return reply(res, 200, batch());
    const answer = () => {
      clearTimeout(timer);
      pollers.delete(answer);
      if (!res.writableEnded && !res.destroyed) reply(res, 200, batch());
    };
    const timer = setTimeout(answer, timeout * 1000);
    pollers.add(answer);
    res.on('close', () => {
      clearTimeout(timer);
      pollers.delete(answer);
    });
  }

  const held = new Set();

  function handleSend(res, body) {
    if (holdSends) {
      sentCount += 1;
      held.add(res);
      res.on('close', () => held.delete(res));
      return;
    }
    let message;
    try {
      message = JSON.parse(body);
    } catch {
      return reply(res, 400, '{"error":"bad_request","description":"body is not JSON"}');
    }
    if (typeof message?.chatId !== 'string' || message.chatId === '') {
      return reply(res, 400, '{"error":"bad_request","description":"chatId is required"}');
    }
    sentCount += 1;
    const id = nextBotMessageId++;
    const echo = {
      message: { id, chatId: message.chatId, ...(message.text ? { text: message.text } : {}), buttons: [], date: Math.floor(Date.now() / 1000) },
    };
    reply(res, 200, JSON.stringify(echo));
  }

  const server = createServer((req, res) => {
    if (req.headers.authorization !== expectedAuth) {
      req.resume();
      return reply(res, 401, '{"error":"unauthorized"}');
    }
    const url = new URL(req.url ?? '/', 'http://stub');
    if (req.method === 'GET' && url.pathname === '/bot/updates') {
      req.resume();
      return handleUpdates(req, res, url);
    }
    const chunks = [];
    req.on('data', (chunk) => chunks.push(chunk));
    req.on('end', () => {
      if (req.method === 'POST' && url.pathname === '/bot/messages') return handleSend(res, Buffer.concat(chunks).toString('utf8'));
      if (req.method === 'POST' && url.pathname === '/bot/typing') return reply(res, 200, '{"ok":true}');
      reply(res, 404, '{"error":"not_found"}');
    });
  });
  server.keepAliveTimeout = 65_000;
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));

  return {
    url: `http://127.0.0.1:${server.address().port}`,
    token,
    /** Bot messages received so far. */
    sentCount: () => sentCount,
    /** A customer message from `chatId`, delivered to the bot's next (or waiting) long poll. */
    sendText(chatId, text) {
      const id = (messageIds.get(chatId) ?? 0) + 1;
      messageIds.set(chatId, id);
      updates.push({
        update_id: nextUpdateId++,
        message: { id, chat: { id: chatId }, from: { id: chatId, name: `Customer ${chatId}` }, text, date: Math.floor(Date.now() / 1000) },
      });
      for (const poller of [...pollers]) poller();
    },
    close: () =>
      new Promise((resolve) => {
        for (const poller of [...pollers]) poller();
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
