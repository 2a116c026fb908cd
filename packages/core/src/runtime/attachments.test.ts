import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PermanentError, RetryableError } from '../errors.js';
import { createAttachmentDownloader } from './attachments.js';

// A stand-in for api-downloads.<region>: some files public, one behind the bearer token.
let server: http.Server;
let base = '';
beforeAll(async () => {
  server = http.createServer((req, res) => {
    if (req.url === '/public/a.jpg') return void res.writeHead(200, { 'content-type': 'image/jpeg' }).end(Buffer.from([1, 2, 3]));
    if (req.url === '/private/b.pdf') {
      if (req.headers.authorization !== 'Bearer good-token') return void res.writeHead(401).end();
      return void res.writeHead(200, { 'content-type': 'application/pdf; charset=binary' }).end('pdf-bytes');
    }
    if (req.url === '/big') return void res.writeHead(200).end(Buffer.alloc(2048));
    if (req.url === '/gone') return void res.writeHead(404).end();
    if (req.url === '/down') return void res.writeHead(503).end();
    if (req.url === '/moved') return void res.writeHead(302, { location: '/public/a.jpg' }).end();
    res.writeHead(500).end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

describe('attachment downloads', () => {
  const downloader = createAttachmentDownloader({ getToken: async () => 'good-token', maxBytes: 1024 });
  afterAll(() => downloader.close());

  it('downloads a public file and follows redirects', async () => {
    const file = await downloader.download({ mediaType: 'Image', url: `${base}/moved` });
    expect(file).toEqual({ data: Buffer.from([1, 2, 3]), mime: 'image/jpeg', filename: 'moved' });
  });

  it('retries once with the Genesys token when the URL needs it', async () => {
    const file = await downloader.download({ mediaType: 'File', url: `${base}/private/b.pdf`, filename: 'invoice.pdf' });
    expect(file).toMatchObject({ mime: 'application/pdf', filename: 'invoice.pdf' });
    expect(file.data.toString()).toBe('pdf-bytes');
  });

  it('refuses files over the limit, and maps 404 to permanent and 503 to retryable', async () => {
    await expect(downloader.download({ mediaType: 'File', url: `${base}/big` })).rejects.toMatchObject({
      reasonCode: 'InvalidMediaContentLength',
    });
    await expect(downloader.download({ mediaType: 'File', url: `${base}/gone` })).rejects.toBeInstanceOf(PermanentError);
    await expect(downloader.download({ mediaType: 'File', url: `${base}/down` })).rejects.toBeInstanceOf(RetryableError);
  });
});
