#!/usr/bin/env node
// The store's share of one relayed agent message, without HTTP: what the outbound relay asks of
// the SQLite store per message, at a fixed offered rate, and the CPU it costs. A measurement, not
// a test: it prints figures and exits 0 (1 only when something could not run).
//
// Per message, as the runtime does it (runtime/webhook-intake.ts, runtime/pipelines.ts):
//   enqueue to-platform (1 KB payload) → worker claims → handler "sends" (a resolved promise after
//   a macrotask, standing in for the platform call) → complete with the link and the receipt job
//   (the handler's follow-up) → to-genesys worker claims the receipt → handler → complete.
// Figures: CPU µs per message (process.cpuUsage: user + system, all threads), commits per message,
// and how far delivery kept up (backlog left when the offered load stops).
//
// Build first, then run pinned to one core like the host in bench/relay.mjs:
//   (cd packages/core && npx tsc -p tsconfig.build.json) && taskset -c 0 node packages/core/bench/relay-store.mjs
// Knobs: BENCH_RATE (messages/s offered, 2000), BENCH_SECONDS (10), BENCH_CONVERSATIONS (1000),
// BENCH_CONCURRENCY (64), BENCH_DIR (a temp dir, removed afterwards), BENCH_CORE_DIST (../dist).
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath, pathToFileURL } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const settings = {
  rate: num('BENCH_RATE', 2000),
  seconds: num('BENCH_SECONDS', 10),
  conversations: num('BENCH_CONVERSATIONS', 1000),
  concurrency: num('BENCH_CONCURRENCY', 64),
  dist: path.resolve(process.env.BENCH_CORE_DIST ?? path.join(here, '..', 'dist')),
};
const { createSqliteStore } = await import(pathToFileURL(path.join(settings.dist, 'store', 'index.js')).href);

const workDir = process.env.BENCH_DIR ?? mkdtempSync(path.join(os.tmpdir(), 'parley-relay-store-'));
const text = `Agent reply. ${'a'.repeat(700)}`;
const nonce = Math.random().toString(16).slice(2, 10);

try {
  const store = createSqliteStore({ path: path.join(workDir, 'relay.db') });
  const toPlatform = store.queue('to-platform');
  const toGenesys = store.queue('to-genesys');
  let delivered = 0;
  let receipts = 0;
  const platformWorker = toPlatform.work(
    async (job) => {
      // The platform call: answered on a later turn, like a socket read.
      await new Promise((resolve) => setImmediate(resolve));
      const message = job.payload;
      delivered += 1;
      // Recorded with the job's completion, as runtime/pipelines.ts does: one write, one commit.
      return {
        links: [
          {
            connectorId: 'bench',
            platformMessageId: `${message.to}:${job.id}`,
            genesysMessageId: message.id,
            direction: 'outbound',
            status: 'Delivered',
          },
        ],
        enqueue: [
          {
            queue: 'to-genesys',
            job: {
              connectorId: 'bench',
              conversationKey: job.conversationKey,
              dedupeKey: `receipt:bench:${String(job.id).padStart(12, '0')}`,
              kind: 'receipt',
              payload: { genesysMessageId: message.id, customerId: message.to, time: new Date().toISOString() },
            },
          },
        ],
      };
    },
    { concurrency: settings.concurrency },
  );
  const genesysWorker = toGenesys.work(
    async () => {
      await new Promise((resolve) => setImmediate(resolve));
      receipts += 1;
    },
    { concurrency: settings.concurrency },
  );
  platformWorker.start();
  genesysWorker.start();

  let offered = 0;
  const enqueueOne = () => {
    offered += 1;
    const id = `${nonce}${offered.toString(16).padStart(24, '0')}`;
    const to = `ref:b${String(offered % settings.conversations).padStart(5, '0')}`;
    return toPlatform.enqueue({
      connectorId: 'bench',
      conversationKey: `bench:${to}`,
      dedupeKey: `bench:${id}`,
      kind: 'message',
      payload: { id, to, text, attachments: [], quickReplies: [], cards: [], conversationId: 'c', time: new Date().toISOString() },
    });
  };

  const statsBefore = store.stats();
  const cpuBefore = process.cpuUsage();
  const started = performance.now();
  // Offered load on a 1 ms tick, catching up to the rate (timers are coarse).
  let accepted = 0;
  await new Promise((resolve) => {
    const tick = setInterval(() => {
      const due = Math.min(settings.rate * settings.seconds, Math.floor(((performance.now() - started) * settings.rate) / 1000));
      while (offered < due) enqueueOne().then(() => (accepted += 1));
      if (offered >= settings.rate * settings.seconds) {
        clearInterval(tick);
        resolve();
      }
    }, 1);
  });
  const loadSeconds = (performance.now() - started) / 1000;
  const cpuAtEnd = process.cpuUsage(cpuBefore);
  const deliveredAtEnd = delivered;
  // Then let the backlog drain (bounded), to count the work of every message.
  const deadline = Date.now() + 60_000;
  while (receipts < offered && Date.now() < deadline) await sleep(20);
  const drainedSeconds = (performance.now() - started) / 1000;
  const cpu = process.cpuUsage(cpuBefore);
  const stats = store.stats();
  await platformWorker.stop(1000);
  await genesysWorker.stop(1000);
  await store.close();

  const commits = stats.commits - statsBefore.commits;
  const writes = stats.writes - statsBefore.writes;
  const row = {
    offeredPerSec: Math.round(offered / loadSeconds),
    acceptedPerSec: Math.round(accepted / loadSeconds),
    deliveredPerSecDuringLoad: Math.round(deliveredAtEnd / loadSeconds),
    backlogAtEnd: offered - deliveredAtEnd,
    cpuPctDuringLoad: Math.round((100 * (cpuAtEnd.user + cpuAtEnd.system)) / 1e6 / loadSeconds),
    cpuUsPerMessage: Math.round((cpu.user + cpu.system) / Math.max(1, receipts)),
    systemUsPerMessage: Math.round(cpu.system / Math.max(1, receipts)),
    commitsPerSec: Math.round(commits / drainedSeconds),
    messagesPerCommit: Number((receipts / Math.max(1, commits)).toFixed(1)),
    writesPerMessage: Number((writes / Math.max(1, receipts)).toFixed(1)),
    receipts,
  };
  console.log(JSON.stringify(row));
} catch (error) {
  console.error(error);
  process.exitCode = 1;
} finally {
  if (!process.env.BENCH_DIR) rmSync(workDir, { recursive: true, force: true });
}

function num(name, fallback) {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value) || value <= 0) throw new Error(`${name} must be a positive number, got "${raw}"`);
  return Math.floor(value);
}
