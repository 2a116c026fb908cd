import { describe, expect, it } from 'vitest';
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
