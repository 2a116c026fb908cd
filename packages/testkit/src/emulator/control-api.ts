/**
 * The emulator's own HTTP API under `/emulator`: the same controls as the in-process API, for the
 * CLI and for tests running in another process. Not part of Genesys.
 */
import express, { Router, type NextFunction, type Request, type Response } from 'express';
import { z } from 'zod';
import type { GenesysEmulator, InboundKind, OutboundDelivery } from './types.js';

const agentMessageSchema = z.object({
  type: z.enum(['Text', 'Structured']).optional(),
  text: z.string().optional(),
  content: z.array(z.unknown()).optional(),
  originatingEntity: z.enum(['Human', 'Bot']).optional(),
});

const typingSchema = z.object({ durationMs: z.number().int().positive().optional() });

const integrationSchema = z.object({
  id: z.string().min(1).optional(),
  name: z.string().min(1).optional(),
  webhookUrl: z.url(),
  webhookSecret: z.string().min(1),
});

const inboundQuerySchema = z.object({
  integrationId: z.string().optional(),
  kind: z.enum(['message', 'receipt', 'event', 'structured-response']).optional(),
  includeRejected: z.enum(['true', 'false']).optional(),
});

/** A client error of the control API, answered as 4xx `{ error }`. */
class ControlError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

/** The `/emulator` routes, a thin HTTP layer over `emulator`'s in-process API. */
export function controlApi(emulator: GenesysEmulator): Router {
  const router = Router();
  router.use(express.json({ limit: '1mb' }));

  router.get('/integrations', (_req, res) => {
    res.json(emulator.integrations());
  });
  router.post('/integrations', (req, res) => {
    res.status(201).json(emulator.addIntegration(parse(integrationSchema, req.body)));
  });

  router.get('/conversations', (_req, res) => {
    res.json(emulator.conversations());
  });
  router.post('/conversations/:conversationId/messages', async (req, res) => {
    const conversationId = existingConversation(emulator, req);
    const message = parse(agentMessageSchema, req.body);
    const delivery = await emulator.agent.send(conversationId, message).catch((error: unknown) => {
      throw new ControlError(400, error instanceof Error ? error.message : String(error));
    });
    res.status(202).json({ messageId: delivery.messageId });
  });
  router.post('/conversations/:conversationId/typing', async (req, res) => {
    const conversationId = existingConversation(emulator, req);
    const { durationMs } = parse(typingSchema, req.body ?? {});
    const delivery = await emulator.agent.sendTyping(conversationId, durationMs);
    res.status(202).json({ messageId: delivery.messageId });
  });

  router.get('/inbound', (req, res) => {
    const query = parse(inboundQuerySchema, req.query);
    res.json(
      emulator.inbound({
        ...(query.integrationId !== undefined ? { integrationId: query.integrationId } : {}),
        ...(query.kind !== undefined ? { kind: query.kind as InboundKind } : {}),
        includeRejected: query.includeRejected === 'true',
      }),
    );
  });
  router.get('/deliveries', (_req, res) => {
    res.json(emulator.deliveries().map(deliveryView));
  });

  router.post('/faults', (req, res) => {
    try {
      emulator.faults.inject(req.body);
    } catch (error) {
      throw new ControlError(400, error instanceof Error ? error.message : String(error));
    }
    res.status(204).end();
  });
  router.post('/faults/expire-tokens', (_req, res) => {
    emulator.faults.expireTokens();
    res.status(204).end();
  });
  router.delete('/faults', (_req, res) => {
    emulator.faults.clear();
    res.status(204).end();
  });

  router.post('/reset', (_req, res) => {
    emulator.reset();
    res.status(204).end();
  });

  router.use((req, _res, next) => next(new ControlError(404, `No emulator route ${req.method} ${req.originalUrl}`)));
  router.use((error: unknown, _req: Request, res: Response, next: NextFunction) => {
    if (error instanceof ControlError) return void res.status(error.status).json({ error: error.message });
    // body-parser errors (malformed JSON, too large) carry their status.
    const status = (error as { status?: unknown }).status;
    if (typeof status === 'number' && status >= 400 && status < 500) {
      return void res.status(status).json({ error: (error as Error).message });
    }
    next(error);
  });
  return router;
}

function parse<T>(schema: z.ZodType<T>, value: unknown): T {
  const result = schema.safeParse(value);
  if (!result.success) throw new ControlError(400, z.prettifyError(result.error));
  return result.data;
}

function existingConversation(emulator: GenesysEmulator, req: Request): string {
  const conversationId = String(req.params['conversationId']);
  if (!emulator.conversations().some((conversation) => conversation.id === conversationId)) {
    throw new ControlError(404, `Unknown conversation ${conversationId}`);
  }
  return conversationId;
}

/** A delivery as JSON: everything but the `done` promise. */
function deliveryView({ done: _done, ...delivery }: OutboundDelivery) {
  return { ...delivery, outcome: delivery.outcome ?? null };
}
