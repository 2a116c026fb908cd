#!/usr/bin/env node
// Summarises a V8 CPU profile (`node --cpu-prof`, e.g. the host under `BENCH_HOST_NODE_ARGS=
// "--cpu-prof --cpu-prof-dir=DIR" node bench/relay.mjs`): the top functions by self time, and the
// share of a few groups (SQLite, express, undici, GC…) by inclusive time, each counted once per
// sample however deep it recurses. Shares are of all samples, idle included, so they read as
// "share of one core" when the profiled process was pinned to one.
//
//   node bench/profile-summary.mjs <file.cpuprofile> [top=25]
import { readFileSync } from 'node:fs';

const [file, topArg] = process.argv.slice(2);
if (!file) {
  process.stderr.write('usage: node bench/profile-summary.mjs <file.cpuprofile> [top]\n');
  process.exit(2);
}
const top = Number(topArg ?? 25);
const profile = JSON.parse(readFileSync(file, 'utf8'));

/** Inclusive groups: a sample counts for a group when any frame on its stack matches. */
const GROUPS = [
  ['better-sqlite3 (all statements)', (f) => f.url.includes('better-sqlite3') || /^(run|get|all|iterate|exec|transaction|sqliteTransaction)$/.test(f.functionName) && f.url === ''],
  ['write batch flush (store)', (f) => f.functionName === 'flush' && f.url.includes('write-batch')],
  ['express + router + body parsing', (f) => /node_modules\/(\.pnpm\/)?[^/]*(express|router|body-parser|raw-body|type-is|content-type|finalhandler|send|on-finished|media-typer|qs)/.test(f.url)],
  ['undici', (f) => f.url.includes('undici')],
  ['node:http (server and parser)', (f) => /^node:_http|node:http/.test(f.url)],
  ['zod', (f) => f.url.includes('/zod/')],
  ['pino', (f) => f.url.includes('/pino')],
  ['prom-client', (f) => f.url.includes('prom-client')],
  ['webhook intake', (f) => f.url.includes('webhook-intake')],
  ['model parse (core/model)', (f) => f.url.includes('/core/dist/model/') || f.url.includes('/core/src/model/')],
  ['queue worker', (f) => f.url.includes('store/worker')],
  ['pipelines (job handlers)', (f) => f.url.includes('runtime/pipelines')],
  ['reference connector', (f) => f.url.includes('testkit/dist/reference')],
  ['genesys client', (f) => f.url.includes('/core/dist/genesys/')],
];
const SPECIAL = new Set(['(garbage collector)', '(idle)', '(program)']);

const nodes = new Map(profile.nodes.map((node) => [node.id, node]));
const parent = new Map();
for (const node of profile.nodes) for (const child of node.children ?? []) parent.set(child, node.id);

const selfCount = new Map();
const groupCount = new Map(GROUPS.map(([name]) => [name, 0]));
const specialCount = new Map();
const total = profile.samples.length;
const intervalUs = (profile.endTime - profile.startTime) / Math.max(1, total);

for (const id of profile.samples) {
  const leaf = nodes.get(id);
  const frame = leaf.callFrame;
  const key = `${frame.functionName || '(anonymous)'} ${shortUrl(frame.url)}:${frame.lineNumber + 1}`;
  selfCount.set(key, (selfCount.get(key) ?? 0) + 1);
  if (SPECIAL.has(frame.functionName)) specialCount.set(frame.functionName, (specialCount.get(frame.functionName) ?? 0) + 1);
  const hit = new Set();
  for (let current = id; current !== undefined; current = parent.get(current)) {
    const callFrame = nodes.get(current).callFrame;
    for (const [name, match] of GROUPS) if (!hit.has(name) && match(callFrame)) hit.add(name);
  }
  for (const name of hit) groupCount.set(name, groupCount.get(name) + 1);
}

const pct = (count) => `${((100 * count) / total).toFixed(1).padStart(5)} %`;
const seconds = (profile.endTime - profile.startTime) / 1e6;
console.log(`${file}: ${total} samples over ${seconds.toFixed(1)} s (≈${intervalUs.toFixed(0)} µs each)`);
console.log('\nspecial:');
for (const name of SPECIAL) console.log(`  ${pct(specialCount.get(name) ?? 0)}  ${name}`);
console.log('\ngroups (inclusive):');
for (const [name, count] of [...groupCount].sort((a, b) => b[1] - a[1])) console.log(`  ${pct(count)}  ${name}`);
console.log(`\ntop ${top} by self time:`);
for (const [key, count] of [...selfCount].sort((a, b) => b[1] - a[1]).slice(0, top)) console.log(`  ${pct(count)}  ${key}`);

function shortUrl(url) {
  if (!url) return '';
  const modules = url.lastIndexOf('node_modules/');
  if (modules >= 0) return url.slice(modules + 'node_modules/'.length).replace(/^\.pnpm\/[^/]+\/node_modules\//, '');
  const packages = url.indexOf('/packages/');
  if (packages >= 0) return url.slice(packages + 1);
  return url.replace(/^file:\/\//, '');
}
