// A minimal Genesys for the benches: a token for anyone, a 200 with an id for every inbound call,
// in a few lines of node:http. The emulator (express, zod validation, every request recorded)
// costs the bench's shared CPU several times as much per message, and the bench would measure it
// instead of the host. Used by the relay bench's fakes process and, in-process, by the channel
// relay benches.
import { createServer } from 'node:http';

/** The text of a generated customer message: its sequence number and creation time travel in it. */
export const inboundText = (sequence, createdAt) => `bench-in ${sequence} ${createdAt}`;
const INBOUND_PATTERN = /^bench-in (\d+) (\d+)$/;

/** The sequence number and creation time of a generated customer message, or undefined for other text. */
export function parseInboundText(text) {
  const match = INBOUND_PATTERN.exec(text ?? '');
  return match ? { sequence: Number(match[1]), createdAt: Number(match[2]) } : undefined;
}

/**
 * A minimal Genesys: any token request gets a token, any inbound call a 200 with an id. Inbound
 * messages are handed to `onMessage` listeners (the probe, the lean inbound phase's arrival log).
 */
export async function startLeanGenesys() {
  const counts = { token: 0, message: 0, receipt: 0, event: 0, other: 0 };
  const messageWaiters = new Set();
  const messageListeners = new Set();
  let sequence = 0;
  const server = createServer((req, res) => {
    const chunks = [];
    req.on('data', (chunk) => chunks.push(chunk));
    req.on('end', () => {
      const reply = (status, body) => {
        const text = JSON.stringify(body);
        res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
        res.end(text);
      };
      if (req.url === '/oauth/token') {
        counts.token += 1;
        return reply(200, { access_token: `bench-token-${counts.token}`, token_type: 'bearer', expires_in: 86_400 });
      }
      const kind = /\/inbound\/open\/(message|receipt|event)/.exec(req.url ?? '')?.[1] ?? 'other';
      counts[kind] += 1;
      let body;
      try {
        body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
      } catch {
        return reply(400, { message: 'bad json' });
      }
      if (kind === 'message') {
        for (const listener of messageListeners) listener(body);
        for (const waiter of [...messageWaiters]) waiter(body);
      }
      const id = kind === 'receipt' ? body.id : `stub${String(++sequence).padStart(28, '0')}`;
      reply(200, { id, channel: body.channel, type: body.type, direction: kind === 'receipt' ? 'Outbound' : 'Inbound', conversationId: 'bench-conversation' });
    });
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${server.address().port}`,
    counts,
    /** Calls `listener(body)` for every inbound message from now on. */
    onMessage: (listener) => messageListeners.add(listener),
    /** Resolves with the first inbound message body matching `predicate`. */
    nextMessage(predicate, timeoutMs) {
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => {
          messageWaiters.delete(waiter);
          reject(new Error(`the Genesys stub saw no matching inbound message within ${timeoutMs} ms`));
        }, timeoutMs);
        const waiter = (body) => {
          if (!predicate(body)) return;
          clearTimeout(timer);
          messageWaiters.delete(waiter);
          resolve(body);
        };
        messageWaiters.add(waiter);
      });
    },
    close: () => new Promise((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    }),
  };
}

/**
 * The lean Genesys, plus `arrivals`: the sequence number of each generated customer message that
 * reached it → `[createdAt, receivedAt]` of the first copy; clear it between measurements.
 */
export async function startGenesysArrivalStub() {
  const stub = await startLeanGenesys();
  const arrivals = new Map();
  stub.onMessage((body) => {
    const generated = parseInboundText(body?.text);
    if (generated && !arrivals.has(generated.sequence)) arrivals.set(generated.sequence, [generated.createdAt, Date.now()]);
  });
  return { url: stub.url, arrivals, close: stub.close };
}
