#!/usr/bin/env node
// Store throughput: how many durable enqueues, and how many jobs a worker completes, per second on
// this disk, with the SQLite store as Parley runs it (WAL, synchronous=FULL). A measurement, not a
// test: it prints figures and exits 0; it exits 1 only when something could not run.
//
// Build first, then run from anywhere:
//   (cd packages/core && npx tsc -p tsconfig.build.json) && node packages/core/bench/store-throughput.mjs
//
// Phases, each on a fresh database file:
//   1. enqueue:          BENCH_JOBS jobs over BENCH_CONVERSATIONS conversations, BENCH_WAVE calls
//                        per event-loop turn (as webhooks parsed in one turn would), each wave awaited
//   2. work, no-op:      a worker (BENCH_CONCURRENCY) drains the queue with a handler that returns
//   3. work, 1 ms timer: the same with a handler that awaits a 1 ms timer (a stand-in for I/O)
//
// Knobs (environment): BENCH_JOBS (20000), BENCH_CONVERSATIONS (200), BENCH_CONCURRENCY (32),
// BENCH_WAVE (100), BENCH_DIR (a new temp dir, removed afterwards), BENCH_CORE_DIST (../dist).
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath, pathToFileURL } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const settings = {
  jobs: num('BENCH_JOBS', 20_000),
  conversations: num('BENCH_CONVERSATIONS', 200),
  concurrency: num('BENCH_CONCURRENCY', 32),
  wave: num('BENCH_WAVE', 100),
  dist: path.resolve(process.env.BENCH_CORE_DIST ?? path.join(here, '..', 'dist')),
};
const DRAIN_TIMEOUT_MS = 10 * 60_000;

// The store's own entry point, not the package root: the bench measures the store alone and should
// not depend on whether the rest of core (runtime, connectors) builds at the moment.
const { createSqliteStore } = await import(pathToFileURL(path.join(settings.dist, 'store', 'index.js')).href);

const workDir = process.env.BENCH_DIR ?? mkdtempSync(path.join(os.tmpdir(), 'parley-store-bench-'));
let fileNumber = 0;

try {
  log(`store throughput: ${settings.jobs} jobs, ${settings.conversations} conversations, worker concurrency ${settings.concurrency}, ${settings.wave} enqueues per turn`);
  log(`node ${process.version}, ${os.cpus().length} CPUs, database in ${workDir}, core from ${settings.dist}`);
  const rows = [];

  {
    const store = openFreshStore();
    const enqueue = await enqueueAll(store);
    rows.push({ phase: 'enqueue', count: settings.jobs, ...enqueue });
    const drained = await drain(store, async () => {});
    rows.push({ phase: 'work, no-op handler', count: settings.jobs, ...drained });
    await store.close();
  }
  {
    const store = openFreshStore();
    await enqueueAll(store);
    const drained = await drain(store, () => sleep(1));
    rows.push({ phase: 'work, 1 ms timer handler', count: settings.jobs, ...drained });
    await store.close();
  }

  printTable(rows);
} catch (error) {
  console.error(error);
  process.exitCode = 1;
} finally {
  if (!process.env.BENCH_DIR) rmSync(workDir, { recursive: true, force: true });
}

function openFreshStore() {
  fileNumber += 1;
  return createSqliteStore({ path: path.join(workDir, `bench-${fileNumber}.db`) });
}

/** Enqueues every job in waves of `wave` concurrent calls; returns the rate and commit counts. */
async function enqueueAll(store) {
  const queue = store.queue('to-platform');
  const before = commitCounts(store);
  const started = performance.now();
  for (let first = 0; first < settings.jobs; first += settings.wave) {
    const wave = [];
    for (let index = first; index < Math.min(first + settings.wave, settings.jobs); index += 1) {
      wave.push(
        queue.enqueue({
          connectorId: 'bench',
          conversationKey: `conv-${index % settings.conversations}`,
          dedupeKey: `job-${index}`,
          kind: 'message',
          payload: { text: `message ${index}`, index },
        }),
      );
    }
    await Promise.all(wave);
  }
  const seconds = (performance.now() - started) / 1000;
  return { seconds, perSecond: settings.jobs / seconds, ...commitDelta(before, commitCounts(store)) };
}

/** Runs a worker until every pending job is done; returns the rate and commit counts. */
async function drain(store, handle) {
  const queue = store.queue('to-platform');
  const total = (await queue.counts()).pending;
  let handled = 0;
  const before = commitCounts(store);
  const started = performance.now();
  const worker = queue.work(
    async (job) => {
      await handle(job);
      handled += 1;
    },
    { concurrency: settings.concurrency },
  );
  worker.start();
  const deadline = Date.now() + DRAIN_TIMEOUT_MS;
  // Counting in the handler is free; only near the end is the table asked whether all are recorded.
  for (;;) {
    if (handled >= total && (await queue.counts()).done >= total) break;
    if (Date.now() > deadline) throw new Error(`Only ${handled} of ${total} jobs done after ${DRAIN_TIMEOUT_MS} ms`);
    await sleep(handled >= total ? 1 : 20);
  }
  const seconds = (performance.now() - started) / 1000;
  await worker.stop(1_000);
  return { seconds, perSecond: total / seconds, ...commitDelta(before, commitCounts(store)) };
}

/** Commits so far; `commits` is undefined on a store that only counted enqueue commits. */
function commitCounts(store) {
  const stats = store.stats();
  return { commits: stats.commits, enqueueCommits: stats.enqueueCommits };
}

function commitDelta(before, after) {
  return {
    commits: after.commits === undefined ? undefined : after.commits - before.commits,
    enqueueCommits: after.enqueueCommits - before.enqueueCommits,
  };
}

function printTable(rows) {
  const header = ['phase', 'jobs', 'seconds', 'jobs/s', 'commits', 'jobs/commit', 'enqueue commits'];
  const lines = rows.map((row) => [
    row.phase,
    String(row.count),
    row.seconds.toFixed(2),
    Math.round(row.perSecond).toLocaleString('en-US'),
    row.commits === undefined ? 'n/a' : String(row.commits),
    row.commits ? (row.count / row.commits).toFixed(1) : 'n/a',
    String(row.enqueueCommits),
  ]);
  const widths = header.map((title, column) => Math.max(title.length, ...lines.map((line) => line[column].length)));
  const format = (cells) => cells.map((cell, column) => (column === 0 ? cell.padEnd(widths[column]) : cell.padStart(widths[column]))).join('  ');
  console.log(format(header));
  console.log(widths.map((width) => '-'.repeat(width)).join('  '));
  for (const line of lines) console.log(format(line));
}

function num(name, fallback) {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value) || value <= 0) throw new Error(`${name} must be a positive number, got "${raw}"`);
  return Math.floor(value);
}

function log(line) {
  console.error(line);
}
