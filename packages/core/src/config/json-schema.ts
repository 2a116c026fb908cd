import { z } from 'zod';
import { parleyConfigSchema } from './schema.js';

/**
 * JSON Schema of parley.yaml as a user writes it (fields with defaults are optional), for editor
 * completion and validation (`# yaml-language-server: $schema=...`).
 */
export function configJsonSchema(): Record<string, unknown> {
  const { $schema, ...rest } = z.toJSONSchema(parleyConfigSchema, { io: 'input', target: 'draft-2020-12' });
  return {
    $schema,
    title: 'Parley configuration',
    ...rest,
  };
}
