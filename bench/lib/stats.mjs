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
