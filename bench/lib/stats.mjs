// Small statistics and Prometheus-text helpers for the relay benchmark.

/** The value at quantile `q` (0..1) of `values` (nearest rank); NaN when empty. */
export function quantile(values, q) {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return sorted[rank];
}

/** The middle element of `items` ordered by `key` (the "median run" of research §4.1). */
export function medianBy(items, key) {
  const sorted = [...items].sort((a, b) => key(a) - key(b));
  return sorted[Math.floor(sorted.length / 2)];
}

/** The median of plain numbers. */
export function median(values) {
  return quantile(values, 0.5);
}

/**
 * Sums the samples of `metric` in Prometheus text whose labels include every pair of `labels`,
 * e.g. `promSum(text, 'parley_queue_jobs', { queue: 'to-platform', state: 'pending' })`.
 */
export function promSum(text, metric, labels) {
  let sum = 0;
  let found = false;
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${metric}{`) && !line.startsWith(`${metric} `)) continue;
    const labelText = /\{([^}]*)\}/.exec(line)?.[1] ?? '';
    const present = Object.fromEntries([...labelText.matchAll(/(\w+)="([^"]*)"/g)].map((m) => [m[1], m[2]]));
    if (!Object.entries(labels).every(([key, value]) => present[key] === value)) continue;
    const value = Number(line.slice(line.lastIndexOf(' ') + 1));
    if (Number.isFinite(value)) {
      sum += value;
      found = true;
    }
  }
  return found ? sum : 0;
}

/**
 * The cumulative buckets of histogram `metric` whose labels include `labels`, as
 * `[{ le, count }]` in ascending `le` (Infinity last), from Prometheus text.
 */
export function promHistogram(text, metric, labels) {
  const buckets = [];
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${metric}_bucket{`)) continue;
    const present = Object.fromEntries([...line.matchAll(/(\w+)="([^"]*)"/g)].map((m) => [m[1], m[2]]));
    if (!Object.entries(labels).every(([key, value]) => present[key] === value)) continue;
    const le = present.le === '+Inf' ? Number.POSITIVE_INFINITY : Number(present.le);
    buckets.push({ le, count: Number(line.slice(line.lastIndexOf(' ') + 1)) });
  }
  return buckets.sort((a, b) => a.le - b.le);
}

/**
 * What a histogram counted between two readings (`promHistogram` of each): the number of samples
 * and the upper bound of the bucket holding quantile `q` of them (NaN when none).
 */
export function histogramBetween(before, after, q) {
  const earlier = new Map(before.map((bucket) => [bucket.le, bucket.count]));
  const delta = after.map((bucket) => ({ le: bucket.le, count: bucket.count - (earlier.get(bucket.le) ?? 0) }));
  const total = delta.at(-1)?.count ?? 0;
  if (total <= 0) return { count: 0, upperBound: Number.NaN };
  const bucket = delta.find((entry) => entry.count >= q * total);
  return { count: total, upperBound: bucket?.le ?? Number.NaN };
}
