export { startHost, resolveStoreUrl, type HostOptions, type RunningHost } from './host.js';
export { loadConnectorDefinition, parseUse } from './load-connectors.js';
export { findConfigPath } from './config-source.js';
