/**
 * Runs the real `parley` CLI as a child process, the way a user starts it, and reads its JSON log
 * lines. Used by the end-to-end tests.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { request } from 'undici';

export const CLI = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../dist/cli.js');

export interface LogLine {
  level: number;
  msg: string;
  [key: string]: unknown;
}

export interface HostProcess {
  url: string;
  child: ChildProcess;
  logs: LogLine[];
  stderr: () => string;
  /** Resolves with the exit code (or signal) when the process ends. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  waitForLog(predicate: (line: LogLine) => boolean, timeoutMs?: number): Promise<LogLine>;
}

/** Ends a host process a test left running (SIGKILL: nothing to wait for) and waits for its exit. */
export async function killHost(host: HostProcess | undefined): Promise<void> {
  if (host && host.child.exitCode === null && host.child.signalCode === null) {
    host.child.kill('SIGKILL');
    await host.exited;
  }
}

/** Polls `GET /readyz` until it answers 200 (at most 100 tries, 50 ms apart) and returns its JSON. */
export async function waitForReady(hostUrl: string): Promise<Record<string, unknown>> {
  for (let attempt = 0; attempt < 100; attempt++) {
    const response = await request(`${hostUrl}/readyz`);
    const json = (await response.body.json()) as Record<string, unknown>;
    if (response.statusCode === 200) return json;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error('never ready');
}

export function tempDir(prefix = 'parley-e2e-'): string {
  return mkdtempSync(path.join(tmpdir(), prefix));
}

export function writeConfig(dir: string, yaml: string): string {
  const file = path.join(dir, 'parley.yaml');
  writeFileSync(file, yaml);
  return file;
}

/** Runs `parley <args>` to completion and returns its output (for CLI commands that exit). */
export function runCli(args: string[], options: { cwd?: string; env?: NodeJS.ProcessEnv } = {}) {
  return new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
    const child = spawn(process.execPath, [CLI, ...args], {
      cwd: options.cwd ?? process.cwd(),
      env: { ...process.env, ...options.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk) => (stdout += chunk));
    child.stderr.on('data', (chunk) => (stderr += chunk));
    child.on('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

/** Runs `parley start` and waits until it says it is running. */
export async function startHostProcess(
  configPath: string,
  options: { env?: NodeJS.ProcessEnv; cwd?: string; timeoutMs?: number } = {},
): Promise<HostProcess> {
  const host = spawnHostProcess(configPath, options);
  const running = await host.waitForLog((line) => line.msg === 'Parley is running', options.timeoutMs ?? 20_000);
  return { ...host, url: String(running.url) };
}

/**
 * Runs `parley start` without waiting for it to be running (for tests of start-up itself); its
 * `url` is empty until then, so such tests know the port from the config.
 */
export function spawnHostProcess(configPath: string, options: { env?: NodeJS.ProcessEnv; cwd?: string } = {}): HostProcess {
  const child = spawn(process.execPath, [CLI, 'start', '--config', configPath], {
    cwd: options.cwd ?? path.dirname(configPath),
    env: { ...process.env, ...options.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const logs: LogLine[] = [];
  const waiters = new Set<() => void>();
  let stderr = '';
  let buffered = '';
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
    buffered += chunk;
    let newline: number;
    while ((newline = buffered.indexOf('\n')) >= 0) {
      const line = buffered.slice(0, newline);
      buffered = buffered.slice(newline + 1);
      try {
        logs.push(JSON.parse(line) as LogLine);
      } catch {
        logs.push({ level: 30, msg: line });
      }
      for (const wake of waiters) wake();
    }
  });
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.on('exit', (code, signal) => {
      for (const wake of waiters) wake();
      resolve({ code, signal });
    });
  });

  const waitForLog = (predicate: (line: LogLine) => boolean, timeoutMs = 15_000) =>
    new Promise<LogLine>((resolve, reject) => {
      const check = () => {
        const found = logs.find(predicate);
        if (found) {
          cleanup();
          resolve(found);
        } else if (child.exitCode !== null || child.signalCode !== null) {
          cleanup();
          reject(new Error(`host exited (${child.exitCode ?? child.signalCode}) before the expected log line\n${stderr}`));
        }
      };
      const timer = setTimeout(() => {
        cleanup();
        reject(new Error(`timed out waiting for a host log line; last lines:\n${logs.slice(-10).map((line) => JSON.stringify(line)).join('\n')}\n${stderr}`));
      }, timeoutMs);
      const cleanup = () => {
        clearTimeout(timer);
        waiters.delete(check);
      };
      waiters.add(check);
      check();
    });

  return { url: '', child, logs, stderr: () => stderr, exited, waitForLog };
}
