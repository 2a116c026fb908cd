import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError } from '../errors.js';
import { loadConfigFile, parseConfig } from './load.js';

/** The DESIGN §6 example, filled in. */
const FULL_FILE = `# parley.yaml
server: { port: 8443, publicUrl: https://bridge.example.com, mediaSecret: \${MEDIA_SECRET} }
store: { url: postgres://parley:pw@db.internal/parley }
genesys:
  region: mypurecloud.com                      # or apiUrl + loginUrl
  clientId: \${GENESYS_CLIENT_ID}
  clientSecret: \${GENESYS_CLIENT_SECRET}
  requestsPerMinute: 120
  deliveredReceipts: false                     # keep the budget for customer messages
connectors:
  support-telegram:                            # connector id: used in routes, metrics, logs
    use: "@parley/connector-telegram"
    integrationId: 0f2d9c1e-5b7a-4c1d-9e8f-0123456789ab
    webhookSecret: \${GENESYS_WEBHOOK_SECRET}
    options: { token: \${TELEGRAM_BOT_TOKEN}, mode: polling }   # validated by the connector
  slack-eu:
    use: "@parley/connector-slack#slackConnector"
    integrationId: 5d7e1f00-0000-4000-8000-00000000beef
    webhookSecret: "$\${NOT_A_VARIABLE}-literal-secret"
    options:
      botToken: \${SLACK_BOT_TOKEN}
      conversation: per-thread
log: { level: debug, format: pretty }
queue: { concurrency: 8, maxAttempts: 5, backoffBaseMs: 250, backoffMaxMs: 60000 }
`;

const ENV = {
  MEDIA_SECRET: 'media-secret-0123456789',
  GENESYS_CLIENT_ID: 'client-id',
  GENESYS_CLIENT_SECRET: 'client-secret',
  GENESYS_WEBHOOK_SECRET: 'webhook-secret-0123456789',
  TELEGRAM_BOT_TOKEN: '123456:ABC-def',
  SLACK_BOT_TOKEN: 'xoxb-1',
};

function configError(run: () => unknown): ConfigError {
  try {
    run();
  } catch (error) {
    if (error instanceof ConfigError) return error;
    throw error;
  }
  throw new Error('expected a ConfigError');
}

describe('parseConfig', () => {
  it('reads a full file, interpolating variables, also inside flow mappings', () => {
    expect(parseConfig(FULL_FILE, { env: ENV })).toEqual({
      server: {
        port: 8443,
        host: '0.0.0.0',
        publicUrl: 'https://bridge.example.com',
        bodyLimitBytes: 1_048_576,
        mediaSecret: 'media-secret-0123456789',
        mediaTtlSeconds: 3600,
        shutdownGraceMs: 10_000,
      },
      store: { url: 'postgres://parley:pw@db.internal/parley' },
      genesys: {
        region: 'mypurecloud.com',
        clientId: 'client-id',
        clientSecret: 'client-secret',
        requestsPerMinute: 120,
        timeoutMs: 10_000,
        deliveredReceipts: false,
      },
      connectors: {
        'support-telegram': {
          use: '@parley/connector-telegram',
          integrationId: '0f2d9c1e-5b7a-4c1d-9e8f-0123456789ab',
          webhookSecret: 'webhook-secret-0123456789',
          options: { token: '123456:ABC-def', mode: 'polling' },
        },
        'slack-eu': {
          use: '@parley/connector-slack#slackConnector',
          integrationId: '5d7e1f00-0000-4000-8000-00000000beef',
          webhookSecret: '${NOT_A_VARIABLE}-literal-secret',
          options: { botToken: 'xoxb-1', conversation: 'per-thread' },
        },
      },
      log: { level: 'debug', format: 'pretty' },
      queue: { concurrency: 8, maxAttempts: 5, backoffBaseMs: 250, backoffMaxMs: 60_000, outageHoldMs: 3_600_000 },
    });
  });

  it('reads a numeric setting from the environment', () => {
    const config = parseConfig('server: { port: ${PORT} }\nconnectors: { chat: { use: x } }\n', { env: { PORT: '9090' } });
    expect(config.server.port).toBe(9090);
  });

  it('lists every missing variable before validating', () => {
    const error = configError(() => parseConfig(FULL_FILE, { env: { ...ENV, GENESYS_CLIENT_SECRET: undefined, SLACK_BOT_TOKEN: undefined } }));
    expect(error.code).toBe('CONFIG_ENV_MISSING');
    expect(error.issues).toEqual([
      { path: 'genesys.clientSecret', message: 'environment variable GENESYS_CLIENT_SECRET is not set' },
      { path: 'connectors.slack-eu.options.botToken', message: 'environment variable SLACK_BOT_TOKEN is not set' },
    ]);
  });

  it('reports a YAML syntax error with line and column', () => {
    const error = configError(() =>
      parseConfig('server:\n  port: 8080\nconnectors: [a, b\nlog: {}\n', { env: {}, source: '/etc/parley.yaml' }),
    );
    expect(error.code).toBe('CONFIG_FILE');
    expect(error.issues).toHaveLength(1);
    // yaml notices the unclosed sequence where the next block key starts.
    expect(error.issues[0]?.message).toBe(
      'Invalid YAML in /etc/parley.yaml at line 4, column 1: Flow sequence in block collection must be sufficiently indented and end with a ]',
    );
    expect(error.details).toMatchObject({ source: '/etc/parley.yaml', line: 4, column: 1 });
  });

  it('reports a duplicate key as a YAML error', () => {
    const error = configError(() => parseConfig('log: {}\nlog: {}\n', { env: {} }));
    expect(error.code).toBe('CONFIG_FILE');
    expect(error.message).toBe('Invalid YAML in parley.yaml at line 2, column 1: Map keys must be unique');
  });

  it('reports schema errors with paths, including an unknown top-level key', () => {
    const error = configError(() =>
      parseConfig('prot: 8080\nserver: { port: abc }\nconnectors:\n  chat: { use: x }\n', { env: {} }),
    );
    expect(error.code).toBe('CONFIG_INVALID');
    expect(error.issues).toEqual([
      { path: 'server.port', message: 'Expected number, received string' },
      { path: '', message: 'Unknown key "prot"' },
    ]);
    expect(error.message).toBe('server.port: Expected number, received string\nUnknown key "prot"');
  });

  it('names genesys.deliveredReceipts when it is not a boolean', () => {
    const error = configError(() => parseConfig('genesys: { deliveredReceipts: sometimes }\nconnectors:\n  chat: { use: x }\n', { env: {} }));
    expect(error.issues).toEqual([{ path: 'genesys.deliveredReceipts', message: 'Expected boolean, received string' }]);
  });

  it('treats an empty file as an empty config', () => {
    expect(configError(() => parseConfig('', { env: {} })).issues).toEqual([{ path: 'connectors', message: 'Required' }]);
    expect(configError(() => parseConfig('# only a comment\n', { env: {} })).issues).toEqual([
      { path: 'connectors', message: 'Required' },
    ]);
  });

  it('rejects a document that is not a mapping', () => {
    expect(configError(() => parseConfig('- a\n- b\n', { env: {} })).issues).toEqual([
      { path: '', message: 'Expected object, received array' },
    ]);
  });

  it('reads process.env when no env is given', () => {
    const name = `PARLEY_TEST_USE_${process.pid}`;
    process.env[name] = '@parley/connector-telegram';
    try {
      expect(parseConfig(`connectors: { chat: { use: \${${name}} } }`).connectors.chat?.use).toBe('@parley/connector-telegram');
    } finally {
      delete process.env[name];
    }
  });
});

describe('loadConfigFile', () => {
  let dir: string;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'parley-config-'));
  });

  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('loads a file', async () => {
    const path = join(dir, 'parley.yaml');
    await writeFile(path, FULL_FILE);
    const config = await loadConfigFile(path, { env: ENV });
    expect(config.connectors['support-telegram']?.options).toEqual({ token: '123456:ABC-def', mode: 'polling' });
  });

  it('names the file in errors from its content', async () => {
    const path = join(dir, 'broken.yaml');
    await writeFile(path, 'connectors: [\n');
    await expect(loadConfigFile(path, { env: {} })).rejects.toThrow(`Invalid YAML in ${path} at line 2, column 1`);
  });

  it('reports a missing file as CONFIG_FILE naming the path', async () => {
    const path = join(dir, 'nope.yaml');
    const error = await loadConfigFile(path, { env: {} }).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(ConfigError);
    expect(error).toMatchObject({ code: 'CONFIG_FILE', issues: [{ path: '', message: `Config file not found: ${path}` }] });
  });

  it('reports a directory as unreadable', async () => {
    const error = await loadConfigFile(dir, { env: {} }).catch((caught: unknown) => caught);
    expect(error).toMatchObject({ code: 'CONFIG_FILE', message: `Cannot read config file ${dir}: EISDIR` });
  });
});
