import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { defineConnector } from '../connector.js';
import { createLogger } from '../logger.js';
import { createSqliteStore, type SqliteStore } from '../store/sqlite/store.js';
import { SIGNATURE_HEADER, signGenesysBody } from '../webhook/signature.js';
import { createHttpApp, createRequestListener } from './http.js';
import { createMediaUrls } from './media.js';
import { createMetrics } from './metrics.js';
import { readRawBody } from './read-body.js';
import type { ConnectorSlot } from './slots.js';
import { createWebhookIntake } from './webhook-intake.js';

const SECRET = 'http-test-secret';
const LIMIT = 2048;

let dir: string;
let store: SqliteStore;
let server: Server;
let baseUrl: string;
let metrics: ReturnType<typeof createMetrics>;
/** The connector's customers it showed "typing…" to, in order. */
let typingShownTo: string[];
/** Every log line of the runtime, parsed. */
let logs: Array<Record<string, unknown>>;

const definition = defineConnector({
  name: 'http-test',
  optionsSchema: z.object({}),
  capabilities: {
    inbound: ['polling'],
    attachments: { inbound: false, outbound: false },
    typing: { inbound: false, outbound: true },
    quickReplies: false,
    cards: false,
    edits: false,
    readReceipts: false,
  },
  create: () => ({
    start: async () => {},
    stop: async () => {},
    send: async () => ({ platformMessageId: 'p-1' }),
  }),
});

/** How the server under test serves: the express app alone, or the listener in front of it. */
let serve: 'app' | 'listener' = 'listener';

beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'parley-http-'));
  store = createSqliteStore({ path: join(dir, 'parley.db') });
  logs = [];
  typingShownTo = [];
  const logger = createLogger({ level: 'debug', destination: { write: (line: string) => void logs.push(JSON.parse(line)) } });
  metrics = createMetrics();
  const slot: ConnectorSlot = {
    id: 'tg',
    integrationId: 'integration-1',
    webhookSecret: SECRET,
    definition,
    connector: {
      start: async () => {},
      stop: async () => {},
      send: async () => ({ platformMessageId: 'p-1' }),
      sendTyping: async (to) => void typingShownTo.push(to),
    },
    logger,
  };
  const slots = new Map([[slot.id, slot]]);
  const deps = {
    slots,
    intake: createWebhookIntake({ slots, toPlatform: store.queue('to-platform'), links: store.links, metrics, logger }),
    media: createMediaUrls({ secret: 'media-secret', publicUrl: 'http://localhost', ttlSeconds: 60 }),
    metrics,
    readiness: async () => ({ ready: true, store: { ready: true }, genesys: { ready: true }, connectors: {} }),
    bodyLimitBytes: LIMIT,
    logger,
  };
  const app = createHttpApp(deps);
  server = createServer(serve === 'app' ? app : createRequestListener(app, deps));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterEach(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
  await store.close();
  rmSync(dir, { recursive: true, force: true });
});

function agentMessage(id: string, text = 'Hello from the agent'): string {
  return JSON.stringify({
    id,
    channel: { platform: 'Open', type: 'Private', messageId: id, to: { id: 'tg:42' }, from: { id: 'agent' }, time: '2026-01-01T00:00:00.000Z' },
    type: 'Text',
    text,
    direction: 'Outbound',
  });
}

interface Sent {
  status: number;
  contentType: string | undefined;
  body: Record<string, unknown>;
}

/**
 * POSTs `body` to the Genesys webhook route. `chunked` sends it in pieces without a
 * content-length, as a streaming sender would; `headers` are added as given.
 */
function post(path: string, body: Buffer | string, headers: Record<string, string> = {}, chunked = false): Promise<Sent> {
  return new Promise((resolve, reject) => {
    const bytes = Buffer.from(body);
    const req = request(
      `${baseUrl}${path}`,
      {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...(chunked ? {} : { 'content-length': String(bytes.length) }), ...headers },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          resolve({ status: res.statusCode ?? 0, contentType: res.headers['content-type'], body: text ? (JSON.parse(text) as Record<string, unknown>) : {} });
        });
      },
    );
    req.on('error', reject);
    if (!chunked) return void req.end(bytes);
    // Pieces over several writes; the server may answer (413) before the last one.
    for (let offset = 0; offset < bytes.length; offset += 512) req.write(bytes.subarray(offset, offset + 512));
    req.end();
  });
}

const signed = (body: Buffer | string) => ({ [SIGNATURE_HEADER]: signGenesysBody(body, SECRET) });

// The same route twice: answered by the listener's fast path (what the host serves), and by the
// express app alone (what an embedder who mounts `parley.app` gets).
describe.each(['listener', 'app'] as const)('the Genesys webhook route (%s)', (mode) => {
  beforeAll(() => {
    serve = mode;
  });
  afterAll(() => {
    serve = 'listener';
  });

  it('answers a signed message 200 once it is queued, as JSON', async () => {
    const body = agentMessage('g-1');
    const answer = await post('/connectors/tg/genesys', body, signed(body));
    expect(answer).toEqual({ status: 200, contentType: 'application/json; charset=utf-8', body: { status: 'queued', id: 'g-1' } });
    expect((await store.queue('to-platform').counts()).pending).toBe(1);
  });

  it('reads a body sent in chunks without a content-length', async () => {
    const body = agentMessage('g-2', 'x'.repeat(1500));
    const answer = await post('/connectors/tg/genesys', body, signed(body), true);
    expect(answer.status).toBe(200);
    expect((await store.queue('to-platform').counts()).pending).toBe(1);
  });

  it('rejects a wrong signature with 401 and an unknown connector with 404, queueing nothing', async () => {
    const body = agentMessage('g-3');
    expect((await post('/connectors/tg/genesys', body, { [SIGNATURE_HEADER]: signGenesysBody(body, 'other') })).status).toBe(401);
    expect((await post('/connectors/tg/genesys', body)).status).toBe(401);
    const unknown = await post('/connectors/nope/genesys', body, signed(body));
    expect(unknown).toMatchObject({ status: 404, body: { error: 'Unknown connector "nope"' } });
    expect((await store.queue('to-platform').counts()).pending).toBe(0);
  });

  it('answers 413 to a body over the limit, declared or streamed, and queues nothing', async () => {
    const body = agentMessage('g-4', 'y'.repeat(LIMIT));
    expect(await post('/connectors/tg/genesys', body, signed(body))).toMatchObject({
      status: 413,
      body: { error: 'Body is over the size limit' },
    });
    expect((await post('/connectors/tg/genesys', body, signed(body), true)).status).toBe(413);
    // The connection is still good for the next webhook.
    const small = agentMessage('g-5');
    expect((await post('/connectors/tg/genesys', small, signed(small))).status).toBe(200);
    expect((await store.queue('to-platform').counts()).pending).toBe(1);
  });

  it('inflates a gzip body and verifies the signature over its bytes; refuses an unknown encoding with 415', async () => {
    const body = agentMessage('g-6');
    const gzipped = await post('/connectors/tg/genesys', gzipSync(body), { ...signed(body), 'content-encoding': 'gzip' });
    expect(gzipped).toMatchObject({ status: 200, body: { id: 'g-6' } });
    const unknown = await post('/connectors/tg/genesys', body, { ...signed(body), 'content-encoding': 'compress' });
    expect(unknown.status).toBe(415);
    // Over the limit once inflated, although the compressed bytes are small.
    const bomb = agentMessage('g-7', 'z'.repeat(10 * LIMIT));
    const inflated = await post('/connectors/tg/genesys', gzipSync(bomb), { ...signed(bomb), 'content-encoding': 'gzip' });
    expect(inflated.status).toBe(413);
    expect((await store.queue('to-platform').counts()).pending).toBe(1);
  });

  it('answers 400 to malformed JSON with a valid signature', async () => {
    const body = '{"id": "g-8", ';
    expect(await post('/connectors/tg/genesys', body, signed(body))).toMatchObject({ status: 400, body: { error: 'Body is not valid JSON' } });
  });

  it('takes a percent-encoded connector id and a query string, and leaves other methods to the app', async () => {
    const body = agentMessage('g-9');
    expect((await post('/connectors/%74g/genesys?from=genesys', body, signed(body))).status).toBe(200);
    const get = await fetch(`${baseUrl}/connectors/tg/genesys`);
    expect(get.status).toBe(404);
    expect((await store.queue('to-platform').counts()).pending).toBe(1);
  });
});

describe('the Genesys webhook route: receipts, events and unknown types', () => {
  const channel = (to?: string) => ({ platform: 'Open', type: 'Private', ...(to ? { to: { id: to } } : {}), time: '2026-01-01T00:00:00.000Z' });
  const send = (webhook: Record<string, unknown>) => {
    const body = JSON.stringify(webhook);
    return post('/connectors/tg/genesys', body, signed(body));
  };
  const webhookCount = async (type: string, outcome: string) =>
    (await metrics.webhooks.get()).values.find((v) => v.labels.type === type && v.labels.outcome === outcome)?.value ?? 0;

  it('shows a typing event to the customer, queueing nothing', async () => {
    const typing = { id: 't-1', channel: channel('tg:42'), type: 'Event', events: [{ eventType: 'Typing', typing: { type: 'On', duration: 5000 } }] };
    expect(await send(typing)).toMatchObject({ status: 200, body: { status: 'ok' } });
    expect(typingShownTo).toEqual(['tg:42']);
    expect(await webhookCount('Event', 'handled')).toBe(1);
    expect((await store.queue('to-platform').counts()).pending).toBe(0);
  });

  it('answers 200 to an event that names no customer, and logs it', async () => {
    const typing = { id: 't-2', channel: channel(), type: 'Event', events: [{ eventType: 'Typing' }] };
    expect(await send(typing)).toMatchObject({ status: 200, body: { status: 'ignored' } });
    for (const to of [7, '']) {
      expect(await send({ type: 'Event', channel: { to: { id: to } }, events: [{ eventType: 'Typing' }] })).toMatchObject({ status: 200 });
    }
    expect(typingShownTo).toEqual([]);
    expect(await webhookCount('Event', 'unroutable')).toBe(3);
    expect(logs.filter((line) => line.msg === 'Ignored a Genesys event that names no customer (channel.to.id)')).toHaveLength(3);
    expect((await store.queue('to-platform').counts()).pending).toBe(0);
  });

  it('records a receipt on the customer message it is about, queueing nothing', async () => {
    await store.links.record({ connectorId: 'tg', platformMessageId: 'p-7', genesysMessageId: 'g-7', direction: 'inbound' });
    const receipt = { id: 'g-7', channel: channel('tg:42'), type: 'Receipt', status: 'Failed', reasons: [{ code: 'GeneralError', message: 'no' }] };
    expect(await send(receipt)).toMatchObject({ status: 200, body: { status: 'ok' } });
    expect(await store.links.byGenesysId('tg', 'g-7')).toMatchObject({ platformMessageId: 'p-7', status: 'Failed' });
    expect(await webhookCount('Receipt', 'recorded')).toBe(1);
    expect(logs.some((line) => line.msg === 'Genesys reports a customer message as Failed' && line.genesysMessageId === 'g-7')).toBe(true);
    expect((await store.queue('to-platform').counts()).pending).toBe(0);
  });

  it('answers 200 to a receipt that names no message, and logs it', async () => {
    expect(await send({ type: 'Receipt', status: 'Delivered' })).toMatchObject({ status: 200, body: { status: 'ignored' } });
    expect(await webhookCount('Receipt', 'unroutable')).toBe(1);
    expect(logs.some((line) => line.msg === 'Ignored a Genesys receipt that names no message (id)' && line.status === 'Delivered')).toBe(true);
  });

  it('answers 200 to unknown types, with or without id, and logs them', async () => {
    expect(await send({ id: 'r-1', channel: channel('tg:42'), type: 'Reaction', text: 'thumbs up' })).toMatchObject({ status: 200, body: { status: 'ignored' } });
    expect(await send({ text: 'no type, no id' })).toMatchObject({ status: 200, body: { status: 'ignored' } });
    expect(await webhookCount('Reaction', 'ignored')).toBe(1);
    expect(await webhookCount('', 'ignored')).toBe(1);
    expect(logs.filter((line) => line.msg === 'Ignored a Genesys webhook of an unknown type').map((line) => line.type)).toEqual(['Reaction', '']);
    expect((await store.queue('to-platform').counts()).pending).toBe(0);
  });

  it('still answers 400 to a message that names no customer: it could not even get a Failed receipt', async () => {
    const message = { id: 'g-10', channel: channel(), type: 'Text', text: 'to nobody' };
    expect(await send(message)).toMatchObject({ status: 400, body: { error: 'channel.to.id: Required' } });
    expect(await webhookCount('unknown', 'bad_payload')).toBe(1);
    expect((await store.queue('to-platform').counts()).pending).toBe(0);
  });
});

describe('the request listener', () => {
  it('hands every other route to the app', async () => {
    const health = await fetch(`${baseUrl}/healthz`);
    expect({ status: health.status, body: await health.json() }).toEqual({ status: 200, body: { status: 'ok' } });
    const bad = await post('/connectors/%E0%A4%A/genesys', '{}');
    expect(bad.status).toBe(400);
  });
});

describe('readRawBody', () => {
  it('returns the exact bytes of a multi-byte body', async () => {
    const text = 'Grüße 👋 '.repeat(300);
    const received = new Promise<Buffer>((resolve, reject) => {
      server.removeAllListeners('request');
      server.on('request', (req, res) => {
        readRawBody(req, 1 << 20).then(resolve, reject).finally(() => res.end());
      });
    });
    await post('/anything', text, {}, true);
    expect((await received).toString('utf8')).toBe(text);
  });
});
