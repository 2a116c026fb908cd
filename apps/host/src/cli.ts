#!/usr/bin/env node
/**
 * The `parley` command line: start the host, run the Genesys emulator on its own, check the
 * config, print its JSON Schema, and list/replay dead-lettered jobs.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import {
  ConfigError,
  configJsonSchema,
  createLogger,
  loadConfigFile,
  openStore,
  type ParleyConfig,
  type QueueName,
} from '@parley/core';
import { startGenesysEmulator } from '@parley/testkit';
import { findConfigPath } from './config-source.js';
import { startDemo } from './demo.js';
import { tuneHeapGrowth } from './heap-growth.js';
import { planHost, resolveStoreUrl } from './host-plan.js';
import { startHost } from './host.js';
import { FIRST_PARTY_CONNECTORS, loadConnectorSchemaSources } from './load-connectors.js';
import { hostLogger } from './logger.js';
import { handleSignals, logUnhandledRejections, type Shutdown } from './signals.js';

const HELP = `parley: bridges chat platforms to Genesys Cloud Open Messaging

Usage:
  parley start [--config parley.yaml] [--port N]
                                          start the host (no config file: the demo on embedded defaults)
  parley emulator [--port 9090]           run the Genesys Open Messaging emulator on its own
  parley config check [--config file]     validate a config file, connector options included
  parley config schema [--config file]    print the config file's JSON Schema (for editor completion),
                                          with the options of Parley's connectors and of those the file names
  parley dlq list [--config file]         list dead-lettered jobs
  parley dlq replay <id>|--all [--config file]   move dead-lettered jobs back to their queue

The config path may also come from PARLEY_CONFIG; ./parley.yaml is used when present.
`;

const out = (text: string): void => void process.stdout.write(text.endsWith('\n') ? text : `${text}\n`);
const err = (text: string): void => void process.stderr.write(text.endsWith('\n') ? text : `${text}\n`);

function packageVersion(): string {
  const manifest = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string };
  return manifest.version;
}

async function loadConfig(configPath: string): Promise<{ config: ParleyConfig; baseDir: string }> {
  return { config: await loadConfigFile(configPath, { env: process.env }), baseDir: path.dirname(configPath) };
}

async function start(flags: { config?: string; port?: string }): Promise<void> {
  const port = flags.port === undefined ? undefined : Number(flags.port);
  if (port !== undefined && !(Number.isInteger(port) && port >= 0 && port <= 65_535)) {
    throw new UsageError(`--port must be a port number, got "${flags.port}"`);
  }
  tuneHeapGrowth();
  const configPath = findConfigPath(flags.config, process.env, process.cwd());
  if (configPath) {
    const { config, baseDir } = await loadConfig(configPath);
    if (port !== undefined) config.server.port = port;
    const logger = hostLogger(config.log);
    logger.info({ config: configPath }, 'Starting Parley');
    logUnhandledRejections(logger);
    const shutdown = handleSignals(logger);
    const host = await startOrStopped(shutdown, () => startHost({ config, baseDir, logger, signal: shutdown.signal }));
    if (host) shutdown.stopWith(() => host.stop());
    return;
  }
  const logger = hostLogger({ level: 'info', format: process.stdout.isTTY ? 'pretty' : 'json' });
  logUnhandledRejections(logger);
  const shutdown = handleSignals(logger);
  const demoPort = port ?? 8080;
  const demo = await startDemo({ port: demoPort, platformPort: demoPort === 0 ? 0 : demoPort + 1, logger });
  logger.info({ demoPlatform: demo.platformUrl }, 'Starting Parley on embedded defaults (no parley.yaml found)');
  const host = await startOrStopped(shutdown, () => startHost({ config: demo.config, baseDir: process.cwd(), logger, signal: shutdown.signal }), demo.close);
  if (!host) return;
  shutdown.stopWith(async () => {
    await host.stop();
    await demo.close();
  });
  await demo.greet();
}

/**
 * Runs a start-up that a signal may stop; then `startHost` has closed what it opened, `cleanUp`
 * closes what was opened before it, and the process exits 0. Undefined when so stopped.
 */
async function startOrStopped<T>(shutdown: Shutdown, run: () => Promise<T>, cleanUp?: () => Promise<void>): Promise<T | undefined> {
  try {
    return await run();
  } catch (error) {
    await cleanUp?.();
    if (!shutdown.signal.aborted) throw error;
    shutdown.startStopped();
    return undefined;
  }
}

async function emulator(flags: { port?: string; host?: string }): Promise<void> {
  const logger = createLogger({ level: 'info' });
  const shutdown = handleSignals(logger);
  const running = await startGenesysEmulator({
    port: flags.port ? Number(flags.port) : 9090,
    host: flags.host ?? '127.0.0.1',
    logger,
  });
  shutdown.stopWith(() => running.close());
  // On stdout as text, not through the logger: it redacts every clientSecret, and these are the
  // emulator's fixed test credentials, which a user needs to point anything at it.
  const { clientId, clientSecret } = running.defaultClient;
  out(
    [
      `Genesys Open Messaging emulator running at ${running.url}`,
      'Point parley.yaml at it with its test credentials:',
      '  genesys:',
      `    apiUrl: ${running.url}`,
      `    loginUrl: ${running.url}`,
      `    clientId: ${clientId}`,
      `    clientSecret: ${clientSecret}`,
      `Register an integration: POST ${running.url}/emulator/integrations {"id", "webhookUrl", "webhookSecret"}`,
      `Reply as an agent: POST ${running.url}/emulator/conversations/{conversationId}/messages {"text"}`,
      '(README.md, "The Genesys emulator on its own", has the rest.)',
    ].join('\n'),
  );
}

/**
 * Prints the JSON Schema of parley.yaml with the options of the first-party connectors and of
 * those `--config` names. Only an explicit `--config` adds connectors (not PARLEY_CONFIG or
 * ./parley.yaml), so `parley config schema > parley.schema.json` prints the same with or without a
 * parley.yaml beside it. What cannot be loaded (a config file being edited, a package not
 * installed) is left out with a note on stderr: the schema is what helps fix it.
 */
async function configSchema(flags: { config?: string }): Promise<void> {
  const uses = new Set(FIRST_PARTY_CONNECTORS);
  let baseDir = process.cwd();
  if (flags.config) {
    const configPath = path.resolve(flags.config);
    try {
      // Secrets are often unset where the file is edited: an unset `${VAR}` stays as written.
      const env = new Proxy(process.env, { get: (vars, name) => vars[String(name)] || `\${${String(name)}}` });
      const config = await loadConfigFile(configPath, { env });
      baseDir = path.dirname(configPath);
      for (const entry of Object.values(config.connectors)) uses.add(entry.use);
    } catch (error) {
      if (!(error instanceof ConfigError)) throw error;
      err(`parley: the connectors of ${configPath} are left out of the schema:\n${formatIssues(error)}`);
    }
  }
  const connectors = await loadConnectorSchemaSources(uses, baseDir, (use, error) =>
    err(`parley: "${use}" is left out of the schema: ${error.issues.map((issue) => issue.message).join('; ')}`),
  );
  const schema = configJsonSchema({
    connectors,
    onConnectorError: (source, error) =>
      err(`parley: "${source.use.join('", "')}" is left out of the schema: its options have no JSON Schema form: ${error.message}`),
  });
  out(JSON.stringify(schema, null, 2));
}

function formatIssues(error: ConfigError): string {
  return error.issues.map((issue) => `  ${issue.path ? `${issue.path}: ` : ''}${issue.message}`).join('\n');
}

async function configCommand(sub: string | undefined, flags: { config?: string }): Promise<void> {
  if (sub === 'schema') return configSchema(flags);
  if (sub !== 'check') throw new UsageError(`unknown config command "${sub ?? ''}"`);
  const configPath = findConfigPath(flags.config, process.env, process.cwd());
  if (!configPath) throw new UsageError('no config file: pass --config <file> or set PARLEY_CONFIG');
  const { config, baseDir } = await loadConfig(configPath);
  // The checks `parley start` makes before it opens anything, every issue at once.
  await planHost(config, baseDir);
  out(`${configPath}: OK (${Object.keys(config.connectors).length} connector(s))`);
}

async function dlq(sub: string | undefined, rest: string[], flags: { config?: string; all?: boolean }): Promise<void> {
  const configPath = findConfigPath(flags.config, process.env, process.cwd());
  const storeUrl = configPath ? resolveStoreUrl((await loadConfig(configPath)).config.store.url, path.dirname(configPath)) : 'sqlite:./data/parley.db';
  const store = await openStore(storeUrl, { logger: createLogger({ level: 'warn' }) });
  const queues: QueueName[] = ['to-platform', 'to-genesys'];
  try {
    if (sub === 'list') {
      for (const name of queues) {
        for (const job of await store.queue(name).listDead(1000)) {
          out(JSON.stringify({ queue: name, id: job.id, connector: job.connectorId, kind: job.kind, attempts: job.attempts, error: job.lastError }));
        }
      }
      return;
    }
    if (sub === 'replay') {
      const id = rest[0] ? Number(rest[0]) : undefined;
      if (id === undefined && !flags.all) throw new UsageError('dlq replay needs a job id or --all');
      let replayed = 0;
      for (const name of queues) replayed += await store.queue(name).replayDead(id);
      out(`replayed ${replayed} job(s)`);
      return;
    }
    throw new UsageError(`unknown dlq command "${sub ?? ''}"`);
  } finally {
    await store.close();
  }
}

class UsageError extends Error {}

function isAddressInUse(error: unknown): error is { code: 'EADDRINUSE'; port: number } {
  return typeof error === 'object' && error !== null && 'code' in error && error.code === 'EADDRINUSE';
}

async function main(argv: string[]): Promise<void> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      config: { type: 'string', short: 'c' },
      port: { type: 'string', short: 'p' },
      host: { type: 'string' },
      all: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
      version: { type: 'boolean', short: 'v' },
    },
  });
  const [command, sub, ...rest] = positionals;
  if (values.version) return out(packageVersion());
  if (values.help || !command || command === 'help') return out(HELP);
  switch (command) {
    case 'start':
      return start(values);
    case 'emulator':
      return emulator(values);
    case 'config':
      return configCommand(sub, values);
    case 'dlq':
      return dlq(sub, rest, values);
    default:
      throw new UsageError(`unknown command "${command}"`);
  }
}

main(process.argv.slice(2)).catch((error: unknown) => {
  if (error instanceof ConfigError) {
    err(`parley: invalid configuration\n${formatIssues(error)}`);
    process.exit(2);
  }
  if (error instanceof UsageError || (error instanceof TypeError && 'code' in error && String(error.code).startsWith('ERR_PARSE_ARGS'))) {
    err(`parley: ${error.message}\n\n${HELP}`);
    process.exit(2);
  }
  if (isAddressInUse(error)) {
    err(`parley: port ${error.port} is already in use: stop what runs there, or pick another with --port (or server.port)`);
    process.exit(1);
  }
  err(`parley: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
  process.exit(1);
});
