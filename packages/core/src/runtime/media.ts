/**
 * Signed, expiring media URLs (`GET /media/{token}`). Platform files often need the bot's
 * credentials to download (Telegram file URLs embed the bot token), so Genesys gets a Parley URL
 * instead: the token names the connector and its opaque file reference, carries an expiry, and is
 * HMAC-signed with the host's media secret. Nothing is stored: the token is the whole state.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import type { MediaPublisher } from '../connector.js';

export interface MediaTokenPayload {
  /** Connector id. */
  c: string;
  /** The connector's opaque file reference. */
  r: string;
  /** Expiry, seconds since the epoch. */
  e: number;
  /** Media type hint. */
  m?: string;
  /** File name hint. */
  f?: string;
}

export interface MediaSigner {
  sign(payload: MediaTokenPayload): string;
  /** Returns the payload when the signature is right; `expired` when it is right but too old. */
  verify(token: string): { payload: MediaTokenPayload; expired: boolean } | undefined;
}

export function createMediaSigner(secret: string, now: () => number = Date.now): MediaSigner {
  const mac = (data: string) => createHmac('sha256', secret).update(data).digest('base64url');
  return {
    sign(payload) {
      const data = Buffer.from(JSON.stringify(payload)).toString('base64url');
      return `${data}.${mac(data)}`;
    },
    verify(token) {
      const dot = token.indexOf('.');
      if (dot <= 0) return undefined;
      const data = token.slice(0, dot);
      const given = Buffer.from(token.slice(dot + 1));
      const expected = Buffer.from(mac(data));
      if (given.length !== expected.length || !timingSafeEqual(given, expected)) return undefined;
      try {
        const payload = JSON.parse(Buffer.from(data, 'base64url').toString('utf8')) as MediaTokenPayload;
        if (typeof payload.c !== 'string' || typeof payload.r !== 'string' || typeof payload.e !== 'number') {
          return undefined;
        }
        return { payload, expired: payload.e * 1000 < now() };
      } catch {
        return undefined;
      }
    },
  };
}

export interface MediaUrls {
  publisher(connectorId: string): MediaPublisher;
  /**
   * Re-signs a Parley media URL with a fresh expiry (a message may wait in the queue through a
   * Genesys outage longer than the TTL). Other URLs are returned unchanged.
   */
  refresh(url: string): string;
  verify(token: string): ReturnType<MediaSigner['verify']>;
}

export function createMediaUrls(options: {
  secret: string;
  publicUrl: string;
  ttlSeconds: number;
  now?: () => number;
}): MediaUrls {
  const now = options.now ?? Date.now;
  const signer = createMediaSigner(options.secret, now);
  const prefix = `${options.publicUrl.replace(/\/+$/, '')}/media/`;
  const expiry = () => Math.floor(now() / 1000) + options.ttlSeconds;
  const urlFor = (payload: MediaTokenPayload) => prefix + signer.sign(payload);

  return {
    publisher(connectorId) {
      return {
        url(ref, meta = {}) {
          return urlFor({
            c: connectorId,
            r: ref,
            e: expiry(),
            ...(meta.mime ? { m: meta.mime } : {}),
            ...(meta.filename ? { f: meta.filename } : {}),
          });
        },
      };
    },
    refresh(url) {
      if (!url.startsWith(prefix)) return url;
      const verified = signer.verify(url.slice(prefix.length));
      return verified ? urlFor({ ...verified.payload, e: expiry() }) : url;
    },
    verify: (token) => signer.verify(token),
  };
}
