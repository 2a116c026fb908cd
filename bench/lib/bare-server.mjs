// The bare baseline: the least an express 5 relay must do, to compare Parley against in the same
// run. Verify X-Hub-Signature-256 over the raw bytes; insert the raw body into SQLite (WAL,
// synchronous=FULL) with group commit (one transaction per event-loop turn); answer 200 after the
// commit; relay to the platform fake with undici, at most BARE_INFLIGHT at once, and mark rows
// delivered in batched transactions. A 20 ms poller picks up rows that found no free slot.
// This is the "express, group commit FULL, bounded" design of research/perf-reliability.md §4.6.
//
// Environment: BENCH_ROOT, BARE_SECRET, BARE_DB, PLATFORM_URL, PLATFORM_TOKEN,
// ADDRESS_TEMPLATE (the customer address with "{chat}" where the chat id goes), BARE_INFLIGHT.
// Prints {"msg":"bare ready","url":...} when listening on 127.0.0.1.
import { createHmac, timingSafeEqual } from 'node:crypto';
import { rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';

// express, better-sqlite3 and undici are @parley/core's dependencies; pnpm does not hoist them.
const require = createRequire(path.join(process.env.BENCH_ROOT, 'packages/core/package.json'));
const express = require('express');
const Database = require('better-sqlite3');
const { Pool } = require('undici');

const SECRET = process.env.BARE_SECRET;
const DB_PATH = process.env.BARE_DB;
const INFLIGHT = Number(process.env.BARE_INFLIGHT ?? 64);
const PLATFORM_TOKEN = process.env.PLATFORM_TOKEN;
const [addressPrefix, addressSuffix] = process.env.ADDRESS_TEMPLATE.split('{chat}');

function verify(raw, header) {
  if (typeof header !== 'string') return false;
  const expected = Buffer.from(`sha256=${createHmac('sha256', SECRET).update(raw).digest('base64')}`);
  const received = Buffer.from(header);
  return received.length === expected.length && timingSafeEqual(received, expected);
}

function chatOf(address) {
  return address.slice(addressPrefix.length, address.length - addressSuffix.length);
}

for (const suffix of ['', '-wal', '-shm']) rmSync(DB_PATH + suffix, { force: true });
const db = new Database(DB_PATH);
db.pragma('journal_mode = WAL');
db.pragma('synchronous = FULL');
db.exec(`CREATE TABLE inbox (msg_id TEXT PRIMARY KEY, received_at INTEGER NOT NULL, body TEXT NOT NULL, delivered_at INTEGER)`);
db.exec('CREATE INDEX inbox_pending ON inbox (received_at) WHERE delivered_at IS NULL');
const insert = db.prepare('INSERT OR IGNORE INTO inbox (msg_id, received_at, body) VALUES (?, ?, ?)');
const markDelivered = db.prepare('UPDATE inbox SET delivered_at = ? WHERE msg_id = ?');
const pendingRows = db.prepare('SELECT msg_id, body FROM inbox WHERE delivered_at IS NULL ORDER BY received_at LIMIT ?');
const countRows = db.prepare('SELECT count(*) AS rows, count(delivered_at) AS delivered FROM inbox');

const pool = new Pool(process.env.PLATFORM_URL, { connections: INFLIGHT });
const stats = { delivered: 0, failed: 0, commits: 0, rowsCommitted: 0 };
const inflight = new Set();

// Group commit: requests parsed in one event-loop turn share one transaction (one fsync).
let waiting = [];
let flushScheduled = false;
const insertBatch = db.transaction((rows) => rows.map((row) => insert.run(row.id, row.receivedAt, row.raw).changes));
function flushInserts() {
  const batch = waiting;
  waiting = [];
  flushScheduled = false;
  const changes = insertBatch(batch);
  stats.commits += 1;
  stats.rowsCommitted += batch.length;
  batch.forEach((row, index) => {
    row.answer();
    if (changes[index] === 1 && inflight.size < INFLIGHT) deliver(row.id, row.message);
  });
}

let delivered = [];
let markScheduled = false;
const markBatch = db.transaction((ids) => {
  const now = Date.now();
  for (const id of ids) markDelivered.run(now, id);
});
function flushMarks() {
  const ids = delivered;
  delivered = [];
  markScheduled = false;
  markBatch(ids);
}

function deliver(id, message) {
  inflight.add(id);
  pool
    .request({
      path: '/bot/messages',
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${PLATFORM_TOKEN}` },
      body: JSON.stringify({ chatId: chatOf(message.channel.to.id), text: message.text }),
    })
    .then(async ({ statusCode, body }) => {
      await body.text();
      if (statusCode !== 200) throw new Error(`platform answered ${statusCode}`);
      stats.delivered += 1;
      delivered.push(id);
      if (!markScheduled) {
        markScheduled = true;
        setImmediate(flushMarks);
      }
    })
    .catch(() => {
      stats.failed += 1;
    })
    .finally(() => inflight.delete(id));
}

setInterval(() => {
  const free = INFLIGHT - inflight.size;
  if (free <= 0) return;
  for (const row of pendingRows.all(free + inflight.size)) {
    if (inflight.size >= INFLIGHT) break;
    if (!inflight.has(row.msg_id)) deliver(row.msg_id, JSON.parse(row.body));
  }
}, 20).unref();

const app = express();
app.disable('x-powered-by');
app.disable('etag');
app.post('/connectors/:id/genesys', express.raw({ type: 'application/json', limit: '1mb' }), (req, res) => {
  if (!verify(req.body, req.get('x-hub-signature-256'))) return void res.status(401).json({ error: 'bad signature' });
  let message;
  try {
    message = JSON.parse(req.body.toString('utf8'));
  } catch {
    return void res.status(400).json({ error: 'bad json' });
  }
  waiting.push({
    id: message.id,
    receivedAt: Date.now(),
    raw: req.body.toString('utf8'),
    message,
    answer: () => res.status(200).json({ status: 'queued', id: message.id }),
  });
  if (!flushScheduled) {
    flushScheduled = true;
    setImmediate(flushInserts);
  }
});
app.get('/stats', (_req, res) => {
  const { rows, delivered: deliveredRows } = countRows.get();
  res.json({ rows, deliveredRows, backlog: rows - deliveredRows, inflight: inflight.size, ...stats });
});

const server = app.listen(0, '127.0.0.1', () => {
  console.log(JSON.stringify({ msg: 'bare ready', url: `http://127.0.0.1:${server.address().port}` }));
});
server.keepAliveTimeout = 65_000;

process.on('SIGTERM', () => {
  server.close();
  server.closeAllConnections();
  pool.close().finally(() => {
    db.close();
    process.exit(0);
  });
});
