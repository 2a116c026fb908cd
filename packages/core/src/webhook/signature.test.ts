import { describe, expect, it } from 'vitest';
import { signGenesysBody, verifyGenesysSignature } from './signature.js';

// Vectors from research/genesys.md §2 (computed with Python hmac, cross-checked in Node).
const SECRET = 'my-open-messaging-secret-0123456789';
const BODY =
  '{"id":"c327c2078ca056db130c55ce648d9fa2","channel":{"id":"73cb7fb7-c2db-4996-88f3-0a83a4fea1da","platform":"Open","type":"Private","to":{"id":"tg:123456789","idType":"Opaque"},"from":{"nickname":"Open Messaging Integration","id":"73cb7fb7-c2db-4996-88f3-0a83a4fea1da","idType":"Opaque"},"time":"2021-02-01T15:04:05.123Z","messageId":"c327c2078ca056db130c55ce648d9fa2"},"type":"Text","text":"Hello World","originatingEntity":"Human","direction":"Outbound"}';
const BODY_HEADER = 'sha256=sDPNvOt75iG2U5JyiUTwawZ38Vyrnfrm6EexT3ejAuo=';
const BODY_HEX_MAC = 'b033cdbceb7be621b65392728944f06b0677f15cab9dfae6e847b14f77a302ea';
const BODY2 = '{"type":"Text","text":"Привет 👋"}';
const BODY2_HEADER = 'sha256=AvAAIwBwqQ7MB7hJE1kBGSTz3Z/5JygKCDv3CezmnY8=';

const bytes = (text: string) => Buffer.from(text, 'utf8');

describe('signGenesysBody', () => {
  it('produces the documented header for the agent text body', () => {
    expect(Buffer.byteLength(BODY)).toBe(455);
    expect(signGenesysBody(bytes(BODY), SECRET)).toBe(BODY_HEADER);
    expect(signGenesysBody(BODY, SECRET)).toBe(BODY_HEADER);
  });

  it('signs the UTF-8 bytes of a non-ASCII body', () => {
    expect(signGenesysBody(bytes(BODY2), SECRET)).toBe(BODY2_HEADER);
  });
});

describe('verifyGenesysSignature', () => {
  it('accepts both documented vectors', () => {
    expect(verifyGenesysSignature(bytes(BODY), BODY_HEADER, SECRET)).toBe(true);
    expect(verifyGenesysSignature(bytes(BODY2), BODY2_HEADER, SECRET)).toBe(true);
  });

  it('rejects a body changed by one byte', () => {
    const changed = bytes(BODY);
    changed[changed.length - 3] = 'X'.charCodeAt(0);
    expect(verifyGenesysSignature(changed, BODY_HEADER, SECRET)).toBe(false);
  });

  it('rejects another secret', () => {
    expect(verifyGenesysSignature(bytes(BODY), BODY_HEADER, `${SECRET}x`)).toBe(false);
  });

  it('rejects the hex form of the same MAC', () => {
    expect(Buffer.from(BODY_HEX_MAC, 'hex').toString('base64')).toBe(BODY_HEADER.slice('sha256='.length));
    expect(verifyGenesysSignature(bytes(BODY), `sha256=${BODY_HEX_MAC}`, SECRET)).toBe(false);
    expect(verifyGenesysSignature(bytes(BODY), BODY_HEX_MAC, SECRET)).toBe(false);
  });

  it('rejects a wrong or missing prefix', () => {
    const mac = BODY_HEADER.slice('sha256='.length);
    expect(verifyGenesysSignature(bytes(BODY), `sha1=${mac}`, SECRET)).toBe(false);
    expect(verifyGenesysSignature(bytes(BODY), `SHA256=${mac}`, SECRET)).toBe(false);
    expect(verifyGenesysSignature(bytes(BODY), mac, SECRET)).toBe(false);
  });

  it('rejects a missing header and a repeated (array) header', () => {
    expect(verifyGenesysSignature(bytes(BODY), undefined, SECRET)).toBe(false);
    expect(verifyGenesysSignature(bytes(BODY), [BODY_HEADER], SECRET)).toBe(false);
    expect(verifyGenesysSignature(bytes(BODY), [BODY_HEADER, BODY_HEADER], SECRET)).toBe(false);
    expect(verifyGenesysSignature(bytes(BODY), '', SECRET)).toBe(false);
  });

  it('rejects headers of the wrong length without throwing', () => {
    expect(verifyGenesysSignature(bytes(BODY), BODY_HEADER.slice(0, -1), SECRET)).toBe(false);
    expect(verifyGenesysSignature(bytes(BODY), `${BODY_HEADER}=`, SECRET)).toBe(false);
    expect(verifyGenesysSignature(bytes(BODY), `${BODY_HEADER} `, SECRET)).toBe(false);
  });

  it('verifies a \\u-escaped body only against its own bytes, not against re-serialized JSON', () => {
    const raw = bytes('{"text":"\\u041f"}');
    const reserialized = bytes(JSON.stringify(JSON.parse(raw.toString('utf8'))));
    expect(reserialized.toString('utf8')).toBe('{"text":"П"}');
    expect(reserialized.equals(raw)).toBe(false);

    const header = signGenesysBody(raw, SECRET);
    expect(verifyGenesysSignature(raw, header, SECRET)).toBe(true);
    expect(verifyGenesysSignature(reserialized, header, SECRET)).toBe(false);
    expect(verifyGenesysSignature(raw, signGenesysBody(reserialized, SECRET), SECRET)).toBe(false);
  });
});
