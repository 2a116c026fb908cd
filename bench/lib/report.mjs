// Prints the relay benchmark's report: one table per direction, then PASS/MISS per target.

const int = (value) => (Number.isFinite(value) ? Math.round(value).toLocaleString('en-US') : 'n/a');
const ms = (value) => (Number.isFinite(value) ? (value < 10 ? String(Math.round(value * 10) / 10) : int(value)) : 'n/a');
const signed = (value) => (value >= 0 ? `+${int(value)}` : `−${int(-value)}`);
const pct = (value) => (Number.isFinite(value) ? `${Math.round(value)}` : 'n/a');
/** Runs with more than this much CPU used by others are flagged (research Appendix A re-ran them). */
const BUSY_FLAG_PCT = 15;

/** Lays out rows under headers: first column left-aligned, the rest right-aligned. */
function table(headers, rows) {
  const widths = headers.map((header, column) => Math.max(header.length, ...rows.map((row) => String(row[column] ?? '').length)));
  const line = (cells) =>
    cells.map((cell, column) => (column === 0 ? String(cell).padEnd(widths[column]) : String(cell).padStart(widths[column]))).join('  ');
  return [line(headers), ...rows.map((row) => (row.note ? `  ${row.note}` : line(row)))].join('\n');
}

function outboundRow(label, phase) {
  const run = phase.median;
  const busy = phase.runs.some((candidate) => candidate.otherCpuPct > BUSY_FLAG_PCT) ? ' !' : '';
  return [
    label + busy,
    int(run.acceptedPerSec),
    ms(run.p50Ms),
    ms(run.p99Ms),
    int(run.deliveredPerSec),
    `${int(run.backlogStart)} → ${int(run.backlogEnd)}`,
    int(run.serverCpuUsPerReq),
    pct(run.serverCpuPct),
    pct(run.fakesCpuPct),
    pct(run.loadGenCpuPct),
    pct(run.otherCpuPct),
    `${int(phase.rssPeakMb)} MB`,
  ];
}

function runsNote(phase, what, pick) {
  const errors = phase.runs.reduce((sum, run) => sum + run.non2xx + run.errors + run.timeouts, 0);
  const warnings = phase.serverWarnings?.count ?? 0;
  const { median } = phase;
  // Bucket bounds of parley_store_commit_duration_seconds: the commit every answer waits for.
  const commits = Number.isFinite(median.storeCommitsPerSec)
    ? `; store commits ${int(median.storeCommitsPerSec)}/s, p50 ≤ ${median.storeCommitP50Ms} ms, p99 ≤ ${median.storeCommitP99Ms} ms`
    : '';
  return {
    note:
      `runs (${what}): ${phase.runs.map(pick).join(' · ')}` +
      commits +
      (errors > 0 ? `; non-2xx/errors/timeouts: ${errors}` : '') +
      (warnings > 0 ? `; server logged ${warnings} warnings (see its log)` : ''),
  };
}

/** Writes the human-readable report through `write`. */
export function printReport(report, write) {
  const { machine, settings, phases } = report;
  const { max, target, fixed, bare, bareTarget, bareFixed, inbound } = phases;
  const lean = settings.fakes !== 'reference';
  const platformName = lean ? 'lean platform stub' : 'reference platform fake';
  const genesysName = lean ? 'lean Genesys stub' : 'Genesys emulator';
  const out = [];
  out.push('');
  out.push(`Parley relay benchmark, ${report.at} (${report.elapsedSec} s)`);
  out.push(
    `node ${machine.node}, ${machine.cpus} × ${machine.cpuModel}, ${machine.memoryGb} GB; ` +
      (machine.pinned ? 'host/bare pinned to CPU 0, autocannon + fakes to CPU 1' : 'NOT pinned (no taskset or one CPU)'),
  );
  out.push(
    `${report.bodyBytes}-byte signed webhooks, unique id each, ${settings.connections} connections, ${int(settings.chats)} customers; ` +
      `warm-up ${settings.warmupSec} s, runs of ${settings.durationSec} s; queue concurrency / bare in-flight ${settings.concurrency}; ` +
      `fakes: ${platformName}, receipts to the Genesys ${settings.receipts}`,
  );
  out.push(`load average at start ${machine.loadAverageStart}, at end ${machine.loadAverageEnd}`);
  out.push(
    `disk: write 1 KB + fdatasync p50/p90 ${ms(machine.fsyncMsStart.p50)}/${ms(machine.fsyncMsStart.p90)} ms at start, ` +
      `${ms(machine.fsyncMsEnd.p50)}/${ms(machine.fsyncMsEnd.p90)} ms at end (research §4.4: about 0.2 ms)`,
  );
  out.push('');
  out.push(`OUTBOUND  signed webhook → server → durable queue → ${platformName}`);
  const rows = [];
  if (max) {
    rows.push(outboundRow(`host, max (median of ${max.runs.length})`, max));
    rows.push(runsNote(max, 'accepted/s, backlog growth', (run) => `${int(run.acceptedPerSec)} (${signed(run.backlogGrowth)})`));
  }
  if (target) {
    rows.push(outboundRow(`host @ ${int(target.ratePerSec)}/s`, target));
    rows.push(runsNote(target, 'delivered/s, backlog growth', (run) => `${int(run.deliveredPerSec)} (${signed(run.backlogGrowth)})`));
  }
  if (fixed) {
    rows.push(outboundRow(`host @ ${int(fixed.ratePerSec)}/s (median of ${fixed.runs.length})`, fixed));
    rows.push(runsNote(fixed, 'p99 ms, backlog growth', (run) => `${ms(run.p99Ms)} (${signed(run.backlogGrowth)})`));
  }
  if (bare) {
    rows.push(outboundRow(`bare express, max (median of ${bare.runs.length})`, bare));
    rows.push(runsNote(bare, 'accepted/s, backlog growth', (run) => `${int(run.acceptedPerSec)} (${signed(run.backlogGrowth)})`));
  }
  if (bareTarget) {
    rows.push(outboundRow(`bare express @ ${int(bareTarget.ratePerSec)}/s`, bareTarget));
    rows.push(runsNote(bareTarget, 'delivered/s, backlog growth', (run) => `${int(run.deliveredPerSec)} (${signed(run.backlogGrowth)})`));
  }
  if (bareFixed) {
    rows.push(outboundRow(`bare express @ ${int(bareFixed.ratePerSec)}/s (median of ${bareFixed.runs.length})`, bareFixed));
    rows.push(runsNote(bareFixed, 'p99 ms, backlog growth', (run) => `${ms(run.p99Ms)} (${signed(run.backlogGrowth)})`));
  }
  out.push(
    table(
      ['', 'accepted/s', 'p50 ms', 'p99 ms', 'delivered/s', 'backlog start → end', 'CPU µs/req', 'server %', 'fakes %', 'load %', 'other %', 'RSS peak'],
      rows,
    ),
  );
  if (inbound) {
    out.push('');
    out.push(`INBOUND  customer message at the ${platformName} → host long poll → to-genesys queue → ${genesysName}`);
    const latency = (value, row) => (value === null ? `> ${row.waitSec} s` : ms(value));
    const inboundRows = [inbound.fixed, inbound.burst].map((row) =>
      row.skipped
        ? { note: `${row.label}: skipped, ${row.skipped}` }
        : [
            row.label + (row.otherCpuPct > BUSY_FLAG_PCT ? ' !' : ''),
            `${int(row.arrived)} / ${int(row.generated)}`,
            int(row.msgPerSec),
            latency(row.p50Ms, row),
            latency(row.p99Ms, row),
            latency(row.maxMs, row),
            int(row.serverCpuUsPerMsg),
            pct(row.serverCpuPct),
            pct(row.fakesCpuPct),
            pct(row.otherCpuPct),
          ],
    );
    out.push(table(['', 'arrived', 'msg/s', 'p50 ms', 'p99 ms', 'max ms', 'CPU µs/msg', 'server %', 'fakes %', 'other %'], inboundRows));
    const measured = [inbound.fixed, inbound.burst].filter((row) => !row.skipped);
    const extras = [];
    const sum = (key) => measured.reduce((total, row) => total + row[key], 0);
    if (measured.some((row) => row.arrived < row.generated)) {
      extras.push(`"arrived" counts what reached the ${genesysName} within ${inbound.fixed.waitSec} s of the last creation`);
    }
    if (sum('duplicates') > 0) extras.push(`duplicates ${sum('duplicates')}`);
    if (sum('rejected') > 0) extras.push(`rejected by the emulator ${sum('rejected')}`);
    if (inbound.serverWarnings.count > 0) extras.push(`host logged ${inbound.serverWarnings.count} warnings`);
    out.push(`  host RSS peak ${int(inbound.rssPeakMb)} MB${extras.length ? `; ${extras.join('; ')}` : ''}`);
    out.push('  The burst row measures capacity: its latency is mostly queueing.');
  }
  out.push('');
  out.push('  % columns: share of one core during the runs. other % = busy CPU that neither the bench nor its');
  out.push('  servers used (other tenants, loopback softirq); "!" marks a row with a run above 15 %.');
  out.push('');
  out.push('TARGETS');
  if (report.targets.length === 0) out.push(`  not judged: a partial run (BENCH_PHASES=${settings.phases.join(',')})`);
  for (const verdict of report.targets) out.push(`  ${verdict.pass ? 'PASS' : 'MISS'}  ${verdict.target}: ${verdict.evidence}`);
  write(`${out.join('\n')}\n`);
}
