import { describe, expect, it } from 'vitest';
import { ConfigError } from '../errors.js';
import { interpolateEnv } from './env.js';

function configError(run: () => unknown): ConfigError {
  try {
    run();
  } catch (error) {
    if (error instanceof ConfigError) return error;
    throw error;
  }
  throw new Error('expected a ConfigError');
}

describe('interpolateEnv', () => {
  const env = { GENESYS_CLIENT_ID: 'client-1', HOST: 'bridge.example.com', PORT: '8443', EMPTY: '' };

  it('replaces whole-string and embedded references in every string, at any depth', () => {
    const document = {
      genesys: { clientId: '${GENESYS_CLIENT_ID}' },
      server: { publicUrl: 'https://${HOST}:${PORT}/parley', port: '${PORT}' },
      list: ['${HOST}', 7, true, null, { deep: ['x-${HOST}'] }],
    };
    expect(interpolateEnv(document, env)).toEqual({
      genesys: { clientId: 'client-1' },
      server: { publicUrl: 'https://bridge.example.com:8443/parley', port: '8443' },
      list: ['bridge.example.com', 7, true, null, { deep: ['x-bridge.example.com'] }],
    });
  });

  it('does not touch keys or the input', () => {
    const document = { '${HOST}': 'a' };
    expect(interpolateEnv(document, env)).toEqual({ '${HOST}': 'a' });
    const nested = { a: { b: '${HOST}' } };
    interpolateEnv(nested, env);
    expect(nested.a.b).toBe('${HOST}');
  });

  it('turns $${VAR} into a literal ${VAR}', () => {
    expect(interpolateEnv({ a: '$${HOST}', b: 'cost: $$${PORT}', c: '$$${HOST}' }, env)).toEqual({
      a: '${HOST}',
      b: 'cost: $${PORT}',
      c: '$${HOST}',
    });
  });

  it('leaves a lone $ and unclosed braces alone', () => {
    expect(interpolateEnv({ a: 'price $5', b: '${HOST', c: 'a$b' }, env)).toEqual({ a: 'price $5', b: '${HOST', c: 'a$b' });
  });

  it('reports every unset variable at the key path that referenced it', () => {
    const error = configError(() =>
      interpolateEnv(
        {
          genesys: { clientId: '${GENESYS_CLIENT_ID}', clientSecret: '${GENESYS_CLIENT_SECRET}' },
          connectors: { 'support-telegram': { options: { token: '${TELEGRAM_BOT_TOKEN}', hosts: ['${HOST}', '${NOPE}'] } } },
        },
        env,
      ),
    );
    expect(error.code).toBe('CONFIG_ENV_MISSING');
    expect(error.issues).toEqual([
      { path: 'genesys.clientSecret', message: 'environment variable GENESYS_CLIENT_SECRET is not set' },
      { path: 'connectors.support-telegram.options.token', message: 'environment variable TELEGRAM_BOT_TOKEN is not set' },
      { path: 'connectors.support-telegram.options.hosts.1', message: 'environment variable NOPE is not set' },
    ]);
    expect(error.message).toContain('genesys.clientSecret: environment variable GENESYS_CLIENT_SECRET is not set');
  });

  it('reports each missing variable of one string, and an empty one', () => {
    const error = configError(() => interpolateEnv({ url: 'https://${A}:${B}@${EMPTY}' }, env));
    expect(error.issues).toEqual([
      { path: 'url', message: 'environment variable A is not set' },
      { path: 'url', message: 'environment variable B is not set' },
      { path: 'url', message: 'environment variable EMPTY is empty' },
    ]);
  });

  it('rejects a malformed reference instead of keeping it as text', () => {
    const error = configError(() => interpolateEnv({ genesys: { clientSecret: '${GENESYS-SECRET}' } }, env));
    expect(error.code).toBe('CONFIG_INVALID');
    expect(error.issues).toEqual([
      {
        path: 'genesys.clientSecret',
        message:
          '"${GENESYS-SECRET}" is not a valid environment variable reference (use letters, digits and _; write $${GENESYS-SECRET} for a literal)',
      },
    ]);
  });

  it('names the root of a bare string with an empty path', () => {
    expect(interpolateEnv('${HOST}', env)).toBe('bridge.example.com');
    expect(configError(() => interpolateEnv('${NOPE}', env)).issues).toEqual([
      { path: '', message: 'environment variable NOPE is not set' },
    ]);
  });
});
