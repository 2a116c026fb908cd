// The benchmark's fakes, in one child process pinned beside the load generator: the reference chat
// platform, the Genesys Open Messaging emulator, and a lean Genesys stub. The parent drives them
// over the IPC channel ({ id, method, params } → { id, result | error }).
//
// Why a lean stub besides the emulator: in the outbound phases the host sends one Delivered
// receipt to Genesys per message. The emulator routes, validates and records every request
// (express, zod, an in-memory log), which would load the fakes' core (shared with the load
// generator), and a real Genesys would not take thousands of receipts a second anyway. The stub
// answers the token and inbound endpoints with a minimal 200 so the fakes' core stays available
// and the figures are about Parley. The inbound phase uses the real emulator
// (BENCH_RECEIPTS=emulator uses it everywhere).
import { createServer } from 'node:http';
import { pathToFileURL } from 'node:url';
import path from 'node:path';

const root = process.env.BENCH_ROOT;
const { startReferencePlatform, startGenesysEmulator } = await import(
  pathToFileURL(path.join(root, 'packages/testkit/dist/index.js')).href
);

const config = JSON.parse(process.env.BENCH_FAKES_CONFIG);
const platform = await startReferencePlatform({ token: config.token, maxPollSeconds: 50 });
const customers = config.chats.map((chatId) => platform.customer(chatId));
const emulator = await startGenesysEmulator({
  clients: [{ clientId: config.clientId, clientSecret: config.clientSecret }],
  autoReply: false,
});
emulator.addIntegration({
  id: config.integrationId,
  name: 'Parley bench',
  // The bench never makes the emulator's agent write, so this URL is never called.
  webhookUrl: 'http://127.0.0.1:9/unused',
  webhookSecret: config.webhookSecret,
});
const stub = await startGenesysStub();

/** A minimal Genesys: any token request gets a token, any inbound call a 200 with an id. */
async function startGenesysStub() {
  const counts = { token: 0, message: 0, receipt: 0, event: 0, other: 0 };
  const messageWaiters = new Set();
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
      if (kind === 'message') for (const waiter of messageWaiters) waiter(body);
      const id = kind === 'receipt' ? body.id : `stub${String(++sequence).padStart(28, '0')}`;
      reply(200, { id, channel: body.channel, type: body.type, direction: kind === 'receipt' ? 'Outbound' : 'Inbound', conversationId: 'bench-conversation' });
    });
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${server.address().port}`,
    counts,
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

/** The text of a generated customer message: the fake-side creation time travels inside it. */
const inboundText = (sequence, createdAt) => `bench-in ${sequence} ${createdAt}`;
const INBOUND_PATTERN = /^bench-in (\d+) (\d+)$/;

let inboundSequence = 0;

const methods = {
  info: () => ({ platformUrl: platform.url, token: platform.token, emulatorUrl: emulator.url, stubUrl: stub.url }),

  /** Bot messages the platform accepted so far (from any server). */
  sentCount: () => platform.sent().length,

  stubCounts: () => ({ ...stub.counts }),

  /**
   * One customer message from `chatId`, and the `channel.from.id` it reached Genesys with: the
   * customer address the connector builds, which outbound webhooks must carry in `channel.to.id`.
   */
  async probeAddress({ chatId, genesys, timeoutMs }) {
    const text = `bench-probe ${chatId} ${Date.now()}`;
    const arrived = genesys === 'emulator'
      ? emulator.waitForInbound((record) => record.kind === 'message' && record.body?.text === text, timeoutMs).then((record) => record.body)
      : stub.nextMessage((body) => body?.text === text, timeoutMs);
    platform.customer(chatId).sendText(text);
    const body = await arrived;
    return { customerId: body.channel?.from?.id, body };
  },

  /**
   * Customer messages at `ratePerSec` (round robin over the chats) until `count` were created;
   * `ratePerSec: 0` creates them all at once (a burst). Resolves when the last one is created.
   */
  async generateInbound({ count, ratePerSec }) {
    const first = inboundSequence + 1;
    const createOne = (index) => {
      const sequence = ++inboundSequence;
      customers[index % customers.length].sendText(inboundText(sequence, Date.now()));
    };
    const startedAt = Date.now();
    if (!ratePerSec) {
      for (let index = 0; index < count; index++) createOne(index);
    } else {
      // Catch up on a 5 ms tick rather than sleeping per message: timers are coarse.
      let created = 0;
      await new Promise((resolve) => {
        const tick = setInterval(() => {
          const due = Math.min(count, Math.floor(((Date.now() - startedAt) * ratePerSec) / 1000));
          while (created < due) createOne(created++);
          if (created >= count) {
            clearInterval(tick);
            resolve();
          }
        }, 5);
      });
    }
    return { first, last: inboundSequence, startedAt, endedAt: Date.now() };
  },

  /**
   * Waits until every generated message from `first` to `last` reached the emulator (or
   * `timeoutMs` passed), then returns arrival times and latencies (creation at the platform fake
   * → arrival at the emulator, one clock), and clears the emulator's records.
   */
  async inboundArrivals({ first, last, timeoutMs }) {
    const expected = last - first + 1;
    const deadline = Date.now() + timeoutMs;
    let arrivals = [];
    for (;;) {
      arrivals = collectArrivals(first, last);
      if (arrivals.length >= expected || Date.now() > deadline) break;
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    const rejected = emulator.inbound({ kind: 'message', includeRejected: true }).filter((record) => record.status >= 300).length;
    const duplicates = arrivals.duplicates;
    emulator.reset();
    return { expected, arrived: arrivals.length, duplicates, rejected, arrivals: [...arrivals] };
  },

  async close() {
    await Promise.allSettled([platform.close(), emulator.close(), stub.close()]);
    return true;
  },
};

/**
 * [createdAt, receivedAt] of each generated message that reached the emulator, first copy only;
 * `duplicates` counts the further copies.
 */
function collectArrivals(first, last) {
  const seen = new Set();
  const arrivals = [];
  arrivals.duplicates = 0;
  for (const record of emulator.inbound({ kind: 'message' })) {
    const match = INBOUND_PATTERN.exec(record.body?.text ?? '');
    if (!match) continue;
    const sequence = Number(match[1]);
    if (sequence < first || sequence > last) continue;
    if (seen.has(sequence)) {
      arrivals.duplicates += 1;
      continue;
    }
    seen.add(sequence);
    arrivals.push([Number(match[2]), record.receivedAt]);
  }
  return arrivals;
}

process.on('message', async ({ id, method, params }) => {
  try {
    const result = await methods[method](params ?? {});
    process.send({ id, result });
  } catch (error) {
    process.send({ id, error: error instanceof Error ? `${error.message}` : String(error) });
  }
});
// The parent went away (finished or crashed): nothing left to serve.
process.on('disconnect', () => process.exit(0));
process.send({ ready: true });
