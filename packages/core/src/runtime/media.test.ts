import { describe, expect, it } from 'vitest';
import { createMediaUrls } from './media.js';

describe('media URLs', () => {
  let clock = 1_700_000_000_000;
  const now = () => clock;
  const urls = createMediaUrls({ secret: 'media-secret-0123456789', publicUrl: 'https://bridge.example.com/', ttlSeconds: 60, now });

  const tokenOf = (url: string) => url.slice('https://bridge.example.com/media/'.length);

  it('signs a reference that verifies back to the connector and file, without exposing a secret', () => {
    const url = urls.publisher('support-telegram').url('AgADBAADr6cxG', { mime: 'image/jpeg', filename: 'photo.jpg' });
    expect(url.startsWith('https://bridge.example.com/media/')).toBe(true);
    const verified = urls.verify(tokenOf(url));
    expect(verified).toMatchObject({ expired: false, payload: { c: 'support-telegram', r: 'AgADBAADr6cxG', m: 'image/jpeg', f: 'photo.jpg' } });
  });

  it('rejects a token whose data or signature was altered', () => {
    const token = tokenOf(urls.publisher('a').url('file-1'));
    const [data, mac] = token.split('.') as [string, string];
    const forgedData = Buffer.from(JSON.stringify({ c: 'a', r: 'file-2', e: 9_999_999_999 })).toString('base64url');
    expect(urls.verify(`${forgedData}.${mac}`)).toBeUndefined();
    expect(urls.verify(`${data}.${mac.slice(0, -2)}xx`)).toBeUndefined();
    expect(urls.verify('not-a-token')).toBeUndefined();
    const otherKey = createMediaUrls({ secret: 'another-secret-0123456789', publicUrl: 'https://x', ttlSeconds: 60, now });
    expect(otherKey.verify(token)).toBeUndefined();
  });

  it('expires after the TTL, and refresh() issues a fresh URL for the same file', () => {
    const url = urls.publisher('a').url('file-1');
    clock += 61_000;
    expect(urls.verify(tokenOf(url))?.expired).toBe(true);
    const refreshed = urls.refresh(url);
    expect(refreshed).not.toBe(url);
    expect(urls.verify(tokenOf(refreshed))).toMatchObject({ expired: false, payload: { c: 'a', r: 'file-1' } });
    expect(urls.refresh('https://cdn.example.com/x.jpg')).toBe('https://cdn.example.com/x.jpg');
  });
});
