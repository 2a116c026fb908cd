/**
 * The four Open Messaging inbound endpoints (research/genesys.md §3). Each request goes through
 * the same steps as at Genesys: injected fault, bearer token, integration, body validation, and
 * only then is it applied. Every request is recorded with the answer it got.
 */
import { Router, type Request, type Response } from 'express';
import type { Logger } from '@parley/core';
import type { ConversationBook } from './conversations.js';
import { applyFault, type FaultPlan } from './faults.js';
import { errorAnswer, type EmulatorAnswer } from './genesys-errors.js';
import { readJsonBody, sendAnswer } from './http.js';
import { acceptInbound, type Accepted } from './inbound-accept.js';
import type { InboundLog } from './inbound-log.js';
import { inboundProblems } from './inbound-validation.js';
import type { TokenStore } from './oauth.js';
import type { InboundKind, Integration, RecordedInbound } from './types.js';

const PATHS: Record<InboundKind, string> = {
  message: 'message',
  receipt: 'receipt',
  event: 'event',
  'structured-response': 'structured/response',
};

/** The emulator state the inbound endpoints read and change. */
export interface InboundApiDeps {
  tokens: TokenStore;
  faults: FaultPlan;
  integration(id: string): Integration | undefined;
  conversations: ConversationBook;
  conversationOfOutbound(messageId: string): string | undefined;
  log: InboundLog;
  logger: Logger;
  /** Aborts injected delays when the emulator closes. */
  shutdown: AbortSignal;
  /** Called once the answer to an accepted request has been sent. */
  onAccepted(record: RecordedInbound): void;
}

/** The routes of the four inbound endpoints. */
export function inboundApi(deps: InboundApiDeps): Router {
  const router = Router();
  for (const [kind, path] of Object.entries(PATHS) as Array<[InboundKind, string]>) {
    router.post(`/api/v2/conversations/messages/:integrationId/inbound/open/${path}`, async (req, res) => {
      await handleInbound(kind, req, res, deps);
    });
  }
  return router;
}

async function handleInbound(kind: InboundKind, req: Request, res: Response, deps: InboundApiDeps): Promise<void> {
  const receivedAt = Date.now();
  const integrationId = String(req.params['integrationId']);
  const parsed = await readJsonBody(req, res);
  const outcome = parsed.ok
    ? await answerInbound(kind, integrationId, parsed.body, req, deps)
    : { answer: parsed.answer };

  const accepted = 'accepted' in outcome ? outcome.accepted : undefined;
  const answer: EmulatorAnswer = 'accepted' in outcome ? { status: 200, body: outcome.accepted.response } : outcome.answer;
  const record: RecordedInbound = {
    kind,
    integrationId,
    body: parsed.ok ? parsed.body : undefined,
    receivedAt,
    status: answer.status,
    response: answer.body,
    ...(accepted?.messageId !== undefined ? { messageId: accepted.messageId } : {}),
    ...(accepted?.conversationId !== undefined ? { conversationId: accepted.conversationId } : {}),
  };
  deps.log.add(record);
  logOutcome(deps.logger, record, outcome);

  if (accepted) res.once('finish', () => deps.onAccepted(record));
  sendAnswer(res, answer);
}

type InboundOutcome = { accepted: Accepted } | { answer: EmulatorAnswer; problems?: string[] };

async function answerInbound(
  kind: InboundKind,
  integrationId: string,
  body: unknown,
  req: Request,
  deps: InboundApiDeps,
): Promise<InboundOutcome> {
  const fault = deps.faults.take(kind);
  if (fault) {
    const failure = await applyFault(fault, deps.shutdown);
    if (failure) return { answer: failure };
  }

  const bearer = deps.tokens.checkBearer(req.headers.authorization);
  if (!bearer.ok) return { answer: bearer.answer };

  if (!deps.integration(integrationId)) {
    return { answer: errorAnswer(404, `Open Messaging integration ${integrationId} was not found.`) };
  }

  const problems = inboundProblems(kind, body);
  if (problems.length > 0) return { answer: errorAnswer(400, problems.join('; ')), problems };

  return {
    accepted: acceptInbound(kind, body, {
      integrationId,
      conversations: deps.conversations,
      conversationOfOutbound: deps.conversationOfOutbound,
      prefetchConversationId: kind === 'message' && req.query['prefetchConversationId'] === 'true',
    }),
  };
}

function logOutcome(logger: Logger, record: RecordedInbound, outcome: InboundOutcome): void {
  const fields = { kind: record.kind, integrationId: record.integrationId, status: record.status };
  if ('accepted' in outcome) {
    const level = record.kind === 'message' || record.kind === 'structured-response' ? 'info' : 'debug';
    logger[level]({ ...fields, messageId: record.messageId, conversationId: record.conversationId }, `inbound ${record.kind} accepted`);
  } else if (outcome.problems) {
    // A client sending a body Genesys refuses is the bug this emulator exists to catch.
    logger.info({ ...fields, problems: outcome.problems }, `inbound ${record.kind} rejected`);
  } else {
    logger.debug(fields, `inbound ${record.kind} refused`);
  }
}
