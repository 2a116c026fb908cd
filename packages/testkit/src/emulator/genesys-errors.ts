/**
 * Genesys's standard error body (`ErrorBody`, research/genesys.md §9), which every Platform API
 * error carries: `{ message, code, status, contextId, details, errors }`.
 */
import { newUuid } from './ids.js';

/** Genesys's `ErrorBody`. */
export interface GenesysErrorBody {
  message: string;
  code: string;
  status: number;
  contextId: string;
  details: unknown[];
  errors: unknown[];
}

/** An HTTP answer the emulator gives: status, JSON body and extra headers. */
export interface EmulatorAnswer {
  status: number;
  body: unknown;
  headers?: Record<string, string>;
}

/** A Genesys error body with a fresh `contextId`. */
export function genesysError(status: number, code: string, message: string): GenesysErrorBody {
  return { message, code, status, contextId: newUuid(), details: [], errors: [] };
}

/** The error answer for `status`, with the code Genesys uses for it. */
export function errorAnswer(status: number, message?: string, headers?: Record<string, string>): EmulatorAnswer {
  const { code, text } = describeStatus(status);
  return { status, body: genesysError(status, code, message ?? text), ...(headers ? { headers } : {}) };
}

function describeStatus(status: number): { code: string; text: string } {
  switch (status) {
    case 400:
      return { code: 'bad.request', text: 'The request could not be understood by the server due to malformed syntax.' };
    case 401:
      return { code: 'bad.credentials', text: 'Invalid login credentials.' };
    case 403:
      return { code: 'missing.permissions', text: 'Unable to perform the requested action.' };
    case 404:
      return { code: 'not.found', text: 'The requested resource was not found.' };
    case 413:
      return { code: 'request.entity.too.large', text: 'The request is over the size limit.' };
    case 429:
      return { code: 'too.many.requests', text: 'Rate limit exceeded the maximum.' };
    case 500:
      return { code: 'internal.server.error', text: 'The server encountered an unexpected condition.' };
    case 502:
      return { code: 'bad.gateway', text: 'The server received an invalid response from an upstream server.' };
    case 503:
      return { code: 'service.unavailable', text: 'Service Unavailable - The server is currently unavailable.' };
    case 504:
      return { code: 'gateway.timeout', text: 'The server did not receive a timely response from an upstream server.' };
    default:
      return { code: status >= 500 ? 'server.error' : 'client.error', text: `Request failed with status ${status}.` };
  }
}
