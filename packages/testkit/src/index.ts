/** @parley/testkit: test infrastructure for Parley and its connectors. */
export * from './emulator/index.js';
export * from './reference/index.js';
export * from './test-context.js';
export * from './wait-for-match.js';
