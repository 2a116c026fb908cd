/**
 * Genesys Open Messaging webhook signatures (research/genesys.md §2):
 * `X-Hub-Signature-256: sha256=<base64 HMAC-SHA256(secret, raw body bytes)>`.
 *
 * Always computed over the bytes received, never over re-serialized JSON: `JSON.stringify`
 * does not round-trip escapes such as `\u041f`, so re-serializing breaks non-ASCII bodies.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';

export const SIGNATURE_HEADER = 'x-hub-signature-256';
const PREFIX = 'sha256=';

/** The header value Genesys would send for `body` signed with `secret`. */
export function signGenesysBody(body: Uint8Array | string, secret: string): string {
  return PREFIX + createHmac('sha256', secret).update(body).digest('base64');
}

/**
 * Checks `header` against the signature of `body` in constant time. A missing header, a wrong
 * prefix, another encoding (hex) or a wrong MAC all return false.
 */
export function verifyGenesysSignature(
  body: Uint8Array,
  header: string | string[] | undefined,
  secret: string,
): boolean {
  if (typeof header !== 'string') return false;
  const received = Buffer.from(header, 'utf8');
  const expected = Buffer.from(signGenesysBody(body, secret), 'utf8');
  // timingSafeEqual throws on unequal lengths; the length of a signature is not a secret.
  return received.length === expected.length && timingSafeEqual(received, expected);
}
