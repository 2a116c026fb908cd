/**
 * Reads a request body into one Buffer, with a size limit: the Genesys webhook route's body
 * reader. It does what that route needs from express.raw (body-parser) and no more: the raw
 * bytes, whatever the content type, inflated when the sender compressed them, and 413 past the
 * limit. Under load, body-parser's per-request work (type-is, content-type parsing, raw-body's
 * stream plumbing) was a visible share of the host's CPU profile; reading the stream directly
 * costs a fraction of it.
 */
import type { IncomingMessage } from 'node:http';
import type { Readable } from 'node:stream';
import { createBrotliDecompress, createGunzip, createInflate } from 'node:zlib';

/** Why a body could not be read, with the HTTP status to answer (the shape express errors have). */
export class BodyReadError extends Error {
  constructor(
    readonly status: 400 | 413 | 415,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'BodyReadError';
  }
}

/**
 * The body of `req`, at most `limitBytes` long (after inflating). Rejects with a `BodyReadError`:
 * 413 when the body is (or says it is) over the limit, 415 for a content encoding it cannot
 * inflate, 400 when the stream breaks or does not inflate. The request stream is left paused or
 * drained: a rejected request needs no further handling than the answer.
 */
export function readRawBody(req: IncomingMessage, limitBytes: number): Promise<Buffer> {
  const encoding = (req.headers['content-encoding'] ?? 'identity').toLowerCase();
  const declared = Number(req.headers['content-length']);
  // Only an uncompressed body can be judged by its declared length.
  if (encoding === 'identity' && Number.isFinite(declared) && declared > limitBytes) {
    req.resume();
    return Promise.reject(new BodyReadError(413, 'Body is over the size limit'));
  }
  const stream = decoded(req, encoding);
  if (!stream) {
    req.resume();
    return Promise.reject(new BodyReadError(415, `Unsupported content encoding "${encoding}"`));
  }

  return new Promise<Buffer>((resolve, reject) => {
    const chunks: Buffer[] = [];
    let received = 0;
    let settled = false;
    const finish = (error: BodyReadError | undefined): void => {
      if (settled) return;
      settled = true;
      stream.off('data', onData);
      stream.off('end', onEnd);
      stream.off('error', onError);
      req.off('close', onClose);
      if (!error) return resolve(chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks, received));
      // Let the rest of the request flow past unread, so the answer can still be written.
      if (stream !== req) stream.destroy();
      req.resume();
      reject(error);
    };
    const onData = (chunk: Buffer): void => {
      received += chunk.length;
      if (received > limitBytes) return finish(new BodyReadError(413, 'Body is over the size limit'));
      chunks.push(chunk);
    };
    const onEnd = (): void => finish(undefined);
    const onError = (error: Error): void => finish(new BodyReadError(400, 'The request body could not be read', { cause: error }));
    // The client went away before the body ended.
    const onClose = (): void => {
      if (!req.complete) finish(new BodyReadError(400, 'The request was aborted'));
    };
    stream.on('data', onData);
    stream.on('end', onEnd);
    stream.on('error', onError);
    req.on('close', onClose);
  });
}

/** The request as a stream of decoded bytes, or undefined for an encoding we cannot inflate. */
function decoded(req: IncomingMessage, encoding: string): Readable | undefined {
  switch (encoding) {
    case 'identity':
      return req;
    case 'gzip':
      return req.pipe(createGunzip());
    case 'deflate':
      return req.pipe(createInflate());
    case 'br':
      return req.pipe(createBrotliDecompress());
    default:
      return undefined;
  }
}
