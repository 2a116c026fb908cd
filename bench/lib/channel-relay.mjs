// The relay benchmark with one channel connector in the host: the foundation's method
// (bench/README.md) around a channel plug-in, which each packages/<channel>/bench/relay.mjs is.
//
// Processes, on 127.0.0.1: the host (`parley start` from a generated parley.yaml), pinned to
// CPU 0 when `taskset` exists; this process, pinned to CPU 1: autocannon (the load), the channel's
// fake (from the package's `/testing` export), and a lean Genesys stub (token and inbound
// endpoints answered with a minimal 200). Every phase starts a fresh host with an empty database.
//
// 1. Outbound, max: signed 1,024-byte Genesys webhooks to 1,000 customers of the channel (closed
//    loop, 50 connections) → host → to-platform queue → the connector → the fake. `accepted/s`
//    is 2xx answers per second, `delivered/s` what the fake received per second.
// 2. Inbound, one phase per mode of the channel: customer messages created at the fake (the
//    creation time in the text) at a fixed rate, then a burst → host → to-genesys queue → the
//    stub. `msg/s` from the first creation to the last arrival.
// It prints a table; it is a measurement, not a test, and exits 0 unless something cannot run.
//
// Flags: `--quick` (one short run per phase: a smoke test, figures not meaningful).
// `BENCH_PHASES=outbound,<mode>,…` runs only those phases (default: outbound and every mode).
import { randomBytes } from 'node:crypto';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { inboundText, startGenesysArrivalStub } from './lean-genesys.mjs';
import { loadTools, runLoad, webhookFactory } from './load.mjs';
import { CLOCK_TICKS, Children, canPin, cpuTicks, freePort, memoryMb, pinSelf, unlessExited } from './proc.mjs';
import { medianBy, promSum, quantile } from './stats.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
/** The connector's id in parley.yaml: its webhooks arrive at `/connectors/bench/…`. */
const CONNECTOR_ID = 'bench';

/**
 * @typedef {object} ChannelPlatform The channel's fake behind one phase, as the bench uses it.
 * @property {string[]} addresses Genesys customer ids of the customers (outbound `channel.to.id`).
 * @property {(index: number, text: string) => void} write Customer `index` (modulo their count)
 *   writes `text` to the bot; not awaited, so the offered rate is the bench's.
 * @property {() => number} sentCount Messages the bot delivered to customers so far.
 * @property {() => { use: string, options: object }} connector The connector block of parley.yaml.
 * @property {(urls: { hostUrl: string, connectorUrl: string }) => void} [attach] Called with the
 *   host's URLs before it starts, for a platform that pushes events to the host.
 * @property {() => Promise<void>} close
 */

/**
 * @typedef {object} ChannelPlugin
 * @property {string} name Log prefix, results folder and table heading, e.g. `telegram`.
 * @property {string} [note] Added to the heading, e.g. a non-default setting.
 * @property {string} outboundMode The mode of the platform and connector in the outbound phase.
 * @property {string[]} inboundModes One inbound phase per mode, in this order.
 * @property {object} [settings] Additions to (or overrides of) the settings, kept in result.json.
 * @property {boolean} [customersWriteFirst] Every customer writes once before the outbound phase's
 *   warm-up, as a conversation starts in real life, for a connector that learns from it where to
 *   send (otherwise each first reply costs it a lookup at the platform).
 * @property {(phase: { mode: string, direction: 'outbound' | 'inbound', customers: number }) =>
 *   Promise<ChannelPlatform>} startPlatform Starts the fake with `customers` customers.
 */

/**
 * Runs the phases for `plugin`, prints the table on stdout and writes result.json; a phase that
 * cannot run (a host that does not start) is reported on stderr with exit code 1.
 */
export async function runChannelRelayBench(plugin) {
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
    inboundWaitSec: 20,
    ...plugin.settings,
  };
  const phases = (process.env.BENCH_PHASES ?? ['outbound', ...plugin.inboundModes].join(',')).split(',');
  const tools = await loadTools(root);
  const pin = canPin(os.cpus().length);
  if (pin) pinSelf(1);
  const workDir = path.join(root, 'bench/results', `${plugin.name}-${new Date().toISOString().replace(/[:.]/g, '-')}`);
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
  const log = (message) => process.stderr.write(`[${plugin.name} bench ${new Date().toISOString().slice(11, 19)}] ${message}\n`);

  async function startHost({ label, platform, genesysUrl }) {
    const port = await freePort();
    const url = `http://127.0.0.1:${port}`;
    platform.attach?.({ hostUrl: url, connectorUrl: `${url}/connectors/${CONNECTOR_ID}` });
    const dbPath = path.join(workDir, `host-${label}.db`);
    const config = {
      server: { port, host: '127.0.0.1', publicUrl: url, shutdownGraceMs: 1000 },
      store: { url: `sqlite:${dbPath}` },
      genesys: { apiUrl: genesysUrl, loginUrl: genesysUrl, clientId: identity.clientId, clientSecret: identity.clientSecret, requestsPerMinute: 60_000_000 },
      connectors: {
        [CONNECTOR_ID]: { integrationId: identity.integrationId, webhookSecret: identity.webhookSecret, ...platform.connector() },
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
    const ready = async () => {
      for (const deadline = Date.now() + 60_000; ; await sleep(100)) {
        if (Date.now() > deadline) throw new Error(`host (${label}) was not ready in 60 s`);
        if (await fetch(`${url}/readyz`).then((response) => response.status === 200, () => false)) return;
      }
    };
    await unlessExited(handle, ready());
    return {
      webhookUrl: `${url}/connectors/${CONNECTOR_ID}/genesys`,
      pid: handle.pid,
      async backlog() {
        const text = await (await fetch(`${url}/metrics`)).text();
        const jobs = (state) => promSum(text, 'parley_queue_jobs', { queue: 'to-platform', state });
        return jobs('pending') + jobs('running');
      },
      async stop() {
        await handle.stop();
        for (const suffix of ['', '-wal', '-shm']) rmSync(dbPath + suffix, { force: true });
      },
    };
  }

  /** Starts the fake, the stub and a host for one phase, runs `body`, and stops all three. */
  async function withPhase({ label, mode, direction }, body) {
    const platform = await plugin.startPlatform({ mode, direction, customers: settings.customers });
    const stub = await startGenesysArrivalStub();
    try {
      const host = await startHost({ label, platform, genesysUrl: stub.url });
      try {
        return await body({ platform, stub, host });
      } finally {
        await host.stop();
      }
    } finally {
      await stub.close();
      await platform.close();
    }
  }

  const outbound = () =>
    withPhase({ label: 'outbound', mode: plugin.outboundMode, direction: 'outbound' }, async ({ platform, stub, host }) => {
      if (plugin.customersWriteFirst) await everyCustomerWrites(platform, stub);
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
    });

  /** One message from each customer, waited for at the stub (at most `inboundWaitSec`). */
  async function everyCustomerWrites(platform, stub) {
    const count = platform.addresses.length;
    for (let index = 0; index < count; index++) platform.write(index, inboundText(index, Date.now()));
    const deadline = Date.now() + settings.inboundWaitSec * 1000;
    while (stub.arrivals.size < count && Date.now() < deadline) await sleep(20);
    log(`outbound: ${stub.arrivals.size}/${count} customers wrote first`);
    stub.arrivals.clear();
  }

  const inbound = (mode) =>
    withPhase({ label: `inbound-${mode}`, mode, direction: 'inbound' }, async ({ platform, stub, host }) => {
      let sequence = 0;
      const measure = async (label, count, ratePerSec) => {
        stub.arrivals.clear();
        const cpuBefore = cpuTicks(host.pid);
        const startedAt = Date.now();
        const first = sequence;
        for (let made = 0; made < count; made++) {
          const seq = sequence++;
          platform.write(seq, inboundText(seq, Date.now()));
          // Paced in slices of 10 ms: a fixed offered rate without a timer per message.
          if (ratePerSec && made % Math.max(1, ratePerSec / 100) === 0) {
            const due = startedAt + (made / ratePerSec) * 1000;
            if (due > Date.now()) await sleep(due - Date.now());
          }
        }
        const deadline = Date.now() + settings.inboundWaitSec * 1000;
        while (stub.arrivals.size < count && Date.now() < deadline) await sleep(20);
        const arrivals = [...stub.arrivals.values()];
        const latencies = arrivals.map(([created, received]) => received - created);
        const lastArrival = Math.max(...arrivals.map(([, received]) => received));
        const row = {
          label,
          arrived: `${stub.arrivals.size}/${count}`,
          msgPerSec: stub.arrivals.size / Math.max((lastArrival - startedAt) / 1000, 0.001),
          p50Ms: quantile(latencies, 0.5),
          p99Ms: quantile(latencies, 0.99),
          cpuUsPerMsg: ((cpuTicks(host.pid) - cpuBefore) * (1e6 / CLOCK_TICKS)) / Math.max(stub.arrivals.size, 1),
        };
        log(`inbound ${mode} ${label}: ${row.arrived} arrived, ${Math.round(row.msgPerSec)} msg/s, p50 ${row.p50Ms} ms, p99 ${row.p99Ms} ms (first seq ${first})`);
        return row;
      };
      await measure('warm-up', 500, settings.inboundRate);
      const fixed = await measure(`@ ${settings.inboundRate}/s`, settings.inboundCount, settings.inboundRate);
      const burst = await measure(`burst of ${settings.inboundBurst}`, settings.inboundBurst, 0);
      return { fixed, burst, rssPeakMb: memoryMb(host.pid).peak };
    });

  try {
    log(`pinning: ${pin ? 'host on CPU 0, load and fakes on CPU 1' : 'off (figures are not comparable with pinned runs)'}`);
    const out = phases.includes('outbound') ? await outbound() : undefined;
    const inboundResults = {};
    for (const mode of plugin.inboundModes) if (phases.includes(mode)) inboundResults[mode] = await inbound(mode);
    process.stdout.write(report({ plugin, out, inboundResults }));
    writeFileSync(path.join(workDir, 'result.json'), JSON.stringify({ settings, pinned: pin, outbound: out, inbound: inboundResults }, null, 2));
  } catch (error) {
    process.stderr.write(`${error.stack ?? error}\n`);
    process.exitCode = 1;
  } finally {
    await children.killAll();
  }
}

const fmt = (value) => (Number.isFinite(value) ? Math.round(value).toLocaleString('en-US') : 'n/a');

/** The printed table: the outbound median run, then the fixed-rate and burst rows of each inbound mode. */
function report({ plugin, out, inboundResults }) {
  const median = out && medianBy(out.runs, (run) => run.acceptedPerSec);
  const lines = [
    '',
    `${plugin.name} connector relay (host on one core${plugin.note ? `, ${plugin.note}` : ''})`,
    median && `outbound max (median of ${out.runs.length}): ${fmt(median.acceptedPerSec)} accepted/s, ${fmt(median.deliveredPerSec)} delivered/s, p50 ${median.p50Ms} ms, p99 ${median.p99Ms} ms, backlog ${median.backlog}, ${fmt(median.cpuUsPerReq)} µs CPU/req, RSS peak ${fmt(out.rssPeakMb)} MB`,
    ...Object.entries(inboundResults).flatMap(([mode, result]) =>
      [result.fixed, result.burst].map(
        (row) => `inbound ${mode} ${row.label}: ${row.arrived} arrived, ${fmt(row.msgPerSec)} msg/s, p50 ${fmt(row.p50Ms)} ms, p99 ${fmt(row.p99Ms)} ms, ${fmt(row.cpuUsPerMsg)} µs CPU/msg`,
      ),
    ),
  ];
  return `${lines.filter(Boolean).join('\n')}\n`;
}
