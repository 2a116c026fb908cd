/**
 * Everything `parley start` checks in a config before it opens anything: every connector loaded
 * and its options validated, the store URL, the Genesys URLs. `parley config check` runs the same
 * checks, so a file it accepts fails at start only for what cannot be known without starting (a
 * wrong token, an unreachable platform).
 */
import path from 'node:path';
import {
  ConfigError,
  resolveGenesysUrls,
  sqlitePathFromUrl,
  validateConnectorOptions,
  type ConfigIssue,
  type ConnectorDefinition,
  type ParleyConfig,
} from '@parley/core';
import { loadConnectorDefinition } from './load-connectors.js';

export interface PlannedConnector {
  id: string;
  entry: ParleyConfig['connectors'][string];
  definition: ConnectorDefinition;
  /** Options validated by the connector's schema, defaults applied. */
  options: unknown;
}

export interface HostPlan {
  connectors: PlannedConnector[];
  /** The store URL with a relative SQLite path resolved from the config file's directory. */
  storeUrl: string;
  /** Where Genesys is; undefined in emulator mode (no `genesys.clientId`): the host starts one. */
  genesysUrls: { apiUrl: string; loginUrl: string } | undefined;
}

/** `sqlite:./x.db` is relative to the config file, like every other path in it. */
export function resolveStoreUrl(url: string, baseDir: string): string {
  const match = /^sqlite:(.*)$/.exec(url);
  if (!match || match[1] === ':memory:' || path.isAbsolute(match[1]!)) return url;
  return `sqlite:${path.resolve(baseDir, match[1]!)}`;
}

/**
 * Runs every check and throws one {@link ConfigError} with all their issues, each under its key
 * path: a config with two bad connectors names both, not only the first.
 */
export async function planHost(config: ParleyConfig, baseDir: string): Promise<HostPlan> {
  const issues: ConfigIssue[] = [];
  const record = (error: unknown): void => {
    if (!(error instanceof ConfigError)) throw error;
    issues.push(...error.issues);
  };
  const collect = <T>(check: () => T): T | undefined => {
    try {
      return check();
    } catch (error) {
      record(error);
      return undefined;
    }
  };

  const loaded = await Promise.allSettled(
    Object.entries(config.connectors).map(async ([id, entry]) => {
      const definition = await loadConnectorDefinition(id, entry.use, baseDir);
      return { id, entry, definition };
    }),
  );
  const connectors: PlannedConnector[] = [];
  for (const result of loaded) {
    if (result.status === 'rejected') {
      record(result.reason);
      continue;
    }
    const { id, entry, definition } = result.value;
    try {
      connectors.push({ id, entry, definition, options: validateConnectorOptions(id, definition.optionsSchema, entry.options) });
    } catch (error) {
      record(error);
    }
  }

  const storeUrl = resolveStoreUrl(config.store.url, baseDir);
  // openStore's own check of the URL, without opening it.
  collect(() => sqlitePathFromUrl(storeUrl));
  const genesysUrls = config.genesys?.clientId ? collect(() => resolveGenesysUrls(config.genesys!)) : undefined;

  if (issues.length > 0) throw new ConfigError(issues);
  return { connectors, storeUrl, genesysUrls };
}
