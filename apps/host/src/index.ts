export { startHost, type HostOptions, type RunningHost } from './host.js';
export { resolveStoreUrl } from './host-plan.js';
export { loadConnectorDefinition, parseUse } from './load-connectors.js';
export { findConfigPath } from './config-source.js';
