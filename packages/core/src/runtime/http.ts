/**
 * The HTTP surface (DESIGN §7) as an express 5 app. Body parsing is per route: the Genesys
 * webhook needs the raw bytes for its signature, and platform webhooks (Slack, Telegram) get the
 * request unread so their own verification sees the exact bytes too.
 *
 * The Genesys webhook is the hot path (every agent message), and express's own per-request work
 * (router, request/response set-up) was as large as everything else the route does. So
 * `createRequestListener` answers that one route with plain node:http before express sees the
 * request, and hands every other request to the app. The app keeps the same route, so mounting
 * the app inside another express server behaves the same, only slower.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import express, { type NextFunction, type Request, type Response } from 'express';
import type { Logger } from 'pino';
import { SIGNATURE_HEADER } from '../webhook/signature.js';
import type { MediaUrls } from './media.js';
import type { ParleyMetrics } from './metrics.js';
import type { ConnectorSlot } from './slots.js';
import { BodyReadError, readRawBody } from './read-body.js';
import type { WebhookIntake } from './webhook-intake.js';

export interface PartReadiness {
  ready: boolean;
  detail?: string;
}

export interface Readiness {
  ready: boolean;
  store: PartReadiness;
  genesys: PartReadiness;
  connectors: Record<string, PartReadiness>;
}

export interface HttpDeps {
  slots: Map<string, ConnectorSlot>;
  intake: WebhookIntake;
  media: MediaUrls;
  metrics: ParleyMetrics;
  readiness(): Promise<Readiness>;
  bodyLimitBytes: number;
  logger: Logger;
}

export function createHttpApp(deps: HttpDeps): express.Express {
  const app = express();
  app.disable('x-powered-by');
  app.disable('etag');

  const knownConnector = (req: Request<{ id: string }>, res: Response, next: NextFunction) => {
    if (deps.slots.has(req.params.id)) return next();
    res.status(404).json({ error: `Unknown connector "${req.params.id}"` });
  };

  app.post('/connectors/:id/genesys', (req: Request<{ id: string }>, res: Response) =>
    answerGenesysWebhook(deps, req.params.id, req, res),
  );

  app.all('/connectors/:id/webhook', knownConnector, (req: Request<{ id: string }>, res: Response, next: NextFunction) => {
    const webhook = deps.slots.get(req.params.id)?.connector.webhook;
    if (!webhook) {
      res.status(404).json({ error: `Connector "${req.params.id}" does not take platform webhooks (check its mode)` });
      return;
    }
    webhook(req, res, next);
  });

  app.get('/media/:token', async (req: Request<{ token: string }>, res: Response) => {
    const verified = deps.media.verify(req.params.token);
    // Unknown and forged tokens look the same from outside: no hint about what exists.
    if (!verified) return void res.status(404).json({ error: 'Not found' });
    if (verified.expired) return void res.status(410).json({ error: 'This media link has expired' });
    const { payload } = verified;
    const slot = deps.slots.get(payload.c);
    if (!slot?.connector.openMedia) return void res.status(404).json({ error: 'Not found' });
    try {
      const media = await slot.connector.openMedia(payload.r);
      res.status(200);
      res.setHeader('content-type', media.mime ?? payload.m ?? 'application/octet-stream');
      if (media.sizeBytes !== undefined) res.setHeader('content-length', String(media.sizeBytes));
      const filename = media.filename ?? payload.f;
      if (filename) res.setHeader('content-disposition', `inline; filename*=UTF-8''${encodeURIComponent(filename)}`);
      res.setHeader('cache-control', 'private, max-age=300');
      media.body.on('error', (error) => {
        slot.logger.warn({ err: error }, 'Streaming a media file failed midway');
        res.destroy(error);
      });
      media.body.pipe(res);
    } catch (error) {
      slot.logger.warn({ err: error, ref: payload.r }, 'Could not open a media file for Genesys');
      res.status(502).json({ error: 'The file could not be fetched from the platform' });
    }
  });

  app.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' });
  });

  app.get('/readyz', async (_req, res) => {
    const readiness = await deps.readiness();
    res.status(readiness.ready ? 200 : 503).json(readiness);
  });

  app.get('/metrics', async (_req, res) => {
    res.setHeader('content-type', deps.metrics.registry.contentType);
    res.send(await deps.metrics.registry.metrics());
  });

  app.use((_req, res) => {
    res.status(404).json({ error: 'Not found' });
  });

  // express 5 forwards rejected promises here; body errors carry their own status (413…).
  app.use((error: unknown, _req: Request, res: Response, _next: NextFunction) => {
    const status = typeof error === 'object' && error !== null && 'status' in error ? Number(error.status) : 500;
    if (status >= 500) deps.logger.error({ err: error }, 'Request failed');
    if (res.headersSent) return void res.end();
    const message =
      status === 413 ? 'Body is over the size limit' : status < 500 && error instanceof Error ? error.message : 'Internal error';
    res.status(status).json({ error: message });
  });

  return app;
}

/** `/connectors/<id>/genesys`, with an optional query string; the id is the first group. */
const GENESYS_WEBHOOK_PATH = /^\/connectors\/([^/?#]+)\/genesys\/?(?:\?.*)?$/;

/**
 * The server's request listener: the Genesys webhook route answered directly, everything else by
 * `app` (see the file comment).
 */
export function createRequestListener(
  app: express.Express,
  deps: Pick<HttpDeps, 'slots' | 'intake' | 'bodyLimitBytes' | 'logger'>,
): (req: IncomingMessage, res: ServerResponse) => void {
  return (req, res) => {
    const match = req.method === 'POST' ? GENESYS_WEBHOOK_PATH.exec(req.url ?? '') : null;
    const connectorId = match ? decodePathSegment(match[1]!) : undefined;
    if (connectorId === undefined) return void app(req, res);
    answerGenesysWebhook(deps, connectorId, req, res).catch((error: unknown) => {
      deps.logger.error({ err: error }, 'Request failed');
      if (res.headersSent) return void res.end();
      writeJson(res, 500, { error: 'Internal error' });
    });
  };
}

/** A path segment as express decodes a route parameter; undefined when it is not valid percent-encoding. */
function decodePathSegment(segment: string): string | undefined {
  if (!segment.includes('%')) return segment;
  try {
    return decodeURIComponent(segment);
  } catch {
    return undefined;
  }
}

/** The Genesys webhook route: read the raw body, hand it to the intake, answer what it says. */
async function answerGenesysWebhook(
  deps: Pick<HttpDeps, 'slots' | 'intake' | 'bodyLimitBytes'>,
  connectorId: string,
  req: IncomingMessage,
  res: ServerResponse,
): Promise<void> {
  if (!deps.slots.has(connectorId)) return writeJson(res, 404, { error: `Unknown connector "${connectorId}"` });
  let raw: Buffer;
  try {
    raw = await readRawBody(req, deps.bodyLimitBytes);
  } catch (error) {
    if (!(error instanceof BodyReadError)) throw error;
    return writeJson(res, error.status, { error: error.status === 413 ? 'Body is over the size limit' : error.message });
  }
  const answer = await deps.intake(connectorId, raw, req.headers[SIGNATURE_HEADER]);
  writeJson(res, answer.status, answer.body);
}

/** Answers with a JSON body, as res.json() would, without express's per-response work. */
function writeJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}
