export { createParley, type Parley, type ParleyOptions, type ConnectorSetup } from './parley.js';
export type { Readiness, PartReadiness } from './http.js';
export { createMetrics, type ParleyMetrics } from './metrics.js';
export { createMediaUrls, createMediaSigner, type MediaUrls, type MediaTokenPayload } from './media.js';
export { MAX_ATTACHMENT_BYTES } from './attachments.js';
export { adaptToCapabilities } from './render.js';
