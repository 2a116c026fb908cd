/**
 * Bot API parameters, read the way Telegram reads them: from the query string, a JSON body, a
 * urlencoded form or multipart/form-data (where uploaded files arrive). In forms every value is a
 * string, and objects are JSON inside it.
 */
import type { IncomingMessage } from 'node:http';

/** An uploaded file part. */
export interface UploadedFile {
  filename?: string;
  contentType?: string;
  data: Buffer;
}

/** The parameters of one Bot API call. */
export class BotApiParams {
  constructor(
    private readonly fields: Record<string, unknown>,
    private readonly files: Map<string, UploadedFile>,
  ) {}

  /** Every parameter but the uploads, as received. */
  values(): Record<string, unknown> {
    return { ...this.fields };
  }

  has(name: string): boolean {
    return this.fields[name] !== undefined && this.fields[name] !== null;
  }

  string(name: string): string | undefined {
    const value = this.fields[name];
    if (value === undefined || value === null) return undefined;
    return typeof value === 'string' ? value : typeof value === 'object' ? JSON.stringify(value) : String(value);
  }

  number(name: string): number | undefined {
    const value = this.fields[name];
    if (value === undefined || value === null || value === '') return undefined;
    const number = Number(value);
    return Number.isFinite(number) ? number : Number.NaN;
  }

  boolean(name: string): boolean | undefined {
    const value = this.fields[name];
    if (value === undefined || value === null) return undefined;
    return value === true || value === 'true' || value === '1' || value === 1;
  }

  /** An object or array parameter (JSON inside a string in forms); throws on malformed JSON. */
  json<T>(name: string): T | undefined {
    const value = this.fields[name];
    if (value === undefined || value === null || value === '') return undefined;
    if (typeof value !== 'string') return value as T;
    try {
      return JSON.parse(value) as T;
    } catch {
      throw new Error(`can't parse ${name} JSON object`);
    }
  }

  /**
   * An InputFile parameter: an upload referenced as `attach://<name>` (grammY's way), an upload
   * under the parameter's own name, or a string (file_id or URL) for the caller to resolve.
   */
  file(name: string): { upload: UploadedFile } | { reference: string } | undefined {
    const value = this.fields[name];
    if (typeof value === 'string' && value.startsWith('attach://')) {
      const upload = this.files.get(value.slice('attach://'.length));
      return upload ? { upload } : undefined;
    }
    const direct = this.files.get(name);
    if (direct) return { upload: direct };
    return typeof value === 'string' && value !== '' ? { reference: value } : undefined;
  }
}

/** Reads the whole request and its parameters. Rejects on a malformed body. */
export async function readParams(req: IncomingMessage, url: URL, maxBytes: number): Promise<BotApiParams> {
  const values: Record<string, unknown> = Object.fromEntries(url.searchParams);
  const files = new Map<string, UploadedFile>();
  const body = await readBody(req, maxBytes);
  const type = String(req.headers['content-type'] ?? '').toLowerCase();
  if (body.length === 0) return new BotApiParams(values, files);

  if (type.startsWith('application/json')) {
    const parsed: unknown = JSON.parse(body.toString('utf8'));
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new Error('the body is not a JSON object');
    Object.assign(values, parsed);
  } else if (type.startsWith('application/x-www-form-urlencoded')) {
    Object.assign(values, Object.fromEntries(new URLSearchParams(body.toString('utf8'))));
  } else if (type.startsWith('multipart/form-data')) {
    // The boundary is case-sensitive: read it from the header as sent.
    const boundary = /boundary=(?:"([^"]+)"|([^;]+))/i.exec(String(req.headers['content-type']))?.slice(1).find(Boolean);
    if (!boundary) throw new Error('multipart body without a boundary');
    for (const part of parseMultipart(body, boundary.trim())) {
      if (part.filename !== undefined) {
        files.set(part.name, { filename: part.filename, ...(part.contentType ? { contentType: part.contentType } : {}), data: part.data });
      } else {
        values[part.name] = part.data.toString('utf8');
      }
    }
  }
  return new BotApiParams(values, files);
}

/** A request body over the fake's upload limit (Telegram answers 413). */
export class BodyTooLargeError extends Error {}

function readBody(req: IncomingMessage, maxBytes: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > maxBytes) {
        reject(new BodyTooLargeError('request too large'));
        req.destroy();
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

interface MultipartPart {
  name: string;
  filename?: string;
  contentType?: string;
  data: Buffer;
}

/**
 * A lenient multipart/form-data parser: grammY writes headers without a space after the colon
 * and file names without quotes, which Telegram accepts, so the fake must too.
 */
export function parseMultipart(body: Buffer, boundary: string): MultipartPart[] {
  const delimiter = Buffer.from(`--${boundary}`);
  const parts: MultipartPart[] = [];
  let position = body.indexOf(delimiter);
  while (position !== -1) {
    let start = position + delimiter.length;
    if (body[start] === 0x2d && body[start + 1] === 0x2d) break; // the closing `--boundary--`
    if (body[start] === 0x0d && body[start + 1] === 0x0a) start += 2;
    const next = body.indexOf(delimiter, start);
    if (next === -1) break;
    let end = next;
    if (body[end - 2] === 0x0d && body[end - 1] === 0x0a) end -= 2;
    const part = parsePart(body.subarray(start, end));
    if (part) parts.push(part);
    position = next;
  }
  return parts;
}

function parsePart(raw: Buffer): MultipartPart | undefined {
  const headerEnd = raw.indexOf('\r\n\r\n');
  if (headerEnd === -1) return undefined;
  const headers = new Map<string, string>();
  for (const line of raw.subarray(0, headerEnd).toString('utf8').split('\r\n')) {
    const colon = line.indexOf(':');
    if (colon > 0) headers.set(line.slice(0, colon).trim().toLowerCase(), line.slice(colon + 1).trim());
  }
  const disposition = headers.get('content-disposition') ?? '';
  const name = /;\s*name=(?:"([^"]*)"|([^;]*))/i.exec(disposition)?.slice(1).find((value) => value !== undefined);
  if (name === undefined) return undefined;
  const filenameMatch = /;\s*filename=(?:"([^"]*)"|(.*))$/i.exec(disposition);
  const filename = filenameMatch?.slice(1).find((value) => value !== undefined)?.trim();
  const contentType = headers.get('content-type');
  return {
    name: name.trim(),
    ...(filename !== undefined ? { filename } : {}),
    ...(contentType ? { contentType } : {}),
    data: Buffer.from(raw.subarray(headerEnd + 4)),
  };
}
