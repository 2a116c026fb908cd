// Child processes and /proc readings for the relay benchmark: spawn pinned to a CPU, wait until
// ready, kill everything we started (and only that), and read CPU time and peak memory.
import { spawn, spawnSync } from 'node:child_process';
import { closeSync, createWriteStream, existsSync, fdatasyncSync, openSync, readFileSync, rmSync, writeSync } from 'node:fs';
import path from 'node:path';
import { createServer } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';

/** Clock ticks per second of /proc/<pid>/stat and /proc/stat (almost always 100). */
export const CLOCK_TICKS = (() => {
  const out = spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' });
  const value = Number(out.stdout?.trim());
  return Number.isFinite(value) && value > 0 ? value : 100;
})();

/** True when `taskset` exists and the machine has at least two CPUs to split between roles. */
export function canPin(cpuCount) {
  return cpuCount >= 2 && spawnSync('taskset', ['--version'], { stdio: 'ignore' }).status === 0;
}

/** Pins every thread of this process (the load generator) to `cpu`. */
export function pinSelf(cpu) {
  const out = spawnSync('taskset', ['-a', '-p', '-c', String(cpu), String(process.pid)], { encoding: 'utf8' });
  if (out.status !== 0) throw new Error(`taskset could not pin the bench process: ${out.stderr}`);
}

/** A free TCP port on 127.0.0.1 (the host's config needs a real port number, not 0). */
export async function freePort() {
  const server = createServer();
  await new Promise((resolve, reject) => server.once('error', reject).listen(0, '127.0.0.1', resolve));
  const { port } = server.address();
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/**
 * Every child the bench starts. `killAll` ends them by pid (SIGTERM, then SIGKILL after a grace),
 * so an error or Ctrl-C never leaves a server behind.
 */
export class Children {
  #children = new Set();

  /**
   * Starts `node <args>` pinned to `cpu` (when pinning is on), with stdout/stderr copied to
   * `logFile`. `onLine` sees each stdout line (ready messages). `ipc` opens a message channel.
   */
  start({ name, args, cpu, pin, env = {}, logFile, onLine, ipc = false }) {
    const [command, argv] = pin && cpu !== undefined
      ? ['taskset', ['-c', String(cpu), process.execPath, ...args]]
      : [process.execPath, args];
    const child = spawn(command, argv, {
      env: { ...process.env, ...env },
      stdio: ipc ? ['ignore', 'pipe', 'pipe', 'ipc'] : ['ignore', 'pipe', 'pipe'],
    });
    const log = createWriteStream(logFile, { flags: 'a' });
    const tail = [];
    let partial = '';
    child.stdout.on('data', (chunk) => {
      log.write(chunk);
      partial += chunk.toString('utf8');
      const lines = partial.split('\n');
      partial = lines.pop() ?? '';
      for (const line of lines) {
        remember(tail, line);
        onLine?.(line);
      }
    });
    child.stderr.on('data', (chunk) => {
      log.write(chunk);
      for (const line of chunk.toString('utf8').split('\n')) if (line) remember(tail, line);
    });
    const exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
    child.once('error', (error) => remember(tail, `spawn error: ${error.message}`));
    const handle = {
      name,
      child,
      /** The node process id (taskset execs node, so it keeps the pid). */
      pid: child.pid,
      exited,
      tail: () => tail.join('\n'),
      stop: () => this.stop(handle),
    };
    this.#children.add(handle);
    exited.then(() => log.end());
    return handle;
  }

  /** SIGTERM, then SIGKILL when the child has not exited after `graceMs`. */
  async stop(handle, graceMs = 4000) {
    if (!this.#children.has(handle)) return;
    this.#children.delete(handle);
    if (handle.child.exitCode !== null || handle.child.signalCode !== null) return;
    handle.child.kill('SIGTERM');
    const timer = sleep(graceMs).then(() => 'timeout');
    if ((await Promise.race([handle.exited, timer])) === 'timeout') {
      handle.child.kill('SIGKILL');
      await handle.exited;
    }
  }

  async killAll() {
    await Promise.all([...this.#children].map((handle) => this.stop(handle)));
  }

  /** Synchronous last resort for `process.on('exit')`: signals only, no waiting. */
  killAllNow() {
    for (const handle of this.#children) {
      try {
        handle.child.kill('SIGKILL');
      } catch {
        // already gone
      }
    }
    this.#children.clear();
  }
}

function remember(tail, line) {
  tail.push(line);
  if (tail.length > 40) tail.shift();
}

/** Rejects with the child's last output if it exits before `promise` settles. */
export function unlessExited(handle, promise) {
  const died = handle.exited.then(({ code, signal }) => {
    throw new Error(`${handle.name} exited (code ${code}, signal ${signal}) before it was ready:\n${handle.tail()}`);
  });
  return Promise.race([promise, died]);
}

/** utime + stime of a process (all its threads), in clock ticks; NaN once it is gone. */
export function cpuTicks(pid) {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return Number(fields[11]) + Number(fields[12]);
  } catch {
    return Number.NaN;
  }
}

/** Busy (without steal), steal and total ticks of the whole machine, from the first line of /proc/stat. */
export function machineTicks() {
  const values = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
  const [user, nice, system, idle, iowait, irq, softirq, steal] = values;
  return { busy: user + nice + system + irq + softirq, steal, total: user + nice + system + idle + iowait + irq + softirq + steal };
}

/** VmHWM (peak resident set) and VmRSS of a process, in MB. */
export function memoryMb(pid) {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = (key) => Number(new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? Number.NaN);
    return { peak: kb('VmHWM') / 1024, current: kb('VmRSS') / 1024 };
  } catch {
    return { peak: Number.NaN, current: Number.NaN };
  }
}

/**
 * Waits (at most `maxWaitMs`) until the machine is below `thresholdPct` busy for three 1-s samples
 * in a row, as in research/perf-reliability.md Appendix A. Returns the last sample either way:
 * other engineers' test runs share these cores, and the report says how busy it was.
 */
export async function waitForQuiet({ thresholdPct = 15, maxWaitMs = 20_000 } = {}) {
  const started = Date.now();
  let quietSamples = 0;
  let previous = machineTicks();
  let lastPct = Number.NaN;
  while (Date.now() - started < maxWaitMs) {
    await sleep(1000);
    const current = machineTicks();
    lastPct = (100 * (current.busy - previous.busy)) / Math.max(1, current.total - previous.total);
    previous = current;
    quietSamples = lastPct < thresholdPct ? quietSamples + 1 : 0;
    if (quietSamples >= 3) break;
  }
  return { busyPct: lastPct, waitedMs: Date.now() - started, quiet: quietSamples >= 3 };
}

/** /proc/loadavg's first three fields. */
export function loadAverage() {
  return existsSync('/proc/loadavg') ? readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ') : 'n/a';
}

/**
 * Median and p90 of `write(1 KB) + fdatasync` in `dir`, in ms: what one durable commit costs on
 * this disk at this moment (research §4.4 measured about 0.2 ms). Everything with
 * `synchronous=FULL` scales with it, so the report prints it.
 */
export function fsyncLatencyMs(dir, samples = 100) {
  const file = path.join(dir, 'fsync-probe.bin');
  const fd = openSync(file, 'w');
  const block = Buffer.alloc(1024, 97);
  const times = [];
  try {
    for (let index = 0; index < samples; index++) {
      const started = performance.now();
      writeSync(fd, block);
      fdatasyncSync(fd);
      times.push(performance.now() - started);
    }
  } finally {
    closeSync(fd);
    rmSync(file, { force: true });
  }
  times.sort((a, b) => a - b);
  return { p50: times[Math.floor(samples / 2)], p90: times[Math.floor(samples * 0.9)] };
}
