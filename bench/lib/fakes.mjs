// The benchmark's fakes, in one child process pinned beside the load generator, driven by the
// parent over the IPC channel ({ id, method, params } → { id, result | error }).
//
// Two sets, chosen by BENCH_FAKES_CONFIG.kind:
// - `lean` (the default, what the measured figures use): a node:http stub of the reference
//   platform's Bot API (lean-platform.mjs) and a lean Genesys stub (lean-genesys.mjs). The reference fake
//   (express, zod, every message kept) and the emulator (express, zod validation, every request
//   recorded) cost several times the CPU per message, and here they share a core with the load
//   generator: the host's deliveries would wait on them, and the bench would measure the fakes.
//   The host and the bare baseline talk to the same stubs, so both pay the same.
// - `reference`: the reference platform fake and the Genesys emulator from @parley/testkit, for a
//   run that also checks the real fakes' protocol (slower: CPU 1 becomes the limit).
// BENCH_RECEIPTS=emulator sends the outbound phases' receipts to the emulator even with `reference`.
import { pathToFileURL } from 'node:url';
import path from 'node:path';
import { inboundText, parseInboundText, startLeanGenesys } from './lean-genesys.mjs';
import { startLeanPlatform } from './lean-platform.mjs';

const root = process.env.BENCH_ROOT;
const config = JSON.parse(process.env.BENCH_FAKES_CONFIG);
const lean = config.kind !== 'reference';

/** The platform, as the methods below use it: the same shape for the lean stub and the reference fake. */
let platform;
let emulator;
if (lean) {
  const stubPlatform = await startLeanPlatform({ token: config.token, holdSends: config.holdSends === true });
  platform = {
    url: stubPlatform.url,
    token: config.token,
    sentCount: () => stubPlatform.sentCount(),
    sendText: (chatId, text) => stubPlatform.sendText(chatId, text),
    close: () => stubPlatform.close(),
  };
} else {
  const { startReferencePlatform, startGenesysEmulator } = await import(
    pathToFileURL(path.join(root, 'packages/testkit/dist/index.js')).href
  );
  const reference = await startReferencePlatform({ token: config.token, maxPollSeconds: 50 });
  const customers = new Map(config.chats.map((chatId) => [chatId, reference.customer(chatId)]));
  platform = {
    url: reference.url,
    token: reference.token,
    sentCount: () => reference.sent().length,
    sendText: (chatId, text) => (customers.get(chatId) ?? reference.customer(chatId)).sendText(text),
    close: () => reference.close(),
  };
  emulator = await startGenesysEmulator({
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
}
const stub = await startLeanGenesys();


let inboundSequence = 0;

/**
 * Generated customer messages that reached the Genesys side, as `sequence → [createdAt,
 * receivedAt]` of the first copy, plus how many further copies came. With the lean fakes the stub
 * logs them as they arrive; with the reference fakes they are read from the emulator's records.
 */
const leanArrivals = { first: new Map(), duplicates: 0 };
if (lean) {
  stub.onMessage((body) => {
    const generated = parseInboundText(body?.text);
    if (!generated) return;
    if (leanArrivals.first.has(generated.sequence)) leanArrivals.duplicates += 1;
    else leanArrivals.first.set(generated.sequence, [generated.createdAt, Date.now()]);
  });
}

/** [createdAt, receivedAt] of each generated message from `first` to `last` that arrived; `duplicates` counts further copies. */
function collectArrivals(first, last) {
  const arrivals = [];
  arrivals.duplicates = 0;
  if (lean) {
    for (const [sequence, pair] of leanArrivals.first) if (sequence >= first && sequence <= last) arrivals.push(pair);
    arrivals.duplicates = leanArrivals.duplicates;
    return arrivals;
  }
  const seen = new Set();
  for (const record of emulator.inbound({ kind: 'message' })) {
    const generated = parseInboundText(record.body?.text);
    if (!generated) continue;
    const { sequence } = generated;
    if (sequence < first || sequence > last) continue;
    if (seen.has(sequence)) {
      arrivals.duplicates += 1;
      continue;
    }
    seen.add(sequence);
    arrivals.push([generated.createdAt, record.receivedAt]);
  }
  return arrivals;
}

const methods = {
  info: () => ({ kind: lean ? 'lean' : 'reference', platformUrl: platform.url, token: platform.token, emulatorUrl: emulator?.url, stubUrl: stub.url }),

  /** Bot messages the platform accepted so far (from any server). */
  sentCount: () => platform.sentCount(),

  stubCounts: () => ({ ...stub.counts }),

  /**
   * One customer message from `chatId`, and the `channel.from.id` it reached Genesys with: the
   * customer address the connector builds, which outbound webhooks must carry in `channel.to.id`.
   */
  async probeAddress({ chatId, genesys, timeoutMs }) {
    const text = `bench-probe ${chatId} ${Date.now()}`;
    const arrived = genesys === 'emulator' && emulator
      ? emulator.waitForInbound((record) => record.kind === 'message' && record.body?.text === text, timeoutMs).then((record) => record.body)
      : stub.nextMessage((body) => body?.text === text, timeoutMs);
    platform.sendText(chatId, text);
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
      platform.sendText(config.chats[index % config.chats.length], inboundText(sequence, Date.now()));
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
   * Waits until every generated message from `first` to `last` reached Genesys (or `timeoutMs`
   * passed), then returns arrival times and latencies (creation at the platform → arrival at the
   * Genesys side, one clock), and forgets them.
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
    const duplicates = arrivals.duplicates;
    let rejected = 0;
    if (lean) {
      leanArrivals.first.clear();
      leanArrivals.duplicates = 0;
    } else {
      rejected = emulator.inbound({ kind: 'message', includeRejected: true }).filter((record) => record.status >= 300).length;
      emulator.reset();
    }
    return { expected, arrived: arrivals.length, duplicates, rejected, arrivals: [...arrivals] };
  },

  async close() {
    await Promise.allSettled([platform.close(), emulator?.close(), stub.close()]);
    return true;
  },
};

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
