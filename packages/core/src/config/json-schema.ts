import { z } from 'zod';
import { REDACTED_KEYS } from '../logger.js';
import { parleyConfigSchema } from './schema.js';

/** A connector type whose `options` the config JSON Schema spells out. */
export interface ConnectorSchemaSource {
  /**
   * The `use:` values that select it, e.g. `["@parley/connector-telegram"]` or
   * `["@parley/testkit#referenceConnector"]`.
   */
  use: readonly string[];
  /** The connector definition's `name`, for the entry's title. */
  name: string;
  /** The connector definition's options schema. */
  optionsSchema: z.ZodType;
}

/** What {@link configJsonSchema} describes besides core's own keys. */
export interface ConfigJsonSchemaOptions {
  /** Connector types whose options get their own schema; others keep open `options`. */
  connectors?: readonly ConnectorSchemaSource[];
  /**
   * Called for a connector whose options schema has no JSON Schema form (a recursive schema): it
   * is left out, as an unknown package would be. Without it, the error is thrown.
   */
  onConnectorError?: (source: ConnectorSchemaSource, error: Error) => void;
}

type JsonSchema = Record<string, unknown>;

/**
 * JSON Schema of parley.yaml as a user writes it (fields with defaults are optional), for editor
 * completion and validation (`# yaml-language-server: $schema=...`). With `connectors`, each
 * connector entry whose `use` names one of them is checked against that connector's options schema.
 */
export function configJsonSchema(options: ConfigJsonSchemaOptions = {}): Record<string, unknown> {
  const { $schema, ...rest } = z.toJSONSchema(parleyConfigSchema, { io: 'input', target: 'draft-2020-12' });
  const document: JsonSchema = { $schema, title: 'Parley configuration', ...rest };
  const connectors = (rest.properties?.connectors ?? {}) as JsonSchema;
  const entry = connectors.additionalProperties as JsonSchema;
  const { entries, knownUses } = connectorEntries(entry, document, options);
  if (entries.length > 0) {
    connectors.additionalProperties = {
      description: entry.description,
      anyOf: [...entries, otherPackagesEntry(entry, knownUses)],
    };
  }
  return document;
}

/*
 * Why `anyOf` over entries told apart by `use: {const}` rather than `if/then` on `use`:
 * yaml-language-server (and VS Code's JSON service it derives from) validates every alternative
 * and keeps the one whose const/enum values match, so once `use:` is written, completion and hover
 * under `options:` come from that connector alone; before it is written the alternatives tie, and
 * completing `use:` offers every known package name. With if/then nothing offers those names, and
 * `options` completion appears only once the condition holds. Not `oneOf`: the entries exclude each
 * other anyway, and `oneOf` would turn a package listed twice into "matches multiple schemas".
 */
function connectorEntries(
  entry: JsonSchema,
  document: JsonSchema,
  options: ConfigJsonSchemaOptions,
): { entries: JsonSchema[]; knownUses: string[] } {
  const properties = entry.properties as Record<string, JsonSchema>;
  const entries: JsonSchema[] = [];
  const knownUses: string[] = [];
  for (const source of options.connectors ?? []) {
    if (source.use.length === 0) continue;
    let optionsSchema: JsonSchema;
    try {
      optionsSchema = optionsJsonSchema(source, document);
    } catch (error) {
      if (!options.onConnectorError) throw error;
      options.onConnectorError(source, error as Error);
      continue;
    }
    const optionsRequired = Array.isArray(optionsSchema.required) && optionsSchema.required.length > 0;
    entries.push({
      ...entry,
      title: `${source.name} connector`,
      description: `A ${source.name} connector (${source.use.join(' or ')}).`,
      properties: {
        ...properties,
        use: {
          ...(source.use.length === 1 ? { const: source.use[0] } : { enum: [...source.use] }),
          description: properties.use?.description,
        },
        // The connector's own description of its options, if it has one, says more than core's.
        options: { description: properties.options?.description, ...optionsSchema },
      },
      required: optionsRequired ? ['use', 'options'] : ['use'],
    });
    knownUses.push(...source.use);
  }
  return { entries, knownUses };
}

/** Packages the schema does not know: any options, but a known `use` must match its own entry. */
function otherPackagesEntry(entry: JsonSchema, knownUses: readonly string[]): JsonSchema {
  const properties = entry.properties as Record<string, JsonSchema>;
  return {
    ...entry,
    title: 'other connector',
    properties: { ...properties, use: { ...properties.use, not: { enum: [...new Set(knownUses)] } } },
  };
}

/**
 * The connector's options as written in the file. A recursive schema throws (`cycles: 'throw'`):
 * its `$ref: "#"` would point at the whole config here. Parts with no JSON Schema form (a custom
 * check) accept anything: the connector still validates them at start-up.
 */
function optionsJsonSchema(source: ConnectorSchemaSource, document: JsonSchema): JsonSchema {
  const { $schema: _, $defs, ...schema } = z.toJSONSchema(source.optionsSchema, {
    io: 'input',
    target: 'draft-2020-12',
    unrepresentable: 'any',
    cycles: 'throw',
  });
  relaxSecrets(schema);
  if (!$defs) return schema;
  // Schemas registered with an `id` land in $defs: move them to the document's, under names
  // that cannot clash between connectors, and point the references there.
  const prefix = `${source.name}-${source.use[0] ?? ''}-`.replace(/[^\w-]/g, '_');
  const rename = (ref: string) => ref.replace(/^#\/\$defs\//, `#/$defs/${prefix}`);
  const defs = ((document.$defs ??= {}) as JsonSchema);
  for (const [name, def] of Object.entries($defs)) defs[`${prefix}${name}`] = rewriteRefs(def, rename);
  return rewriteRefs(schema, rename) as JsonSchema;
}

/**
 * Secrets are written as `${VAR}` references, which a token pattern (`^\d+:[\w-]+$`) or a length
 * bound would flag in the editor: they stay plain strings. Secret means a key whose value the
 * logger redacts, or one named like a token, secret or password.
 */
function relaxSecrets(node: unknown): void {
  if (Array.isArray(node)) return node.forEach(relaxSecrets);
  if (!isObject(node)) return;
  const properties = node.properties;
  if (isObject(properties)) {
    for (const [key, value] of Object.entries(properties)) {
      if (isSecretKey(key) && isObject(value) && value.type === 'string') {
        for (const constraint of ['pattern', 'format', 'minLength', 'maxLength']) delete value[constraint];
      }
    }
  }
  Object.values(node).forEach(relaxSecrets);
}

function isSecretKey(key: string): boolean {
  return REDACTED_KEYS.includes(key) || /(token|secret|password)$/i.test(key);
}

function rewriteRefs(node: unknown, rename: (ref: string) => string): unknown {
  if (Array.isArray(node)) return node.map((item) => rewriteRefs(item, rename));
  if (!isObject(node)) return node;
  return Object.fromEntries(
    Object.entries(node).map(([key, value]) => [
      key,
      key === '$ref' && typeof value === 'string' ? rename(value) : rewriteRefs(value, rename),
    ]),
  );
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
