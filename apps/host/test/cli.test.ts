/**
 * The `parley` command line, run as a user runs it.
 */
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { request } from 'undici';
import { CLI, runCli, startHostProcess, tempDir, type HostProcess } from './support/host-process.js';
import { agentWebhook, createWorld, eventually, freePort, hostEnv, postWebhook, type World } from './support/fixtures.js';

let world: World | undefined;
let host: HostProcess | undefined;

afterEach(async () => {
  if (host && host.child.exitCode === null && host.child.signalCode === null) {
    host.child.kill('SIGKILL');
    await host.exited;
  }
  host = undefined;
  await world?.close();
  world = undefined;
});

describe('parley CLI', () => {
  it('prints its usage', async () => {
    const result = await runCli(['--help']);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('parley start');
    expect((await runCli(['frobnicate'])).code).toBe(2);
  });

  it('prints the JSON Schema of the config file', async () => {
    const result = await runCli(['config', 'schema']);
    expect(result.code).toBe(0);
    const schema = JSON.parse(result.stdout) as { properties: Record<string, unknown> };
    expect(Object.keys(schema.properties)).toEqual(expect.arrayContaining(['server', 'store', 'genesys', 'connectors']));
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

  it('runs the Genesys emulator on its own until SIGTERM', async () => {
    const port = await freePort();
    const child = spawn(process.execPath, [CLI, 'emulator', '--port', String(port)], { stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (chunk) => (output += chunk));
    await eventually(() => output.includes('emulator running'), 10_000, 'the emulator to start');
    const token = await request(`http://127.0.0.1:${port}/oauth/token`, {
      method: 'POST',
      headers: {
        authorization: `Basic ${Buffer.from('parley-emulator:parley-emulator-secret').toString('base64')}`,
        'content-type': 'application/x-www-form-urlencoded',
      },
      body: 'grant_type=client_credentials',
    });
    expect(token.statusCode).toBe(200);
    expect(((await token.body.json()) as { access_token: string }).access_token).toBeTruthy();
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

function writeOptionsOnly(dir: string): string {
  const file = path.join(dir, 'options.yaml');
  writeFileSync(file, 'connectors:\n  chat:\n    use: "@parley/testkit#referenceConnector"\n    options:\n      apiUrl: not-a-url\n');
  return file;
}
