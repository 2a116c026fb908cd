#!/usr/bin/env node
// Runs the `parley` CLI from the repo root: `pnpm parley <command>` and `pnpm start`.
// The CLI runs from built output (apps/host/dist), so the host and its workspace
// dependencies are built first through turbo: cached after the first run.
import { spawnSync } from 'node:child_process';
import { fileURLToPath, pathToFileURL } from 'node:url';
import path from 'node:path';

const root = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
const args = process.argv.slice(2);
const buildOnly = args[0] === '--build-only';

const build = spawnSync(
  'turbo',
  ['run', 'build', '--filter=@parley/host...', '--output-logs=errors-only'],
  { cwd: root, encoding: 'utf8', env: { TURBO_TELEMETRY_DISABLED: '1', ...process.env } },
);
if (build.status !== 0) {
  process.stderr.write(`${build.stdout ?? ''}${build.stderr ?? ''}${build.error ? String(build.error) : ''}\n`);
  process.stderr.write('parley: building the host failed\n');
  process.exit(build.status ?? 1);
}
if (buildOnly) process.exit(0);

// Run the CLI in this process so signals (Ctrl-C, SIGTERM) reach it directly.
const cli = path.join(root, 'apps/host/dist/cli.js');
process.argv = [process.argv[0], cli, ...args];
await import(pathToFileURL(cli).href);
