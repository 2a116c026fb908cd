/** Small express helpers shared by the emulator's routes. */
import express, { type Request, type Response } from 'express';
import { errorAnswer, type EmulatorAnswer } from './genesys-errors.js';

/** Genesys's `request.bytes.max` (research/genesys.md §9). */
export const MAX_BODY_BYTES = 512_000;

const readRaw = express.raw({ type: () => true, limit: MAX_BODY_BYTES });

/** A parsed JSON body, or the error answer to give instead. */
export type JsonBody = { ok: true; body: unknown } | { ok: false; answer: EmulatorAnswer };

/**
 * Reads and parses a JSON request body, answering 413 above {@link MAX_BODY_BYTES} and 400 for
 * an empty or malformed body, as Genesys does.
 */
export async function readJsonBody(req: Request, res: Response): Promise<JsonBody> {
  const error = await new Promise<unknown>((resolve) => readRaw(req, res, resolve));
  if (error) {
    const status = (error as { status?: unknown }).status === 413 ? 413 : 400;
    return { ok: false, answer: errorAnswer(status) };
  }
  const raw: unknown = req.body;
  if (!Buffer.isBuffer(raw) || raw.length === 0) {
    return { ok: false, answer: errorAnswer(400, 'A JSON request body is required.') };
  }
  try {
    return { ok: true, body: JSON.parse(raw.toString('utf8')) };
  } catch {
    return { ok: false, answer: errorAnswer(400) };
  }
}

/** Writes an {@link EmulatorAnswer} to the response. */
export function sendAnswer(res: Response, answer: EmulatorAnswer): void {
  if (answer.headers) res.set(answer.headers);
  res.status(answer.status).json(answer.body);
}
