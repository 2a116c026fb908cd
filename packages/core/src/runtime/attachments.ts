/**
 * Downloads agent attachments from Genesys so connectors can re-upload them to the platform.
 * Genesys serves them from `api-downloads.<region>`; whether that URL needs the OAuth token is not
 * documented (research/genesys.md §4), so a 401/403 is retried once with the bearer token.
 */
import path from 'node:path';
import { Agent, interceptors, request, type Dispatcher } from 'undici';
import type { DownloadedMedia } from '../connector.js';
import { PermanentError, RetryableError } from '../errors.js';
import type { OutboundAttachment } from '../messages.js';

/** Genesys's attachment limit (research/genesys.md §4). */
export const MAX_ATTACHMENT_BYTES = 25 * 1024 * 1024;

export interface AttachmentDownloader {
  download(attachment: OutboundAttachment): Promise<DownloadedMedia>;
  close(): Promise<void>;
}

export function createAttachmentDownloader(options: {
  getToken: () => Promise<string>;
  maxBytes?: number;
  timeoutMs?: number;
}): AttachmentDownloader {
  const maxBytes = options.maxBytes ?? MAX_ATTACHMENT_BYTES;
  const timeoutMs = options.timeoutMs ?? 30_000;
  const dispatcher: Dispatcher = new Agent({ headersTimeout: timeoutMs, bodyTimeout: timeoutMs }).compose(
    interceptors.redirect({ maxRedirections: 3 }),
  );

  async function fetchOnce(url: string, token?: string) {
    try {
      return await request(url, {
        method: 'GET',
        dispatcher,
        headers: token ? { authorization: `Bearer ${token}` } : {},
      });
    } catch (error) {
      throw new RetryableError('PLATFORM_UNAVAILABLE', `Downloading the attachment failed: ${String(error)}`, {
        cause: error,
      });
    }
  }

  return {
    async download(attachment) {
      let response = await fetchOnce(attachment.url);
      if (response.statusCode === 401 || response.statusCode === 403) {
        await response.body.dump();
        response = await fetchOnce(attachment.url, await options.getToken());
      }
      const status = response.statusCode;
      if (status >= 400) {
        await response.body.dump();
        if (status === 429 || status >= 500) {
          throw new RetryableError('PLATFORM_UNAVAILABLE', `Downloading the attachment failed with HTTP ${status}`);
        }
        throw new PermanentError('MEDIA_INVALID', `The attachment could not be downloaded (HTTP ${status})`, {
          reasonCode: status === 404 || status === 410 ? 'MessageExpired' : 'GeneralError',
        });
      }
      const declared = Number(response.headers['content-length'] ?? NaN);
      if (declared > maxBytes) {
        await response.body.dump();
        throw tooLarge(maxBytes);
      }
      const chunks: Buffer[] = [];
      let size = 0;
      for await (const chunk of response.body) {
        size += (chunk as Buffer).length;
        if (size > maxBytes) {
          response.body.destroy();
          throw tooLarge(maxBytes);
        }
        chunks.push(chunk as Buffer);
      }
      const contentType = String(response.headers['content-type'] ?? '').split(';')[0]?.trim();
      return {
        data: Buffer.concat(chunks),
        mime: attachment.mime ?? (contentType || 'application/octet-stream'),
        filename: attachment.filename ?? filenameFromUrl(attachment.url),
      };
    },
    close: () => dispatcher.close(),
  };
}

function tooLarge(maxBytes: number) {
  return new PermanentError('MEDIA_INVALID', `The attachment is larger than ${maxBytes} bytes`, {
    reasonCode: 'InvalidMediaContentLength',
  });
}

function filenameFromUrl(url: string): string {
  try {
    const base = path.posix.basename(new URL(url).pathname);
    return base || 'attachment';
  } catch {
    return 'attachment';
  }
}
