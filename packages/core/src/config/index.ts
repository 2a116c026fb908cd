export { parleyConfigSchema, CONNECTOR_ID_PATTERN, type ParleyConfig } from './schema.js';
export { interpolateEnv } from './env.js';
export { parseConfig, loadConfigFile, type ParseConfigOptions } from './load.js';
export { formatZodIssues, describeZodIssue, formatIssuePath } from './zod-issues.js';
export { validateConnectorOptions } from './connector-options.js';
export { configJsonSchema, type ConfigJsonSchemaOptions, type ConnectorSchemaSource } from './json-schema.js';
