/**
 * Loads the connector packages named in parley.yaml (`use:`), the way changesets loads its
 * plugins: by package name, from the user's project first and then from Parley's own
 * dependencies, with a shape check that names the package and what is wrong.
 */
import { createRequire } from 'node:module';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import {
  ConfigError,
  isConnectorDefinition,
  type ConnectorDefinition,
  type ConnectorSchemaSource,
} from '@parley/core';

/**
 * The connectors that ship with Parley, as `use:` values: `parley config schema` spells out their
 * options even when no config file names them.
 */
export const FIRST_PARTY_CONNECTORS: readonly string[] = [
  '@parley/connector-telegram',
  '@parley/connector-slack',
  '@parley/connector-discord',
  '@parley/testkit#referenceConnector',
];

/** Splits `@scope/pkg#exportName` into the module specifier and the optional export name. */
export function parseUse(use: string): { specifier: string; exportName?: string } {
  const hash = use.lastIndexOf('#');
  return hash > 0 ? { specifier: use.slice(0, hash), exportName: use.slice(hash + 1) } : { specifier: use };
}

function resolveSpecifier(specifier: string, baseDir: string): string {
  if (specifier.startsWith('.') || path.isAbsolute(specifier)) {
    return pathToFileURL(path.resolve(baseDir, specifier)).href;
  }
  for (const from of [path.join(baseDir, 'noop.js'), import.meta.filename]) {
    try {
      return pathToFileURL(createRequire(from).resolve(specifier)).href;
    } catch {
      // not installed there; try the next place
    }
  }
  return specifier;
}

export async function loadConnectorDefinition(
  connectorId: string,
  use: string,
  baseDir: string,
): Promise<ConnectorDefinition> {
  const keyPath = `connectors.${connectorId}.use`;
  const { specifier, exportName } = parseUse(use);
  let module: Record<string, unknown>;
  try {
    module = (await import(resolveSpecifier(specifier, baseDir))) as Record<string, unknown>;
  } catch (error) {
    throw new ConfigError(
      [{ path: keyPath, message: `cannot load "${specifier}" (is it installed?): ${(error as Error).message}` }],
      { code: 'CONNECTOR_LOAD', cause: error },
    );
  }

  if (exportName) {
    const candidate = module[exportName];
    if (isConnectorDefinition(candidate)) return candidate;
    throw new ConfigError([
      { path: keyPath, message: `"${specifier}" has no connector definition exported as "${exportName}"` },
    ], { code: 'CONNECTOR_LOAD' });
  }
  if (isConnectorDefinition(module.default)) return module.default;
  const definitions = Object.entries(module).filter(([, value]) => isConnectorDefinition(value));
  if (definitions.length === 1) return definitions[0]![1] as ConnectorDefinition;
  const message =
    definitions.length === 0
      ? `"${specifier}" exports no connector definition (an object with name, optionsSchema, capabilities and create)`
      : `"${specifier}" exports several connector definitions (${definitions.map(([name]) => name).join(', ')}); pick one with "${specifier}#<name>"`;
  throw new ConfigError([{ path: keyPath, message }], { code: 'CONNECTOR_LOAD' });
}

/**
 * Loads the connectors named by `uses` for `configJsonSchema`: one source per definition, so a
 * package written two ways (`pkg` and `pkg#export`) is one entry accepting both. A package that
 * cannot be loaded is reported through `onError` and left out.
 */
export async function loadConnectorSchemaSources(
  uses: Iterable<string>,
  baseDir: string,
  onError: (use: string, error: ConfigError) => void,
): Promise<ConnectorSchemaSource[]> {
  const byDefinition = new Map<ConnectorDefinition, string[]>();
  for (const use of new Set(uses)) {
    let definition: ConnectorDefinition;
    try {
      // The connector id only names the key path in errors; onError reports the messages.
      definition = await loadConnectorDefinition('schema', use, baseDir);
    } catch (error) {
      if (!(error instanceof ConfigError)) throw error;
      onError(use, error);
      continue;
    }
    byDefinition.set(definition, [...(byDefinition.get(definition) ?? []), use]);
  }
  return [...byDefinition].map(([definition, names]) => ({
    use: names,
    name: definition.name,
    optionsSchema: definition.optionsSchema,
  }));
}
