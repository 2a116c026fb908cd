#!/usr/bin/env node
// The relay benchmark with the Slack connector: the foundation's method (bench/README.md), with
// `@parley/connector-slack` in the host and the Slack fake as the platform.
//
//   node packages/slack/bench/relay.mjs [--quick]      (after `pnpm build`)
//
// Processes, on 127.0.0.1: the host (`parley start` from a generated parley.yaml), pinned to
// CPU 0 when `taskset` exists; this process, pinned to CPU 1: autocannon (the load), the Slack
// fake, and a lean Genesys stub (token and inbound endpoints answered with a minimal 200).
// Every phase starts a fresh host with an empty database.
//
// 1. Outbound, max: signed 1,024-byte Genesys webhooks to 1,000 Slack DM customers (closed loop,
//    50 connections) → host → to-platform queue → chat.postMessage → the fake. As Slack does,
//    the fake sends each app message back to the app as a `message` event (a signed POST to the
//    host in http mode), which the connector verifies and drops; `BENCH_SLACK_ECHO=0` turns that off.
// 2. Inbound, http and socket: customer DMs created at the fake (the creation time in the text)
//    at a fixed rate, then a burst → signed Events API POSTs (or Socket Mode envelopes) → host →
//    to-genesys queue → the stub. `msg/s` from the first creation to the last arrival.
// It prints a table; it is a measurement, not a test, and exits 0 unless something cannot run.
import { randomBytes } from 'node:crypto';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { CLOCK_TICKS, Children, canPin, cpuTicks, freePort, memoryMb, pinSelf } from '../../../bench/lib/proc.mjs';
import { loadTools, runLoad, webhookFactory } from '../../../bench/lib/load.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const quick = process.argv.includes('--quick');
const settings = {
  warmupSec: quick ? 1 : 3,
  runs: quick ? 1 : 3,
  durationSec: quick ? 3 : 10,
  connections: 50,
  customers: 1000,
  concurrency: 64,
  inboundRate: 1000,
  inboundCount: quick ? 2000 : 10_000,
  inboundBurst: quick ? 2000 : 10_000,
  inboundWaitSec: 30,
  echo: process.env.BENCH_SLACK_ECHO !== '0',
};
const { startSlackFake } = await import(pathToFileURL(path.join(root, 'packages/slack/dist/testing/index.js')).href);
const { customerIdOf } = await import(pathToFileURL(path.join(root, 'packages/slack/dist/index.js')).href);
/** `BENCH_PHASES=outbound,http` runs only those phases. */
const phases = (process.env.BENCH_PHASES ?? 'outbound,http,socket').split(',');
const tools = await loadTools(root);
const pin = canPin(os.cpus().length);
if (pin) pinSelf(1);
const workDir = path.join(root, 'bench/results', `slack-${new Date().toISOString().replace(/[:.]/g, '-')}`);
mkdirSync(workDir, { recursive: true });
const children = new Children();
const identity = {
  clientId: 'parley-bench',
  clientSecret: randomBytes(16).toString('hex'),
  integrationId: '8d9c2f4e-5b6a-4c3d-9e8f-0a1b2c3d4e5f',
  webhookSecret: randomBytes(24).toString('base64url'),
};
process.on('SIGINT', () => {
  children.killAllNow();
  process.exit(130);
});
const log = (message) => process.stderr.write(`[slack bench ${new Date().toISOString().slice(11, 19)}] ${message}\n`);

/** A minimal Genesys: tokens for anyone, 200 for every inbound call; records message arrivals. */
async function startGenesysStub() {
  const arrivals = new Map();
  let sequence = 0;
  const server = createServer((req, res) => {
    const chunks = [];
    req.on('data', (chunk) => chunks.push(chunk));
    req.on('end', () => {
      const reply = (body) => {
        const text = JSON.stringify(body);
        res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) }).end(text);
      };
      if (req.url === '/oauth/token') return reply({ access_token: `bench-${sequence}`, token_type: 'bearer', expires_in: 86_400 });
      let body = {};
      try {
        body = JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}');
      } catch {
        // not JSON: answered all the same
      }
      if (req.url.includes('/inbound/open/message')) {
        const match = /^bench-in (\d+) (\d+)$/.exec(body.text ?? '');
        if (match && !arrivals.has(match[2])) arrivals.set(match[2], [Number(match[1]), Date.now()]);
      }
      reply({ id: body.id ?? `stub${++sequence}`, channel: body.channel, conversationId: 'bench-conversation' });
    });
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${server.address().port}`, arrivals, close: () => new Promise((resolve) => { server.close(resolve); server.closeAllConnections(); }) };
}

/** The Slack fake of one phase: 1,000 people with a DM each, and the connector block pointing at it. */
async function startSlack(mode) {
  const slack = await startSlackFake({ mode, echoBotMessages: settings.echo });
  const customers = Array.from({ length: settings.customers }, (_, index) => {
    const user = slack.addUser({ name: `customer${index}` });
    return { user, dm: slack.openDm(user.id) };
  });
  const pending = new Set();
  return {
    slack,
    addresses: customers.map(({ dm }) => customerIdOf({ team: slack.team.id, channel: dm.id })),
    write(index, text) {
      const { user, dm } = customers[index % customers.length];
      // Not awaited: the offered rate is the bench's, not the app's acknowledgement pace.
      const posted = slack.post({ user: user.id, channel: dm.id, text });
      pending.add(posted);
      posted.finally(() => pending.delete(posted)).catch(() => undefined);
    },
    sentCount: () => slack.sent().length,
    connector: () => ({
      use: '@parley/connector-slack',
      options: {
        mode,
        botToken: slack.botToken,
        apiUrl: slack.apiUrl,
        ...(mode === 'http' ? { signingSecret: slack.signingSecret } : { appToken: slack.appToken }),
      },
    }),
    async close() {
      await Promise.allSettled([...pending]);
      await slack.close();
    },
  };
}

async function startHost({ label, platform, genesysUrl }) {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  // Slack's Request URL, set in the app's settings in real life.
  platform.slack.setRequestUrl(`${url}/connectors/bench/webhook`);
  const dbPath = path.join(workDir, `host-${label}.db`);
  const config = {
    server: { port, host: '127.0.0.1', publicUrl: url, shutdownGraceMs: 1000 },
    store: { url: `sqlite:${dbPath}` },
    genesys: { apiUrl: genesysUrl, loginUrl: genesysUrl, clientId: identity.clientId, clientSecret: identity.clientSecret, requestsPerMinute: 60_000_000 },
    connectors: {
      bench: { integrationId: identity.integrationId, webhookSecret: identity.webhookSecret, ...platform.connector() },
    },
    log: { level: 'warn' },
    queue: { concurrency: settings.concurrency },
  };
  const configPath = path.join(workDir, `parley-${label}.yaml`);
  writeFileSync(configPath, JSON.stringify(config, null, 2));
  const handle = children.start({
    name: `host (${label})`,
    args: [path.join(root, 'apps/host/dist/cli.js'), 'start', '--config', configPath],
    cpu: 0,
    pin,
    logFile: path.join(workDir, `host-${label}.log`),
  });
  for (const deadline = Date.now() + 60_000; ; await sleep(100)) {
    if (Date.now() > deadline) throw new Error(`host (${label}) was not ready in 60 s`);
    const ready = await fetch(`${url}/readyz`).then((response) => response.status === 200, () => false);
    if (ready) break;
  }
  return {
    webhookUrl: `${url}/connectors/bench/genesys`,
    pid: handle.pid,
    async backlog() {
      const text = await (await fetch(`${url}/metrics`)).text();
      let total = 0;
      for (const line of text.split('\n')) {
        if (line.startsWith('parley_queue_jobs{') && line.includes('queue="to-platform"') && /state="(pending|running)"/.test(line)) total += Number(line.split(' ').pop());
      }
      return total;
    },
    async stop() {
      await handle.stop();
      for (const suffix of ['', '-wal', '-shm']) rmSync(dbPath + suffix, { force: true });
    },
  };
}

async function outbound() {
  const platform = await startSlack('http');
  const stub = await startGenesysStub();
  const host = await startHost({ label: 'outbound', platform, genesysUrl: stub.url });
  try {
    const nextWebhook = webhookFactory({
      addresses: platform.addresses,
      integrationId: identity.integrationId,
      secret: identity.webhookSecret,
      signGenesysBody: tools.signGenesysBody,
    });
    const load = (durationSec) => runLoad({ autocannon: tools.autocannon, url: host.webhookUrl, nextWebhook, durationSec, connections: settings.connections });
    await load(settings.warmupSec);
    const runs = [];
    for (let index = 0; index < settings.runs; index++) {
      const [sentBefore, backlogBefore, cpuBefore, started] = [platform.sentCount(), await host.backlog(), cpuTicks(host.pid), performance.now()];
      const result = await load(settings.durationSec);
      const seconds = (performance.now() - started) / 1000;
      const [sentAfter, backlogAfter, cpuAfter] = [platform.sentCount(), await host.backlog(), cpuTicks(host.pid)];
      const run = {
        acceptedPerSec: result['2xx'] / seconds,
        deliveredPerSec: (sentAfter - sentBefore) / seconds,
        p50Ms: result.latency.p50,
        p99Ms: result.latency.p99,
        non2xx: result.non2xx,
        backlog: `${backlogBefore} → ${backlogAfter}`,
        cpuUsPerReq: ((cpuAfter - cpuBefore) * (1e6 / CLOCK_TICKS)) / Math.max(result['2xx'], 1),
      };
      log(`outbound run ${index + 1}: ${Math.round(run.acceptedPerSec)} accepted/s, ${Math.round(run.deliveredPerSec)} delivered/s, p99 ${run.p99Ms} ms, backlog ${run.backlog}`);
      runs.push(run);
    }
    return { runs, rssPeakMb: memoryMb(host.pid).peak };
  } finally {
    await host.stop();
    await stub.close();
    await platform.close();
  }
}

async function inbound(mode) {
  const platform = await startSlack(mode);
  const stub = await startGenesysStub();
  const host = await startHost({ label: `inbound-${mode}`, platform, genesysUrl: stub.url });
  let sequence = 0;
  const measure = async (label, count, ratePerSec) => {
    stub.arrivals.clear();
    const cpuBefore = cpuTicks(host.pid);
    const startedAt = Date.now();
    const first = sequence;
    for (let made = 0; made < count; made++) {
      const seq = sequence++;
      platform.write(seq, `bench-in ${Date.now()} ${seq}`);
      // Paced in slices of 10 ms: a fixed offered rate without a timer per message.
      if (ratePerSec && made % Math.max(1, ratePerSec / 100) === 0) {
        const due = startedAt + (made / ratePerSec) * 1000;
        if (due > Date.now()) await sleep(due - Date.now());
      }
    }
    const deadline = Date.now() + settings.inboundWaitSec * 1000;
    while (stub.arrivals.size < count && Date.now() < deadline) await sleep(20);
    const latencies = [...stub.arrivals.values()].map(([created, received]) => received - created).sort((a, b) => a - b);
    const lastArrival = Math.max(...[...stub.arrivals.values()].map(([, received]) => received));
    const row = {
      label,
      arrived: `${stub.arrivals.size}/${count}`,
      msgPerSec: stub.arrivals.size / Math.max((lastArrival - startedAt) / 1000, 0.001),
      p50Ms: latencies[Math.floor(latencies.length * 0.5)],
      p99Ms: latencies[Math.floor(latencies.length * 0.99)],
      cpuUsPerMsg: ((cpuTicks(host.pid) - cpuBefore) * (1e6 / CLOCK_TICKS)) / Math.max(stub.arrivals.size, 1),
    };
    log(`inbound ${mode} ${label}: ${row.arrived} arrived, ${Math.round(row.msgPerSec)} msg/s, p50 ${row.p50Ms} ms, p99 ${row.p99Ms} ms (first seq ${first})`);
    return row;
  };
  try {
    await measure('warm-up', 500, settings.inboundRate);
    const fixed = await measure(`@ ${settings.inboundRate}/s`, settings.inboundCount, settings.inboundRate);
    const burst = await measure(`burst of ${settings.inboundBurst}`, settings.inboundBurst, 0);
    return { fixed, burst, rssPeakMb: memoryMb(host.pid).peak };
  } finally {
    await host.stop();
    await stub.close();
    await platform.close();
  }
}

const fmt = (value) => (Number.isFinite(value) ? Math.round(value).toLocaleString('en-US') : 'n/a');
try {
  log(`pinning: ${pin ? 'host on CPU 0, load and fakes on CPU 1' : 'off (figures are not comparable with pinned runs)'}`);
  const out = phases.includes('outbound') ? await outbound() : undefined;
  const http = phases.includes('http') ? await inbound('http') : undefined;
  const socket = phases.includes('socket') ? await inbound('socket') : undefined;
  const median = out && [...out.runs].sort((a, b) => a.acceptedPerSec - b.acceptedPerSec)[Math.floor(out.runs.length / 2)];
  const lines = [
    '',
    `slack connector relay (host on one core${settings.echo ? '' : ', echo of app messages off'})`,
    median && `outbound max (median of ${out.runs.length}): ${fmt(median.acceptedPerSec)} accepted/s, ${fmt(median.deliveredPerSec)} delivered/s, p50 ${median.p50Ms} ms, p99 ${median.p99Ms} ms, backlog ${median.backlog}, ${fmt(median.cpuUsPerReq)} µs CPU/req, RSS peak ${fmt(out.rssPeakMb)} MB`,
    ...[['http', http], ['socket', socket]].filter(([, result]) => result).flatMap(([mode, result]) =>
      [result.fixed, result.burst].map(
        (row) => `inbound ${mode} ${row.label}: ${row.arrived} arrived, ${fmt(row.msgPerSec)} msg/s, p50 ${fmt(row.p50Ms)} ms, p99 ${fmt(row.p99Ms)} ms, ${fmt(row.cpuUsPerMsg)} µs CPU/msg`,
      ),
    ),
  ];
  process.stdout.write(`${lines.filter(Boolean).join('\n')}\n`);
  writeFileSync(path.join(workDir, 'result.json'), JSON.stringify({ settings, pinned: pin, outbound: out, inbound: { http, socket } }, null, 2));
} catch (error) {
  process.stderr.write(`${error.stack ?? error}\n`);
  process.exitCode = 1;
} finally {
  await children.killAll();
}
