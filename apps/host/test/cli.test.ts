/**
 * The `parley` command line, run as a user runs it.
 */
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { request } from 'undici';
import { Ajv2020 } from 'ajv/dist/2020.js';
import ajvFormats from 'ajv-formats';
import { CLI, killHost, runCli, startHostProcess, tempDir, writeConfig, type HostProcess } from './support/host-process.js';
import { agentWebhook, createWorld, eventually, freePort, hostEnv, postWebhook, type World } from './support/fixtures.js';

let world: World | undefined;
let host: HostProcess | undefined;

afterEach(async () => {
  await killHost(host);
  host = undefined;
  await world?.close();
  world = undefined;
});

/** `parley config schema`, run once for the tests that read it (each run imports every connector). */
let schemaRun: ReturnType<typeof runCli> | undefined;
const printedSchema = () => (schemaRun ??= runCli(['config', 'schema']));

describe('parley CLI', () => {
  it('prints its usage', async () => {
    const result = await runCli(['--help']);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('parley start');
    expect((await runCli(['frobnicate'])).code).toBe(2);
  });

  it('prints the JSON Schema of the config file, with the options of every first-party connector', async () => {
    const result = await printedSchema();
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    const schema = JSON.parse(result.stdout) as JsonSchema;
    expect(Object.keys(schema.properties ?? {})).toEqual(expect.arrayContaining(['server', 'store', 'genesys', 'connectors']));
    expect(connectorAlternatives(schema).map((entry) => entry.properties?.use?.const ?? 'other')).toEqual([
      '@parley/connector-telegram',
      '@parley/connector-slack',
      '@parley/connector-discord',
      '@parley/testkit#referenceConnector',
      'other',
    ]);
    const slack = connectorAlternatives(schema)[1]?.properties?.options;
    expect(slack?.required).toEqual(['botToken']);
    expect(slack?.properties?.mode?.enum).toEqual(['http', 'socket']);
  });

  it('validates config documents with the printed schema: telegram options checked, other packages open', async () => {
    const schema = JSON.parse((await printedSchema()).stdout) as JsonSchema;
    // What an editor does with it: a JSON Schema validator (draft 2020-12, as zod emits).
    const ajv = new Ajv2020({ allErrors: true, strict: false });
    // ajv-formats is CommonJS with a default export: ESM sees it under `.default`.
    (ajvFormats as unknown as { default: (ajv: Ajv2020) => void }).default(ajv);
    const validate = ajv.compile(schema);
    const configWith = (connector: Record<string, unknown>) => ({
      genesys: { region: 'mypurecloud.com', clientId: '${GENESYS_CLIENT_ID}', clientSecret: '${GENESYS_CLIENT_SECRET}' },
      connectors: { support: { integrationId: 'abc', webhookSecret: '${GENESYS_WEBHOOK_SECRET}', ...connector } },
    });
    const telegram = { use: '@parley/connector-telegram' };
    const accepts = (connector: Record<string, unknown>) => validate(configWith(connector));

    expect(accepts({ ...telegram, options: { token: '${TELEGRAM_BOT_TOKEN}', mode: 'polling' } }), JSON.stringify(validate.errors)).toBe(true);
    expect(accepts({ ...telegram, options: { token: '123456:AAE-secret', mode: 'webhook', chatTypes: ['group'] } })).toBe(true);
    expect(accepts({ ...telegram, options: { mode: 'polling' } })).toBe(false);
    expect(validate.errors?.some((error) => error.instancePath.endsWith('/options') && error.params.missingProperty === 'token')).toBe(true);
    expect(accepts({ ...telegram, options: { token: '${T}', mode: 'push' } })).toBe(false);
    expect(accepts(telegram)).toBe(false);
    // A package the schema does not know keeps open options; a known one cannot pass as unknown.
    expect(accepts({ use: '@acme/parley-connector-line', options: { anything: 1 } })).toBe(true);
    const [, , , , other] = connectorAlternatives(schema);
    expect(other?.properties?.use?.not?.enum).toContain('@parley/connector-telegram');
  });

  it('adds the connectors a config file names, and leaves out with a note those it cannot load', async () => {
    const config = writeConfig(
      tempDir(),
      [
        'connectors:',
        '  support:',
        '    use: "@parley/connector-telegram#telegramConnector"',
        '    options: { token: ${UNSET_TELEGRAM_TOKEN_FOR_SCHEMA} }',
        '  elsewhere:',
        '    use: "@acme/parley-connector-not-installed"',
        '',
      ].join('\n'),
    );
    const [result, missing] = await Promise.all([
      runCli(['config', 'schema', '--config', config]),
      runCli(['config', 'schema', '--config', path.join(tempDir(), 'missing.yaml')]),
    ]);
    expect(result.code).toBe(0);
    expect(result.stderr).toContain('"@acme/parley-connector-not-installed" is left out of the schema: cannot load');
    expect(result.stderr).not.toContain('UNSET_TELEGRAM_TOKEN_FOR_SCHEMA');
    const alternatives = connectorAlternatives(JSON.parse(result.stdout) as JsonSchema);
    expect(alternatives[0]?.properties?.use?.enum).toEqual(['@parley/connector-telegram', '@parley/connector-telegram#telegramConnector']);
    expect(alternatives).toHaveLength(5);

    // A file that cannot be read costs its connectors, not the schema.
    expect(missing.code).toBe(0);
    expect(missing.stderr).toContain('Config file not found');
    expect(connectorAlternatives(JSON.parse(missing.stdout) as JsonSchema)).toHaveLength(5);
  });

  it('checks a config file, connector options included, naming each bad key', async () => {
    world = await createWorld();
    const good = await runCli(['config', 'check', '--config', world.configPath], { env: hostEnv(world) });
    expect(good.stderr).toBe('');
    expect(good.code).toBe(0);
    expect(good.stdout).toContain('OK');

    const dir = tempDir();
    const bad = path.join(dir, 'parley.yaml');
    writeFileSync(
      bad,
      'server:\n  prot: 8080\nconnectors:\n  chat:\n    use: "@parley/testkit#referenceConnector"\n    options:\n      apiUrl: not-a-url\n',
    );
    const result = await runCli(['config', 'check', '--config', bad]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('server: Unknown key "prot"');
    const options = await runCli(['config', 'check', '--config', writeOptionsOnly(dir)]);
    expect(options.code).toBe(2);
    expect(options.stderr).toMatch(/connectors\.chat\.options\.apiUrl: /);
    expect(options.stderr).toMatch(/connectors\.chat\.options\.token: /);
  });

  it('checks what start checks before it opens anything, every connector and key at once', async () => {
    const file = writeConfig(
      tempDir(),
      [
        'store:',
        '  url: postgres://parley:pw@db.example/parley',
        'genesys:',
        '  region: mars.example.com',
        '  clientId: parley-client',
        '  clientSecret: a-client-secret-long-enough',
        'connectors:',
        ...['one', 'two', 'three'].map((id, index) =>
          [
            `  ${id}:`,
            `    use: "${id === 'two' ? '@acme/parley-connector-not-installed' : '@parley/testkit#referenceConnector'}"`,
            `    integrationId: 5a0e2a1c-8d3e-4a43-9a55-3b8f4c2f0e1${index}`,
            '    webhookSecret: webhook-secret-0123456789',
            ...(id === 'two' ? [] : [`    options: { apiUrl: ${id === 'one' ? 'not-a-url' : 'http://127.0.0.1:1'}${id === 'one' ? ', token: t' : ''} }`]),
          ].join('\n'),
        ),
        '',
      ].join('\n'),
    );
    const [check, start] = await Promise.all([runCli(['config', 'check', '--config', file]), runCli(['start', '--config', file])]);
    for (const result of [check, start]) {
      expect(result.code).toBe(2);
      expect(result.stderr).toContain('genesys.region: unknown Genesys Cloud region "mars.example.com"');
      expect(result.stderr).toContain('store.url: PostgreSQL support is not implemented yet');
      expect(result.stderr).toContain('connectors.one.options.apiUrl: ');
      expect(result.stderr).toContain('connectors.two.use: cannot load "@acme/parley-connector-not-installed"');
      expect(result.stderr).toContain('connectors.three.options.token: ');
    }
  });

  it('runs the Genesys emulator on its own until SIGTERM', async () => {
    const port = await freePort();
    const child = spawn(process.execPath, [CLI, 'emulator', '--port', String(port)], { stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (chunk) => (output += chunk));
    await eventually(() => output.includes('clientSecret: '), 10_000, 'the emulator to start');
    // What it prints is all a user needs: the credentials, registering an integration.
    const url = /emulator running at (\S+)/.exec(output)?.[1];
    const clientId = /clientId: (\S+)/.exec(output)?.[1];
    const clientSecret = /clientSecret: (\S+)/.exec(output)?.[1];
    expect(url).toBe(`http://127.0.0.1:${port}`);
    const token = await request(`${url}/oauth/token`, {
      method: 'POST',
      headers: {
        authorization: `Basic ${Buffer.from(`${clientId}:${clientSecret}`).toString('base64')}`,
        'content-type': 'application/x-www-form-urlencoded',
      },
      body: 'grant_type=client_credentials',
    });
    expect(token.statusCode).toBe(200);
    expect(((await token.body.json()) as { access_token: string }).access_token).toBeTruthy();
    const integration = await request(`${url}/emulator/integrations`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ id: 'my-integration', webhookUrl: 'http://127.0.0.1:8080/connectors/chat/genesys', webhookSecret: 'a-webhook-secret' }),
    });
    expect(integration.statusCode).toBe(201);
    expect(await integration.body.json()).toMatchObject({ id: 'my-integration' });
    const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
  });

  it('lists and replays dead-lettered jobs', async () => {
    world = await createWorld({ queueYaml: '  backoffBaseMs: 10\n  backoffMaxMs: 20\n  maxAttempts: 2' });
    host = await startHostProcess(world.configPath, { env: hostEnv(world) });
    world.platform.customer('dlq-chat');
    world.platform.failNext({ method: 'messages', status: 503, times: 2 });
    await postWebhook(host.url, agentWebhook('dlq-000000000000000000000000001', 'ref:dlq-chat', 'try me later'));
    await world.emulator.waitForInbound((r) => r.kind === 'receipt' && r.body.status === 'Failed', 10_000);
    host.child.kill('SIGTERM');
    await host.exited;

    const listed = await runCli(['dlq', 'list', '--config', world.configPath], { env: hostEnv(world) });
    expect(listed.code).toBe(0);
    const dead = listed.stdout.trim().split('\n').map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(dead).toEqual([expect.objectContaining({ queue: 'to-platform', connector: 'chat', kind: 'message', attempts: 2 })]);

    const replayed = await runCli(['dlq', 'replay', '--all', '--config', world.configPath], { env: hostEnv(world) });
    expect(replayed.stdout).toContain('replayed 1 job(s)');
    host = await startHostProcess(world.configPath, { env: hostEnv(world) });
    await world.platform.waitForSent((message) => message.text === 'try me later', 10_000);
  });

  it('starts the demo on embedded defaults when there is no config: a message crosses end to end', async () => {
    const cwd = tempDir('parley-demo-');
    const child = spawn(process.execPath, [CLI, 'start', '--port', '0'], { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (chunk) => (output += chunk));
    child.stderr.on('data', (chunk) => (output += chunk));
    try {
      // The demo customer's hello goes to the emulator, whose echo agent answers; the answer is
      // delivered back to the customer through the connector.
      await eventually(() => output.includes('Agent message delivered to the customer'), 20_000, 'the demo round trip');
      expect(output).toContain('built-in Genesys emulator');
      expect(output).toContain('Customer message sent to Genesys');
    } finally {
      const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));
      child.kill('SIGTERM');
      expect(await exited).toBe(0);
    }
  });
});

interface JsonSchema {
  const?: unknown;
  enum?: unknown[];
  not?: JsonSchema;
  required?: string[];
  properties?: Record<string, JsonSchema>;
  additionalProperties?: JsonSchema | boolean;
  anyOf?: JsonSchema[];
}

function connectorAlternatives(schema: JsonSchema): JsonSchema[] {
  return (schema.properties?.connectors?.additionalProperties as JsonSchema | undefined)?.anyOf ?? [];
}

function writeOptionsOnly(dir: string): string {
  const file = path.join(dir, 'options.yaml');
  writeFileSync(file, 'connectors:\n  chat:\n    use: "@parley/testkit#referenceConnector"\n    options:\n      apiUrl: not-a-url\n');
  return file;
}
