import type { z } from 'zod';
import { ConfigError } from '../errors.js';
import { formatZodIssues } from './zod-issues.js';

/**
 * Validates `connectors.<id>.options` against a connector's options schema and returns the
 * parsed options (defaults applied).
 *
 * @throws ConfigError whose issues sit under `connectors.<id>.options`, e.g.
 *   `connectors.support-telegram.options.token: Required`.
 */
export function validateConnectorOptions<Schema extends z.ZodType>(
  connectorId: string,
  schema: Schema,
  options: unknown,
): z.output<Schema> {
  const result = schema.safeParse(options);
  if (result.success) return result.data;
  throw new ConfigError(formatZodIssues(result.error, ['connectors', connectorId, 'options']), {
    details: { connector: connectorId },
  });
}
