/**
 * The Genesys Cloud client and its building blocks. The `GenesysClient` interface and the Open
 * Messaging body types live in `./types.js` (exported from the package root).
 */
export { createGenesysClient } from './client.js';
export type { GenesysClientOptions, GenesysEndpoint, GenesysRequestInfo } from './client-options.js';
export type { TokenStatus } from './oauth.js';
export {
  GENESYS_REGIONS,
  findGenesysRegion,
  resolveGenesysUrls,
  type GenesysRegion,
  type GenesysRegionKey,
  type GenesysUrls,
  type GenesysUrlsInput,
} from './regions.js';
export { RateBudget, type RateBudgetOptions } from './rate-budget.js';
export { backoffDelay, parseRetryAfter, type BackoffOptions } from './retry.js';
