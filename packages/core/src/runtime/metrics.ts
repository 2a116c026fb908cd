/**
 * Prometheus metrics (prom-client), one registry per runtime so several runtimes can live in one
 * process (tests, embedding). Every series about a connector carries a `connector` label.
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { ConnectorMetrics } from '../connector.js';

export interface ParleyMetrics {
  registry: Registry;
  webhooks: Counter<'connector' | 'type' | 'outcome'>;
  jobs: Counter<'queue' | 'connector' | 'kind' | 'outcome'>;
  inbound: Counter<'connector' | 'kind' | 'outcome'>;
  genesysRequests: Histogram<'endpoint' | 'status'>;
  queueDepth: Gauge<'queue' | 'state'>;
  /** 1 while a connector's jobs of a queue are held because its platform or Genesys is down. */
  queueHeld: Gauge<'queue' | 'connector'>;
  receipts: Counter<'connector' | 'status'>;
  /** Write batches of the store, from handing them to the writer to the commit's answer. */
  storeCommits: Histogram<'outcome'>;
  /** Where `parley_queue_jobs` reads queue depths from at scrape time. */
  setQueueDepthSource(source: () => Promise<Array<{ queue: string; state: string; value: number }>>): void;
  forConnector(connectorId: string): ConnectorMetrics;
}

export function createMetrics(options: { defaultMetrics?: boolean } = {}): ParleyMetrics {
  const registry = new Registry();
  if (options.defaultMetrics) collectDefaultMetrics({ register: registry, prefix: 'parley_' });

  const webhooks = new Counter({
    name: 'parley_genesys_webhooks_total',
    help: 'Genesys outbound webhooks received, by message type and outcome',
    labelNames: ['connector', 'type', 'outcome'] as const,
    registers: [registry],
  });
  const jobs = new Counter({
    name: 'parley_jobs_total',
    help: 'Queue jobs finished, by queue and outcome (done, retry, dead)',
    labelNames: ['queue', 'connector', 'kind', 'outcome'] as const,
    registers: [registry],
  });
  const inbound = new Counter({
    name: 'parley_inbound_events_total',
    help: 'Customer events handed over by connectors, by kind and outcome',
    labelNames: ['connector', 'kind', 'outcome'] as const,
    registers: [registry],
  });
  const genesysRequests = new Histogram({
    name: 'parley_genesys_request_duration_seconds',
    help: 'Requests to the Genesys Cloud API, by endpoint and HTTP status',
    labelNames: ['endpoint', 'status'] as const,
    buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [registry],
  });
  let depthSource: Parameters<ParleyMetrics['setQueueDepthSource']>[0] | undefined;
  // Sampled at scrape time rather than tracked on every queue change.
  const queueDepth = new Gauge({
    name: 'parley_queue_jobs',
    help: 'Jobs in each queue by state (sampled at scrape time)',
    labelNames: ['queue', 'state'] as const,
    registers: [registry],
    async collect() {
      for (const { queue, state, value } of (await depthSource?.()) ?? []) this.set({ queue, state }, value);
    },
  });
  const queueHeld = new Gauge({
    name: 'parley_queue_held',
    help: "1 while a connector's jobs of a queue are held (different jobs kept failing: its platform or Genesys is down), else 0",
    labelNames: ['queue', 'connector'] as const,
    registers: [registry],
  });
  const receipts = new Counter({
    name: 'parley_genesys_receipts_total',
    help: 'Receipts Genesys sent about customer messages, by status',
    labelNames: ['connector', 'status'] as const,
    registers: [registry],
  });

  // What every durable write (and so every webhook answer) waits for: the first place to look
  // when answers slow down (a busy disk, a starved writer thread).
  const storeCommits = new Histogram({
    name: 'parley_store_commit_duration_seconds',
    help: 'Write batches of the store, from handing them to the writer thread to the answer of their commit, by outcome',
    labelNames: ['outcome'] as const,
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1],
    registers: [registry],
  });

  const custom = new Map<string, Counter<string> | Histogram<string>>();
  const forConnector = (connectorId: string): ConnectorMetrics => ({
    counter(name, help, labelNames = []) {
      const metric = (custom.get(name) ??
        new Counter({ name, help, labelNames: ['connector', ...labelNames], registers: [registry] })) as Counter<string>;
      custom.set(name, metric);
      return { inc: (labels = {}, value = 1) => metric.inc({ ...labels, connector: connectorId }, value) };
    },
    histogram(name, help, labelNames = [], buckets) {
      const metric = (custom.get(name) ??
        new Histogram({
          name,
          help,
          labelNames: ['connector', ...labelNames],
          ...(buckets ? { buckets } : {}),
          registers: [registry],
        })) as Histogram<string>;
      custom.set(name, metric);
      return { observe: (labels, value) => metric.observe({ ...labels, connector: connectorId }, value) };
    },
  });

  return {
    registry,
    webhooks,
    jobs,
    inbound,
    genesysRequests,
    queueDepth,
    queueHeld,
    receipts,
    storeCommits,
    setQueueDepthSource: (source) => {
      depthSource = source;
    },
    forConnector,
  };
}
