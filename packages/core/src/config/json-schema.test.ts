import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { configJsonSchema } from './json-schema.js';

type Schema = {
  $schema?: string;
  title?: string;
  description?: string;
  type?: string;
  default?: unknown;
  required?: string[];
  properties?: Record<string, Schema>;
  additionalProperties?: Schema | boolean;
  propertyNames?: Schema;
  pattern?: string;
  enum?: unknown[];
  minimum?: number;
  maximum?: number;
  minProperties?: number;
  const?: unknown;
  format?: string;
  anyOf?: Schema[];
  not?: Schema;
};

describe('configJsonSchema', () => {
  const schema = configJsonSchema() as Schema;
  const section = (name: string) => schema.properties?.[name] ?? {};

  it('is a titled 2020-12 JSON Schema of an object without extra keys', () => {
    expect(schema.$schema).toBe('https://json-schema.org/draft/2020-12/schema');
    expect(schema.title).toBe('Parley configuration');
    expect(schema.description).toBe('Parley configuration (parley.yaml).');
    expect(schema.type).toBe('object');
    expect(schema.additionalProperties).toBe(false);
    expect(Object.keys(schema.properties ?? {})).toEqual(['server', 'store', 'genesys', 'connectors', 'log', 'queue']);
  });

  it('describes the input side: defaulted fields are optional and show their default', () => {
    expect(schema.required).toEqual(['connectors']);
    expect(section('server').required).toBeUndefined();
    expect(section('server').properties?.port).toMatchObject({ type: 'integer', default: 8080, minimum: 0, maximum: 65535 });
    expect(section('log').properties?.level).toMatchObject({
      default: 'info',
      enum: ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'],
    });
    expect(section('store').properties?.url?.default).toBe('sqlite:./data/parley.db');
  });

  it('has a description on every section and every field', () => {
    const undescribed: string[] = [];
    for (const [name, value] of Object.entries(schema.properties ?? {})) {
      if (!value.description) undescribed.push(name);
      for (const [field, fieldSchema] of Object.entries(value.properties ?? {})) {
        if (!fieldSchema.description) undescribed.push(`${name}.${field}`);
      }
    }
    const connector = section('connectors').additionalProperties as Schema;
    for (const [field, fieldSchema] of Object.entries(connector.properties ?? {})) {
      if (!fieldSchema.description) undescribed.push(`connectors.<id>.${field}`);
    }
    expect(undescribed).toEqual([]);
    expect(section('genesys').properties?.clientId?.description).toContain('emulator');
  });

  it('constrains connector ids and connector entries', () => {
    const connectors = section('connectors');
    expect(connectors.type).toBe('object');
    expect(connectors.propertyNames?.pattern).toBe('^[a-z0-9][a-z0-9-]*$');
    expect(connectors.minProperties).toBe(1);
    const connector = connectors.additionalProperties as Schema;
    expect(connector.required).toEqual(['use']);
    expect(connector.additionalProperties).toBe(false);
    expect(Object.keys(connector.properties ?? {})).toEqual(['use', 'integrationId', 'webhookSecret', 'options']);
  });

  it('is plain JSON', () => {
    expect(JSON.parse(JSON.stringify(schema))).toEqual(schema);
  });
});

describe('configJsonSchema with connectors', () => {
  const chatOptions = z.object({
    token: z.string().regex(/^\d+:\w+$/).describe('The bot token.'),
    apiUrl: z
      .url()
      .default('https://chat.example.com')
      .transform((url) => url.replace(/\/+$/, ''))
      .describe('API base URL.'),
    mode: z.enum(['polling', 'webhook']).default('polling').describe('How updates arrive.'),
    proxy: z.object({ url: z.url(), password: z.string().min(20) }).optional(),
  });
  const pagerOptions = z.object({ retries: z.number().int().min(0).default(3) });
  const sources = [
    { use: ['@acme/chat', '@acme/chat#chatConnector'], name: 'chat', optionsSchema: chatOptions },
    { use: ['@acme/pager'], name: 'pager', optionsSchema: pagerOptions },
  ];
  const schema = configJsonSchema({ connectors: sources }) as Schema;
  const alternatives = () => {
    const entry = schema.properties?.connectors?.additionalProperties as Schema;
    return entry.anyOf ?? [];
  };
  const alternative = (title: string) => alternatives().find((candidate) => candidate.title === title) ?? {};

  it('offers one connector entry per connector, told apart by `use`, then one for other packages', () => {
    expect(alternatives().map((candidate) => candidate.title)).toEqual(['chat connector', 'pager connector', 'other connector']);
    expect(alternative('chat connector').properties?.use).toMatchObject({ enum: ['@acme/chat', '@acme/chat#chatConnector'] });
    expect(alternative('pager connector').properties?.use).toMatchObject({ const: '@acme/pager' });
    for (const candidate of alternatives()) {
      expect(candidate.additionalProperties).toBe(false);
      expect(Object.keys(candidate.properties ?? {})).toEqual(['use', 'integrationId', 'webhookSecret', 'options']);
      expect(candidate.properties?.use?.description).toContain('Package that exports the connector');
    }
  });

  it("spells out each connector's options as written in the file", () => {
    const options = alternative('chat connector').properties?.options ?? {};
    expect(options.required).toEqual(['token']);
    expect(options.properties?.mode).toMatchObject({ enum: ['polling', 'webhook'], default: 'polling', description: 'How updates arrive.' });
    // The input side of a transform: a URL, with its default.
    expect(options.properties?.apiUrl).toMatchObject({ type: 'string', format: 'uri', default: 'https://chat.example.com' });
    expect(options.description).toBe('Connector-specific options, validated by the connector itself.');
  });

  it('requires `options` only where the connector has required options', () => {
    expect(alternative('chat connector').required).toEqual(['use', 'options']);
    expect(alternative('pager connector').required).toEqual(['use']);
  });

  it('keeps secrets plain strings, so ${VAR} references pass', () => {
    const options = alternative('chat connector').properties?.options ?? {};
    expect(options.properties?.token).toEqual({ type: 'string', description: 'The bot token.' });
    expect(options.properties?.proxy?.properties?.password).toEqual({ type: 'string' });
    expect(options.properties?.proxy?.properties?.url?.format).toBe('uri');

    const validate = z.fromJSONSchema(options as Parameters<typeof z.fromJSONSchema>[0]);
    expect(validate.safeParse({ token: '${CHAT_TOKEN}' }).success).toBe(true);
    expect(validate.safeParse({ mode: 'webhook' }).success).toBe(false);
    expect(validate.safeParse({ token: '${CHAT_TOKEN}', mode: 'push' }).success).toBe(false);
  });

  it('leaves any package it does not know open, and no known one to the open entry', () => {
    const other = alternative('other connector');
    expect(other.properties?.use).toMatchObject({
      pattern: '^[^#\\s]+(#[A-Za-z_$][\\w$]*)?$',
      not: { enum: ['@acme/chat', '@acme/chat#chatConnector', '@acme/pager'] },
    });
    expect(other.properties?.options).toEqual({ default: {}, description: expect.any(String) });
  });

  it('without connectors, keeps `options` open', () => {
    expect(configJsonSchema({ connectors: [] })).toEqual(configJsonSchema());
  });

  it('moves schemas registered with an id to the document $defs and points references there', () => {
    const button = z.object({ text: z.string() }).meta({ id: 'Button' });
    const withDefs = configJsonSchema({
      connectors: [{ use: ['@acme/buttons'], name: 'buttons', optionsSchema: z.object({ yes: button, no: button }) }],
    }) as Schema & { $defs?: Record<string, Schema> };
    const refs = JSON.stringify(withDefs).match(/"\$ref":"[^"]+"/g) ?? [];
    expect(refs).toEqual(['"$ref":"#/$defs/buttons-_acme_buttons-Button"', '"$ref":"#/$defs/buttons-_acme_buttons-Button"']);
    expect(withDefs.$defs?.['buttons-_acme_buttons-Button']).toMatchObject({ type: 'object', required: ['text'] });
  });

  it('leaves out a connector whose options are recursive, reporting it, or throws without a handler', () => {
    type Node = { children: Node[] };
    const node: z.ZodType<Node> = z.lazy(() => z.object({ children: z.array(node) }));
    const tree = { use: ['@acme/tree'], name: 'tree', optionsSchema: z.object({ root: node }) };
    const reported: string[] = [];
    const result = configJsonSchema({
      connectors: [tree, sources[1]!],
      onConnectorError: (source) => reported.push(source.name),
    }) as Schema;
    expect(reported).toEqual(['tree']);
    const entry = result.properties?.connectors?.additionalProperties as Schema;
    expect(entry.anyOf?.map((candidate) => candidate.title)).toEqual(['pager connector', 'other connector']);
    expect(() => configJsonSchema({ connectors: [tree] })).toThrow();
  });

  it('is plain JSON', () => {
    expect(JSON.parse(JSON.stringify(schema))).toEqual(schema);
  });
});
