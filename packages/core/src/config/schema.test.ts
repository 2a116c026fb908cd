import { describe, expect, it } from 'vitest';
import type { ConfigIssue } from '../errors.js';
import { parleyConfigSchema } from './schema.js';
import { formatZodIssues } from './zod-issues.js';

const SECRET = 'a-webhook-secret-of-32-characters';

/** The issues a config object produces, as operators read them. */
function issuesOf(config: unknown): ConfigIssue[] {
  const result = parleyConfigSchema.safeParse(config);
  if (result.success) return [];
  return formatZodIssues(result.error);
}

const minimal = { connectors: { chat: { use: '@parley/connector-telegram' } } };
const withCredentials = (genesys: Record<string, unknown>, connector: Record<string, unknown> = {}) => ({
  genesys,
  connectors: { 'support-telegram': { use: '@parley/connector-telegram', ...connector } },
});

describe('parleyConfigSchema: defaults', () => {
  it('fills every section from a file with only a connector', () => {
    expect(parleyConfigSchema.parse(minimal)).toEqual({
      server: { port: 8080, host: '0.0.0.0', bodyLimitBytes: 1_048_576, mediaTtlSeconds: 3600, shutdownGraceMs: 10_000 },
      store: { url: 'sqlite:./data/parley.db' },
      genesys: { requestsPerMinute: 300, timeoutMs: 10_000, deliveredReceipts: true },
      connectors: { chat: { use: '@parley/connector-telegram', options: {} } },
      log: { level: 'info', format: 'json' },
      queue: { concurrency: 32, maxAttempts: 8, backoffBaseMs: 500, backoffMaxMs: 300_000, outageHoldMs: 3_600_000 },
    });
  });

  it('accepts integers written as strings (they come from ${VAR})', () => {
    const config = parleyConfigSchema.parse({ ...minimal, server: { port: '9000' }, queue: { concurrency: '4' } });
    expect(config.server.port).toBe(9000);
    expect(config.queue.concurrency).toBe(4);
  });

  it('accepts postgres URLs and emulator mode with apiUrl alone', () => {
    expect(issuesOf({ ...minimal, store: { url: 'postgres://u:p@db/parley' } })).toEqual([]);
    expect(issuesOf({ ...minimal, store: { url: 'postgresql://db/parley' } })).toEqual([]);
    expect(issuesOf({ ...minimal, genesys: { apiUrl: 'http://127.0.0.1:4010' } })).toEqual([]);
  });

  it('accepts credentials with region, or with apiUrl and loginUrl', () => {
    const connector = { integrationId: 'integration-1', webhookSecret: SECRET };
    expect(issuesOf(withCredentials({ region: 'mypurecloud.ie', clientId: 'id', clientSecret: 's' }, connector))).toEqual([]);
    expect(
      issuesOf(
        withCredentials(
          { apiUrl: 'https://api.example.com', loginUrl: 'https://login.example.com', clientId: 'id', clientSecret: 's' },
          connector,
        ),
      ),
    ).toEqual([]);
  });

  it('accepts a package export name in use', () => {
    expect(issuesOf({ connectors: { chat: { use: '@acme/parley-whatsapp#whatsappConnector' } } })).toEqual([]);
  });
});

describe('parleyConfigSchema: errors name the key path and the reason', () => {
  it.each<[string, unknown, ConfigIssue[]]>([
    ['port of the wrong type', { server: { port: 'http' } }, [{ path: 'server.port', message: 'Expected number, received string' }]],
    ['port out of range', { server: { port: 70000 } }, [{ path: 'server.port', message: 'Must be at most 65535' }]],
    ['negative port', { server: { port: -1 } }, [{ path: 'server.port', message: 'Must be at least 0' }]],
    ['fractional port', { server: { port: 80.5 } }, [{ path: 'server.port', message: 'Expected integer, received number' }]],
    [
      'publicUrl that is not http(s)',
      { server: { publicUrl: 'ftp://files.example.com' } },
      [{ path: 'server.publicUrl', message: 'Expected an http:// or https:// URL' }],
    ],
    [
      'publicUrl that is not a URL',
      { server: { publicUrl: 'bridge.example.com' } },
      [{ path: 'server.publicUrl', message: 'Expected an http:// or https:// URL' }],
    ],
    ['short mediaSecret', { server: { mediaSecret: 'short' } }, [{ path: 'server.mediaSecret', message: 'Must be at least 16 characters' }]],
    [
      'store url of another database',
      { store: { url: 'mysql://db/parley' } },
      [{ path: 'store.url', message: 'Expected a URL starting with "sqlite:", "postgres://" or "postgresql://"' }],
    ],
    [
      'region with a scheme',
      { genesys: { region: 'https://api.mypurecloud.com' } },
      [{ path: 'genesys.region', message: 'Expected a region domain such as mypurecloud.com or a region key such as us_east_1 (no scheme, no path)' }],
    ],
    [
      'unknown log level',
      { log: { level: 'verbose' } },
      [{ path: 'log.level', message: 'Expected one of "fatal", "error", "warn", "info", "debug", "trace", "silent"' }],
    ],
    ['unknown log format', { log: { format: 'xml' } }, [{ path: 'log.format', message: 'Expected one of "json", "pretty"' }]],
    ['zero concurrency', { queue: { concurrency: 0 } }, [{ path: 'queue.concurrency', message: 'Must be at least 1' }]],
    [
      'backoffMaxMs below backoffBaseMs',
      { queue: { backoffBaseMs: 1000, backoffMaxMs: 10 } },
      [{ path: 'queue.backoffMaxMs', message: 'Must be at least backoffBaseMs (1000)' }],
    ],
    ['unknown key in a section', { server: { prot: 8080 } }, [{ path: 'server', message: 'Unknown key "prot"' }]],
    ['a section of the wrong type', { log: 'debug' }, [{ path: 'log', message: 'Expected object, received string' }]],
  ])('%s', (_name, section, expected) => {
    expect(issuesOf({ ...minimal, ...(section as object) })).toEqual(expected);
  });

  it('names an unknown top-level key (a typo must not pass silently)', () => {
    expect(issuesOf({ ...minimal, sever: { port: 1 } })).toEqual([{ path: '', message: 'Unknown key "sever"' }]);
    expect(issuesOf({ ...minimal, a: 1, b: 2 })).toEqual([
      { path: '', message: 'Unknown key "a"' },
      { path: '', message: 'Unknown key "b"' },
    ]);
  });

  it('requires at least one connector', () => {
    expect(issuesOf({})).toEqual([{ path: 'connectors', message: 'Required' }]);
    expect(issuesOf({ connectors: {} })).toEqual([{ path: 'connectors', message: 'At least one connector is required' }]);
    expect(issuesOf({ connectors: null })).toEqual([{ path: 'connectors', message: 'Expected object, received null' }]);
  });

  it('names a bad connector id', () => {
    expect(issuesOf({ connectors: { Support_Telegram: { use: 'x' } } })).toEqual([
      {
        path: 'connectors.Support_Telegram',
        message: 'Invalid connector id "Support_Telegram": use lowercase letters, digits and "-", starting with a letter or digit',
      },
    ]);
    expect(issuesOf({ connectors: { '-tg': { use: 'x' } } })[0]?.path).toBe('connectors.-tg');
  });

  it('checks each connector', () => {
    expect(
      issuesOf({
        connectors: {
          'support-telegram': {},
          slack: { use: '@parley/connector-slack', webhookSecret: 'short', integrationID: 'typo' },
          discord: { use: 'pkg#not an export' },
        },
      }),
    ).toEqual([
      { path: 'connectors.support-telegram.use', message: 'Required' },
      { path: 'connectors.slack.webhookSecret', message: 'Must be at least 16 characters' },
      { path: 'connectors.slack', message: 'Unknown key "integrationID"' },
      { path: 'connectors.discord.use', message: 'Expected a package name, optionally followed by #exportName' },
    ]);
  });

  it('requires clientSecret and a region or apiUrl with clientId', () => {
    const connector = { integrationId: 'i', webhookSecret: SECRET };
    expect(issuesOf(withCredentials({ clientId: 'id' }, connector))).toEqual([
      { path: 'genesys.clientSecret', message: 'Required when clientId is set' },
      { path: 'genesys.region', message: 'Set region (e.g. mypurecloud.com) or apiUrl when clientId is set' },
    ]);
  });

  it('requires loginUrl with apiUrl when credentials are set', () => {
    const connector = { integrationId: 'i', webhookSecret: SECRET };
    expect(
      issuesOf(withCredentials({ clientId: 'id', clientSecret: 's', apiUrl: 'https://api.example.com' }, connector)),
    ).toEqual([{ path: 'genesys.loginUrl', message: 'Required when apiUrl is set' }]);
  });

  it('refuses a clientSecret without clientId instead of falling back to the emulator', () => {
    expect(issuesOf({ ...minimal, genesys: { clientSecret: 's' } })).toEqual([
      { path: 'genesys.clientId', message: 'Required when clientSecret is set' },
    ]);
  });

  it('requires integrationId and webhookSecret on every connector once credentials are set', () => {
    expect(
      issuesOf({
        genesys: { region: 'mypurecloud.com', clientId: 'id', clientSecret: 's' },
        connectors: {
          'support-telegram': { use: 'a' },
          slack: { use: 'b', integrationId: 'i', webhookSecret: SECRET },
          discord: { use: 'c', integrationId: 'i' },
        },
      }),
    ).toEqual([
      { path: 'connectors.support-telegram.integrationId', message: 'Required when Genesys credentials are configured (genesys.clientId)' },
      { path: 'connectors.support-telegram.webhookSecret', message: 'Required when Genesys credentials are configured (genesys.clientId)' },
      { path: 'connectors.discord.webhookSecret', message: 'Required when Genesys credentials are configured (genesys.clientId)' },
    ]);
  });

  it('reports cross-field rules together with unrelated errors', () => {
    const config = withCredentials({ clientId: 'id', region: 'mypurecloud.com' }, { integrationId: 'i', webhookSecret: SECRET });
    expect(issuesOf({ ...config, log: { level: 'loud' } })).toEqual([
      { path: 'log.level', message: 'Expected one of "fatal", "error", "warn", "info", "debug", "trace", "silent"' },
      { path: 'genesys.clientSecret', message: 'Required when clientId is set' },
    ]);
  });
});
